"""Editing the gazetteer: validated, versioned create/update/delete/restore of places, with their history.

Every write runs in one transaction that also appends a `place_history` row (who, when, before, after) and
bumps `meta.gazetteer_version`, so a failure anywhere leaves the old data and no history behind. Each write
carries the version the editor saw; if the stored place has moved on, the write is refused with
`Conflict` (409) carrying the current record, and the first edit survives.

Names: text is stored in Unicode NFC with runs of whitespace collapsed. Names and aliases that contain
invisible control or format characters (zero-width spaces, bidi overrides and isolates such as U+202E, BOMs,
private-use or unassigned code points) are *rejected* with a field-named error rather than silently stripped,
so that an editor sees exactly what is stored; ZWNJ/ZWJ (U+200C/U+200D) are allowed because Persian and
Indic spellings need them. Right-to-left letters (Arabic, Hebrew, ...) are ordinary text and allowed.
"""
from __future__ import annotations

import json
import math
import re
import sqlite3
import unicodedata
from dataclasses import replace
from typing import Any, Iterable, Mapping


from mapapp import coords
from mapapp.db import transaction
from mapapp.errors import Conflict, InvalidCoordinates, InvalidGeometry, InvalidInput, InvalidPlace, NotFound
from mapapp.escaping import is_invisible
from mapapp.gazetteer.geometry import check_geometry
from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.place import Place
from mapapp.gazetteer.records import bump_version, insert_places, name_rows, utc_now

MAX_NAME = 200
MAX_ALIASES = 100
MAX_NOTES = 5000
MAX_POPULATION = 10_000_000_000
MAX_POSITIONS = 50_000
EDITABLE = ("name", "aliases", "feature", "country_code", "population", "notes", "lat", "lon", "geometry")
SHAPE_TYPES = ("Polygon", "MultiPolygon", "LineString", "MultiLineString")
# Feature classes the maps know how to draw; the database may add its own (see feature_classes()).
FEATURES = ("continent", "country", "admin1", "admin2", "region", "city", "town", "village", "water",
            "physical", "route", "building", "other")
ADMIN_SOURCE = "admin"
CURATED_SOURCES = ("curated", ADMIN_SOURCE)
_ID = re.compile(r"^[a-z0-9]{1,16}:[A-Za-z0-9._\-]{1,100}$")
_SLUG_DROP = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")


# ------------------------------------------------------------------------------------------- validation
class _Errors:
    """Collects field errors so that a form can show all of them at once."""

    def __init__(self):
        self.fields: dict[str, str] = {}

    def capture(self, field: str, func, *args):
        try:
            return func(*args)
        except InvalidInput as error:
            self.fields.setdefault(error.field or field, error.message)
            return None

    def raise_if_any(self):
        if self.fields:
            field, message = next(iter(self.fields.items()))
            cls = InvalidGeometry if field == "geometry" else (
                InvalidCoordinates if field in ("lat", "lon") else InvalidPlace)
            raise cls(message, field=field, detail={"errors": dict(self.fields)})


def clean_text(value, field: str, *, limit: int, required: bool = False, multiline: bool = False) -> str:
    """NFC text within `limit` characters; names refuse invisible control/format characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    text = unicodedata.normalize("NFC", value)
    for ch in text:
        if multiline and ch in "\n\r\t":
            continue
        if is_invisible(ch):
            raise InvalidInput(f"{field} contains an invisible control character U+{ord(ch):04X}", field=field)
    text = text.strip() if multiline else _SPACES.sub(" ", text).strip()
    if required and not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters ({len(text)})", field=field)
    return text


def clean_aliases(value, name: str) -> tuple[str, ...]:
    """A list of alias strings (or one per line), cleaned, without duplicates or the name itself."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, (list, tuple)):
        raise InvalidInput("aliases must be a list of names", field="aliases")
    if len(value) > MAX_ALIASES:
        raise InvalidInput(f"at most {MAX_ALIASES} aliases", field="aliases")
    seen = {normalise_name(name)}
    aliases = []
    for item in value:
        alias = clean_text(item, "aliases", limit=MAX_NAME)
        key = normalise_name(alias)
        if alias and key and key not in seen:
            seen.add(key)
            aliases.append(alias)
    return tuple(aliases)


def clean_population(value) -> int:
    """A whole number of people in [0, 10^10]; empty means 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, bool):
        raise InvalidInput("population must be a whole number", field="population")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidInput("population must be a whole number", field="population")
        value = int(value)
    if isinstance(value, str):
        if not re.fullmatch(r"\s*\d{1,11}\s*", value):
            raise InvalidInput(f"population must be a whole number, not {value[:40]!r}", field="population")
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_POPULATION:
        raise InvalidInput("population must be a whole number between 0 and 10^10", field="population")
    return value


def clean_country(value) -> str | None:
    """An ISO 3166-1 alpha-2 code (upper-cased), or None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}", value.strip()):
        raise InvalidInput("country must be a two-letter ISO 3166-1 code", field="country_code")
    code = value.strip().upper()
    import pycountry

    if code != "XK" and pycountry.countries.get(alpha_2=code) is None:
        raise InvalidInput(f"country {code!r} is not an ISO 3166-1 code", field="country_code")
    return code


def clean_feature(value, known: Iterable[str]) -> str:
    """One of the known feature classes."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("feature is required", field="feature")
    feature = value.strip()
    if feature not in set(known):
        raise InvalidInput(f"unknown feature class {feature[:40]!r}", field="feature")
    return feature


def clean_version(value) -> int:
    """The version number an editor saw (a positive integer)."""
    if isinstance(value, bool):
        raise InvalidInput("version must be a whole number", field="version")
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,9}\s*", value):
        value = int(value)
    if not isinstance(value, int) or value < 1:
        raise InvalidInput("version is required (the version you edited)", field="version")
    return value


def clean_id(value) -> str:
    """An explicit place id such as 'admin:zorvanik' (prefix, colon, letters/digits/._-)."""
    if not isinstance(value, str) or not _ID.fullmatch(value.strip()):
        raise InvalidInput("id must look like 'admin:zorvanik' (prefix:letters, digits, . _ -)", field="id")
    return value.strip()


def clean_geometry(value) -> dict | None:
    """A valid GeoJSON Polygon/MultiPolygon/LineString/MultiLineString (or a Feature of one), or None."""
    return check_geometry(value, types=SHAPE_TYPES, label="shape", max_positions=MAX_POSITIONS)


def feature_classes(conn: sqlite3.Connection) -> list[str]:
    """The feature classes an editor may choose: the standard ones plus any the database uses."""
    stored = {row[0] for row in conn.execute("SELECT DISTINCT feature FROM places")}
    return sorted(set(FEATURES) | stored)


def clean_place(conn: sqlite3.Connection, data: Mapping[str, Any], *, base: Place | None = None) -> dict:
    """Validate the editable fields of `data` (missing ones come from `base`); all field errors at once."""
    values = {key: (data[key] if key in data else (base.to_record()[key] if base else None))
              for key in EDITABLE}
    errors = _Errors()
    out: dict[str, Any] = {}
    out["name"] = errors.capture("name", lambda: clean_text(values["name"], "name", limit=MAX_NAME,
                                                             required=True))
    out["aliases"] = errors.capture("aliases", clean_aliases, values["aliases"], out["name"] or "")
    out["feature"] = errors.capture("feature", clean_feature, values["feature"], feature_classes(conn))
    out["country_code"] = errors.capture("country_code", clean_country, values["country_code"])
    out["population"] = errors.capture("population", clean_population, values["population"])
    out["notes"] = errors.capture("notes", lambda: clean_text(values["notes"], "notes", limit=MAX_NOTES,
                                                               multiline=True))
    latlon = errors.capture("lat", coords.check_lat_lon, values["lat"], values["lon"])
    out["lat"], out["lon"] = latlon or (None, None)
    out["geometry"] = errors.capture("geometry", clean_geometry, values["geometry"])
    errors.raise_if_any()
    out["aliases"] = out["aliases"] or ()
    return out


# ------------------------------------------------------------------------------------------ reading
def read_place(conn: sqlite3.Connection, place_id: str) -> Place | None:
    """The stored place with its editable aliases, or None."""
    row = conn.execute("SELECT * FROM places WHERE id = ?", (place_id,)).fetchone()
    if row is None:
        return None
    aliases = [r["name"] for r in conn.execute(
        "SELECT name FROM place_names WHERE place_id = ? AND kind = 'alias' ORDER BY name", (place_id,))]
    return Place.from_row(row, aliases)


def _other_names(conn, place_id: str) -> list[list[str]]:
    # Abbreviations and demonyms are not edited here but must survive a delete + restore.
    return [[r["name"], r["kind"]] for r in conn.execute(
        "SELECT name, kind FROM place_names WHERE place_id = ? AND kind NOT IN ('name', 'alias') "
        "ORDER BY kind, name", (place_id,))]


def record(conn: sqlite3.Connection, place: Place) -> dict:
    """The JSON record of a stored place as history keeps it (Place.to_record() + other_names)."""
    rec = place.to_record()
    rec["other_names"] = _other_names(conn, place.id)
    return rec


def get_place(conn: sqlite3.Connection, place_id: str) -> Place:
    """The stored place, or NotFound."""
    place = read_place(conn, place_id)
    if place is None:
        raise NotFound(f"no place {place_id!r}", field="id")
    return place


# ------------------------------------------------------------------------------------------ writing
def _store(conn, place: Place, other_names: list[list[str]] | None, user: str) -> None:
    """Upsert the place row and its names; other_names None keeps its abbreviations and demonyms."""
    if other_names is None:
        other_names = _other_names(conn, place.id)
    insert_places(conn, [place])  # the row, its name and aliases (other names are dropped: re-added below)
    kinds: dict[str, list[str]] = {}
    for name, kind in other_names:
        kinds.setdefault(kind, []).append(name)
    conn.executemany("INSERT OR IGNORE INTO place_names (place_id, name, key, kind) VALUES (?, ?, ?, ?)",
                     [row for row in name_rows(place.id, place.name, kinds=kinds) if row[3] != "name"])
    conn.execute("UPDATE places SET updated_at = ?, updated_by = ? WHERE id = ?", (utc_now(), user, place.id))


def _history(conn, place_id: str, version: int, action: str, user: str, before: dict | None,
             after: dict | None) -> None:
    dump = (lambda rec: json.dumps(rec, ensure_ascii=False, sort_keys=True) if rec is not None else None)
    conn.execute("INSERT INTO place_history (place_id, version, action, user, at, before, after)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)", (place_id, version, action, user, utc_now(), dump(before),
                                                   dump(after)))
    bump_version(conn)


def _conflict(conn, current: Place | None, expected: int) -> Conflict:
    if current is None:
        return Conflict("this place was deleted by someone else", field="version",
                        detail={"current": None, "expected_version": expected})
    return Conflict(f"this place was changed by someone else (now version {current.version}, you edited "
                    f"version {expected}); your change was not saved", field="version",
                    detail={"current": record(conn, current), "expected_version": expected})


def _new_id(conn, name: str) -> str:
    slug = _SLUG_DROP.sub("-", normalise_name(name)).strip("-")[:60] or "place"
    candidate, n = f"{ADMIN_SOURCE}:{slug}", 1
    while _id_taken(conn, candidate):
        n += 1
        candidate = f"{ADMIN_SOURCE}:{slug}-{n}"
    return candidate


def _id_taken(conn, place_id: str) -> bool:
    return bool(conn.execute("SELECT 1 FROM places WHERE id = ? UNION ALL "
                             "SELECT 1 FROM place_history WHERE place_id = ? LIMIT 1", (place_id, place_id)).fetchone())


def propose(conn: sqlite3.Connection, data: Mapping[str, Any], place_id: str | None = None) -> Place:
    """The Place that saving `data` would store (validated, nothing written); for the impact preview."""
    base = read_place(conn, place_id) if place_id else None
    if place_id and base is None:
        raise NotFound(f"no place {place_id!r}", field="id")
    values = clean_place(conn, data, base=base)
    if base is not None:
        return replace(base, **values, source=ADMIN_SOURCE, version=base.version + 1)
    new_id = clean_id(data["id"]) if data.get("id") else f"{ADMIN_SOURCE}:new"
    return Place(id=new_id, source=ADMIN_SOURCE, version=1, **values)


def create_place(conn: sqlite3.Connection, data: Mapping[str, Any], user: str) -> Place:
    """Validate and store a new place (version 1, source 'admin'); Conflict (409) if the id exists."""
    values = clean_place(conn, data)
    explicit = clean_id(data["id"]) if data.get("id") else None
    with transaction(conn):
        if explicit and _id_taken(conn, explicit):
            deleted = read_place(conn, explicit) is None
            raise Conflict(f"id {explicit!r} is already used" + (" by a deleted place: restore it instead"
                                                                  if deleted else ""), field="id")
        place = Place(id=explicit or _new_id(conn, values["name"]), source=ADMIN_SOURCE, version=1, **values)
        _store(conn, place, None, user)
        _history(conn, place.id, 1, "create", user, None, record(conn, place))
    return place


def update_place(conn: sqlite3.Connection, place_id: str, data: Mapping[str, Any], expected_version,
                 user: str, *, action: str = "update") -> Place:
    """Validate and store new values for a place edited at `expected_version`; Conflict if it moved on."""
    expected = clean_version(expected_version)
    with transaction(conn):
        current = get_place(conn, place_id)
        values = clean_place(conn, data, base=current)
        if current.version != expected:
            raise _conflict(conn, current, expected)
        before = record(conn, current)
        place = replace(current, **values, source=ADMIN_SOURCE, version=current.version + 1)
        _store(conn, place, None, user)
        _history(conn, place_id, place.version, action, user, before, record(conn, place))
    return place


def delete_place(conn: sqlite3.Connection, place_id: str, expected_version, user: str) -> Place:
    """Delete a place edited at `expected_version` (its history keeps it restorable)."""
    expected = clean_version(expected_version)
    with transaction(conn):
        current = get_place(conn, place_id)
        if current.version != expected:
            raise _conflict(conn, current, expected)
        before = record(conn, current)
        conn.execute("DELETE FROM places WHERE id = ?", (place_id,))
        _history(conn, place_id, current.version, "delete", user, before, None)
    return current


def version_record(conn: sqlite3.Connection, place_id: str, version: int) -> dict:
    """The place's record as it was at `version` (from its history), or NotFound."""
    version = clean_version(version)
    for row in conn.execute("SELECT before, after FROM place_history WHERE place_id = ? ORDER BY id",
                            (place_id,)):
        for text in (row["after"], row["before"]):
            rec = json.loads(text) if text else None
            if rec and rec.get("version") == version:
                return rec
    current = read_place(conn, place_id)
    if current is not None and current.version == version:
        return record(conn, current)
    raise NotFound(f"place {place_id!r} has no version {version}", field="version")


def restore_version(conn: sqlite3.Connection, place_id: str, version, expected_version, user: str) -> Place:
    """Make the place look as it did at `version` (as a new version); works for deleted places too.

    `expected_version` is the version the editor saw: the current one, or for a deleted place the version
    that was deleted.
    """
    expected = clean_version(expected_version)
    with transaction(conn):
        rec = version_record(conn, place_id, version)
        current = read_place(conn, place_id)
        if current is not None:
            if current.version != expected:
                raise _conflict(conn, current, expected)
            latest, before = current.version, record(conn, current)
        else:
            latest = conn.execute("SELECT max(version) FROM place_history WHERE place_id = ?",
                                  (place_id,)).fetchone()[0] or 0
            if latest != expected:
                raise _conflict(conn, None, expected)
            before = None
        fields = {key: rec.get(key) for key in EDITABLE}
        fields["aliases"] = tuple(rec.get("aliases") or ())
        place = Place(id=place_id, feature_code=rec.get("feature_code") or "", admin1=rec.get("admin1") or "",
                      admin2=rec.get("admin2") or "", approximate=bool(rec.get("approximate")),
                      source=ADMIN_SOURCE, version=latest + 1, **fields)
        # Records written by other tools (import) carry no other_names: keep the stored ones then.
        _store(conn, place, rec.get("other_names"), user)
        _history(conn, place_id, place.version, "restore", user, before, record(conn, place))
    return place


def add_alias(conn: sqlite3.Connection, place_id: str, alias: str, expected_version, user: str) -> Place:
    """Add one alias to a place (a versioned update)."""
    with transaction(conn):
        current = get_place(conn, place_id)
        return update_place(conn, place_id, {"aliases": list(current.aliases) + [alias]}, expected_version,
                            user, action="alias")


# ------------------------------------------------------------------------------------------ history
def history(conn: sqlite3.Connection, place_id: str) -> list[dict]:
    """Every change of a place, oldest first: id, version, action, user, at, before, after (dicts)."""
    return [_history_row(row) for row in conn.execute(
        "SELECT * FROM place_history WHERE place_id = ? ORDER BY id", (place_id,))]


def _history_row(row) -> dict:
    entry = dict(row)
    entry["before"] = json.loads(row["before"]) if row["before"] else None
    entry["after"] = json.loads(row["after"]) if row["after"] else None
    return entry


def versions(conn: sqlite3.Connection, place_id: str) -> list[int]:
    """Every version number of a place that can be viewed or restored."""
    found = set()
    for entry in history(conn, place_id):
        for rec in (entry["before"], entry["after"]):
            if rec:
                found.add(rec["version"])
    current = read_place(conn, place_id)
    if current is not None:
        found.add(current.version)
    return sorted(found)


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[tuple[str, Any, Any]]:
    """(field, old value, new value) for every field that differs between two records."""
    old, new = old or {}, new or {}
    fields = [*EDITABLE, "feature_code", "admin1", "admin2", "approximate", "source", "version"]
    return [(field, old.get(field), new.get(field)) for field in fields if old.get(field) != new.get(field)]


def deleted_places(conn: sqlite3.Connection) -> list[dict]:
    """Places whose last history entry is a delete and that are not stored now, newest first."""
    rows = conn.execute(
        "SELECT h.* FROM place_history h JOIN (SELECT place_id, max(id) AS id FROM place_history"
        " GROUP BY place_id) last ON last.id = h.id WHERE h.action = 'delete'"
        " AND h.place_id NOT IN (SELECT id FROM places) ORDER BY h.id DESC").fetchall()
    return [_history_row(row) for row in rows]


# ------------------------------------------------------------------------------------------ browsing
def sources(conn: sqlite3.Connection) -> list[str]:
    """Every source that stored places come from."""
    return [row[0] for row in conn.execute("SELECT DISTINCT source FROM places ORDER BY source")]


def search_places(conn: sqlite3.Connection, *, q: str = "", feature: str = "", country: str = "",
                  source: str = "", limit: int = 50, offset: int = 0) -> tuple[list[Place], int]:
    """Places with id `q` or a name/alias starting with `q`, filtered; exact names, then big places first.

    `source` is a stored source, or "curated" (curated file and admin edits) or "base" (everything else).
    Names match by prefix of their normalised key, so that the primary-key index answers at any size.
    """
    where, params = [], []
    key = normalise_name(q or "")
    if key:
        where.append("(p.id = ? OR p.id IN (SELECT place_id FROM place_names WHERE key >= ? AND key < ?))")
        params += [q.strip(), key, key + "\U0010ffff"]
    if feature:
        where.append("p.feature = ?")
        params.append(feature)
    if country:
        where.append("p.country_code = ?")
        params.append(country.upper())
    if source == "curated":
        where.append(f"p.source IN ({', '.join('?' * len(CURATED_SOURCES))})")
        params += CURATED_SOURCES
    elif source == "base":
        where.append(f"p.source NOT IN ({', '.join('?' * len(CURATED_SOURCES))})")
        params += CURATED_SOURCES
    elif source:
        where.append("p.source = ?")
        params.append(source)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    total = conn.execute(f"SELECT count(*) FROM places p {clause}", params).fetchone()[0]
    rows = conn.execute(
        f"SELECT p.id FROM places p {clause} ORDER BY p.id IN (SELECT place_id FROM place_names WHERE key = ?) DESC,"
        f" p.population DESC, p.name LIMIT ? OFFSET ?", [*params, key, int(limit), int(offset)]).fetchall()
    return [read_place(conn, row["id"]) for row in rows], total
