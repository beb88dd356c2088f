"""Writing places and their names to the `places` / `place_names` tables (shared by build, import and curated)."""
from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from datetime import datetime, timezone

from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.place import Place

PLACE_COLUMNS = ("id", "name", "feature", "feature_code", "country_code", "admin1", "admin2", "lat", "lon",
                 "population", "geometry", "approximate", "source", "notes", "version")
_INSERT_PLACE = (f"INSERT INTO places ({', '.join(PLACE_COLUMNS)}) VALUES ({', '.join('?' * len(PLACE_COLUMNS))}) "
                 "ON CONFLICT(id) DO UPDATE SET "
                 + ", ".join(f"{c} = excluded.{c}" for c in PLACE_COLUMNS if c != "id"))
_INSERT_NEW_PLACE = (f"INSERT INTO places ({', '.join(PLACE_COLUMNS)}) "
                     f"VALUES ({', '.join('?' * len(PLACE_COLUMNS))}) ON CONFLICT DO NOTHING")
_INSERT_NAME = "INSERT INTO place_names (place_id, name, key, kind) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
# Letters outside Latin script (Cyrillic, Arabic, CJK, ...): such names are left out to bound size and memory.
_NON_LATIN = re.compile(r"[^\u0000-\u024f\u1e00-\u1eff\u2000-\u206f\u02b0-\u02ff\u0300-\u036f]")


def is_latin(name: str) -> bool:
    """True when every character of `name` is Latin script, punctuation or a combining mark."""
    return not _NON_LATIN.search(name)


def place_row(place: Place) -> tuple:
    """The `places` row of a Place, in PLACE_COLUMNS order."""
    return (place.id, place.name, place.feature, place.feature_code, place.country_code, place.admin1,
            place.admin2, place.lat, place.lon, place.population, place.geometry_text(),
            int(place.approximate), place.source, place.notes, place.version)


def name_rows(place_id: str, name: str, aliases: Iterable[str] = (), *, kinds: dict[str, Iterable[str]] | None = None):
    """The `place_names` rows of a place: its name, aliases and other kinds; one row per (key, kind)."""
    seen: set[tuple[str, str]] = set()
    groups = [("name", [name]), ("alias", aliases), *((kinds or {}).items())]
    rows = []
    for kind, names in groups:
        for written in names:
            key = normalise_name(written) if written else ""
            if not key or len(key) > 200 or (key, kind) in seen:
                continue
            # An alias equal to the name adds nothing; a demonym or abbreviation is a different kind of name.
            if kind == "alias" and (key, "name") in seen:
                continue
            seen.add((key, kind))
            rows.append((place_id, written, key, kind))
    return rows


def place_name_rows(place: Place) -> list[tuple]:
    """The `place_names` rows of a Place: its name, aliases and other names (see gazetteer.place)."""
    kinds: dict[str, list[str]] = {}
    for name, kind in place.other_names:
        kinds.setdefault(kind, []).append(name)
    return name_rows(place.id, place.name, place.aliases, kinds=kinds)


def insert_places(conn: sqlite3.Connection, places: Iterable[Place]) -> int:
    """Insert or update places with their names (replacing their old names); returns how many."""
    count = 0
    for place in places:
        conn.execute("DELETE FROM place_names WHERE place_id = ?", (place.id,))
        conn.execute(_INSERT_PLACE, place_row(place))
        conn.executemany(_INSERT_NAME, place_name_rows(place))
        count += 1
    return count


def bulk_insert(conn: sqlite3.Connection, rows: list[tuple], names: list[tuple]) -> None:
    """Insert batches of fresh place rows (PLACE_COLUMNS order) and name rows, skipping ids already stored."""
    conn.executemany(_INSERT_NEW_PLACE, rows)
    conn.executemany(_INSERT_NAME, names)


def bump_version(conn: sqlite3.Connection) -> int:
    """Increment meta 'gazetteer_version' (call inside the writing transaction); returns the new version."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'gazetteer_version'").fetchone()
    version = int(row[0]) + 1 if row else 1
    conn.execute("INSERT INTO meta (key, value) VALUES ('gazetteer_version', ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(version),))
    return version


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Set one meta key."""
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 (key, value))


def utc_now() -> str:
    """The current UTC time as ISO 8601 (seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
