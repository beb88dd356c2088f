"""A place and its names: the Place record, and the one way to read places from the gazetteer tables.

Fields and their one meaning:
- `name`: the place's main name (its `place_names` row of kind 'name');
- `aliases`: its other names of kind 'alias', sorted when read from the database (what an editor edits and
  what a curated file lists);
- `other_names`: its names of every other kind, as (name, kind) pairs sorted by kind then name
  ('abbreviation', 'demonym': made by the build, kept by edits, never typed in the editor).

Readers: `read_place` / `read_places` (a `places` row with its names), `place_names` (the names alone);
describing a place in words: `feature_label`, `country_names`, `admin1_name`, `place_context`.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

# `source` of places an editor wrote in the admin; with "curated", the sources the curated file holds.
ADMIN_SOURCE = "admin"
CURATED_SOURCES = ("curated", ADMIN_SOURCE)
# Feature types in plain words for readers (the gazetteer keeps GeoNames' codes).
FEATURE_LABELS = {"admin1": "province or state", "admin2": "county or district"}
_CHUNK = 900  # ids per statement: below SQLite's parameter limit on any build


class _Geometry:
    """The `geometry` field: a GeoJSON dict, given as one or as its JSON text (what the database stores), then
    decoded on first read. A gazetteer read holds dozens of candidates for every one a parse keeps, and a
    country's outline is hundreds of kB: most are never looked at, and the kept ones are written out as
    stored (`Place.geometry_text`)."""

    def __get__(self, place, owner=None):
        if place is None:
            return None  # the dataclass field's default
        value = place.__dict__["_geometry"]
        if isinstance(value, str):
            value = json.loads(value)
            place.__dict__["_geometry"] = value  # decoding twice in two threads gives equal dicts: no lock
        return value

    def __set__(self, place, value) -> None:
        if isinstance(value, str):
            value = value or None  # an empty column is no shape
            place.__dict__["_geometry_text"] = value
        else:
            place.__dict__.pop("_geometry_text", None)
        place.__dict__["_geometry"] = value


@dataclass(frozen=True)
class Place:
    """One gazetteer entry; `geometry` is a GeoJSON geometry dict or None for a bare point."""

    id: str
    name: str
    feature: str
    lat: float
    lon: float
    feature_code: str = ""
    country_code: str | None = None
    admin1: str = ""
    admin2: str = ""
    population: int = 0
    geometry: dict | None = _Geometry()  # type: ignore[assignment]  # also accepts the JSON text
    approximate: bool = False
    source: str = ""
    notes: str = ""
    version: int = 1
    aliases: tuple[str, ...] = field(default=(), compare=False)
    other_names: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def geometry_type(self) -> str:
        """GeoJSON type of the place's shape ("Point" when it has none)."""
        text = self.__dict__.get("_geometry_text")
        if text and text.startswith('{"type":"'):
            # The object's first key is its type: read it without decoding the coordinates.
            kind = text[9:text.find('"', 9)]
            if kind.isalpha():
                return kind
        return self.geometry["type"] if self.geometry else "Point"

    def geometry_text(self) -> str | None:
        """The compact JSON that `places.geometry` stores, on one line (the stored text itself when the place was
        read from the database, not decoded and encoded again); None for a bare point."""
        text = self.__dict__.get("_geometry_text")
        if text and "\n" not in text:  # a line break only in text some other tool wrote
            return text
        geometry = self.geometry
        return json.dumps(geometry, separators=(",", ":")) if geometry else None

    def point_geometry(self) -> dict:
        """The shape, or a GeoJSON Point at (lat, lon) when there is none."""
        return self.geometry or {"type": "Point", "coordinates": [self.lon, self.lat]}

    def all_names(self) -> list[tuple[str, str]]:
        """Every (name, kind) of the place, its main name too, sorted by kind then name."""
        pairs = [(self.name, "name"), *((alias, "alias") for alias in self.aliases), *self.other_names]
        return sorted(set(pairs), key=lambda pair: (pair[1], pair[0]))

    def to_record(self) -> dict:
        """A JSON-ready dict of every field (what history and the API store and show)."""
        record = asdict(self)
        record["aliases"] = list(self.aliases)
        record["other_names"] = [list(pair) for pair in self.other_names]
        record["geometry_type"] = self.geometry_type
        return record

    @classmethod
    def from_row(cls, row, names: Iterable[tuple[str, str]] = ()) -> Place:
        """Build from a `places` row (sqlite3.Row or dict) and its (name, kind) pairs from `place_names`."""
        geometry = row["geometry"]  # JSON text, decoded on first use
        names = sorted((name, kind) for name, kind in names if kind != "name")
        return cls(
            id=row["id"], name=row["name"], feature=row["feature"], lat=row["lat"], lon=row["lon"],
            feature_code=row["feature_code"] or "", country_code=row["country_code"],
            admin1=row["admin1"] or "", admin2=row["admin2"] or "", population=row["population"] or 0,
            geometry=geometry, approximate=bool(row["approximate"]),
            source=row["source"], notes=row["notes"] or "", version=row["version"],
            aliases=tuple(name for name, kind in names if kind == "alias"),
            other_names=tuple(sorted(((name, kind) for name, kind in names if kind != "alias"),
                                     key=lambda pair: (pair[1], pair[0]))),
        )


def _chunks(values: list):
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def place_names(conn: sqlite3.Connection, place_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """Per place id, every (name, kind) pair it has in `place_names` (the main name too)."""
    ids = sorted(set(place_ids))
    found: dict[str, list[tuple[str, str]]] = {pid: [] for pid in ids}
    for chunk in _chunks(ids):
        for place_id, name, kind in conn.execute(
                f"SELECT place_id, name, kind FROM place_names WHERE place_id IN ({', '.join('?' * len(chunk))})",
                chunk):
            found[place_id].append((name, kind))
    return found


def read_places(conn: sqlite3.Connection, place_ids: Iterable[str]) -> dict[str, Place]:
    """The stored places with these ids, with their names, by id (unknown ids are left out)."""
    ids = sorted(set(place_ids))
    rows = []
    for chunk in _chunks(ids):
        rows += conn.execute(f"SELECT * FROM places WHERE id IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
    names = place_names(conn, [row["id"] for row in rows])
    return {row["id"]: Place.from_row(row, names[row["id"]]) for row in rows}


def read_place(conn: sqlite3.Connection, place_id: str) -> Place | None:
    """The stored place with this id and its names, or None."""
    row = conn.execute("SELECT * FROM places WHERE id = ?", (place_id,)).fetchone()
    if row is None:
        return None
    names = conn.execute("SELECT name, kind FROM place_names WHERE place_id = ?", (place_id,)).fetchall()
    return Place.from_row(row, [(name, kind) for name, kind in names])


def feature_label(feature: str | None) -> str:
    """The feature type in plain words: "province or state" for admin1; other types are words already."""
    return FEATURE_LABELS.get(feature or "", feature or "place")


def country_names(conn: sqlite3.Connection) -> dict[str, str]:
    """ISO country code -> the country's name in the gazetteer (the most populous place of that code wins)."""
    names: dict[str, str] = {}
    for code, name in conn.execute(
            "SELECT country_code, name FROM places WHERE feature = 'country' AND COALESCE(country_code, '') != ''"
            " ORDER BY population IS NULL, population DESC"):
        names.setdefault(code, name)
    return names


def admin1_name(conn: sqlite3.Connection, country_code: str, admin1: str) -> str:
    """The name of a country's first-level division (province or state) by its code; "" when unknown."""
    if not admin1:
        return ""
    row = conn.execute("SELECT name FROM places WHERE feature = 'admin1' AND country_code = ? AND admin1 = ?"
                       " LIMIT 1", (country_code, admin1)).fetchone()
    return row[0] if row else ""


def place_context(conn: sqlite3.Connection, places) -> dict[str, str]:
    """Per place id, where it is in words: "Sangamon County, Illinois, United States" (county, state, country)."""
    countries = country_names(conn)
    context = {}
    for place in places:
        parts = []
        code = place.country_code or ""
        if place.admin2 and place.feature not in ("admin2", "admin1", "country"):
            row = conn.execute("SELECT name FROM places WHERE feature = 'admin2' AND country_code = ? AND admin1 = ?"
                               " AND admin2 = ? LIMIT 1", (code, place.admin1, place.admin2)).fetchone()
            parts += [row[0]] if row else []
        if place.admin1 and place.feature not in ("admin1", "country"):
            parts += [name for name in (admin1_name(conn, code, place.admin1),) if name]
        if code and place.feature != "country":
            parts.append(countries.get(code, code))
        context[place.id] = ", ".join(parts)
    return context
