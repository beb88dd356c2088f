"""The history of places: one `place_history` row per change (who, when, the record before and after).

`append` is called by every write inside its own transaction (gazetteer.editing, curated import), so a
change and its history row are stored together or not at all; the rest reads what was kept.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from mapapp.errors import NotFound
from mapapp.gazetteer.place import read_place
from mapapp.gazetteer.records import bump_version, utc_now
from mapapp.gazetteer.validation import EDITABLE, clean_version


def _dump(rec: dict | None) -> str | None:
    return json.dumps(rec, ensure_ascii=False, sort_keys=True) if rec is not None else None


def append(conn: sqlite3.Connection, place_id: str, version: int, action: str, user: str, before: dict | None,
           after: dict | None) -> None:
    """Append one change of a place and bump the gazetteer version (call inside the writing transaction)."""
    conn.execute('INSERT INTO place_history (place_id, version, action, "user", at, before, after)'
                 " VALUES (?, ?, ?, ?, ?, ?, ?)", (place_id, version, action, user, utc_now(), _dump(before),
                                                   _dump(after)))
    bump_version(conn)


def history(conn: sqlite3.Connection, place_id: str) -> list[dict]:
    """Every change of a place, oldest first: id, version, action, user, at, before, after (dicts)."""
    return [_history_row(row) for row in conn.execute(
        "SELECT * FROM place_history WHERE place_id = ? ORDER BY id", (place_id,))]


def _history_row(row) -> dict:
    entry = dict(row)
    entry["before"] = json.loads(row["before"]) if row["before"] else None
    entry["after"] = json.loads(row["after"]) if row["after"] else None
    return entry


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
        return current.to_record()
    raise NotFound(f"place {place_id!r} has no version {version}", field="version")


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
