"""Editing the gazetteer: versioned create/update/delete/restore of places (validated, with history).

Every write runs in one transaction that also appends a `place_history` row (who, when, before, after; see
gazetteer.history) and bumps `meta.gazetteer_version`, so a failure anywhere leaves the old data and no
history behind. Each write carries the version the editor saw; if the stored place has moved on, the write
is refused with `Conflict` (409) carrying the current record, and the first edit survives. What is valid is
gazetteer.validation's to say; finding places to edit is gazetteer.search.
"""
from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mapapp.db import transaction
from mapapp.errors import Conflict, NotFound
from mapapp.gazetteer import history
from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.place import ADMIN_SOURCE, Place, read_place
from mapapp.gazetteer.records import insert_places, utc_now
from mapapp.gazetteer.validation import EDITABLE, clean_id, clean_place, clean_version

_SLUG_DROP = re.compile(r"[^a-z0-9]+")


def get_place(conn: sqlite3.Connection, place_id: str) -> Place:
    """The stored place, or NotFound."""
    place = read_place(conn, place_id)
    if place is None:
        raise NotFound(f"no place {place_id!r}", field="id")
    return place


def _store(conn, place: Place, user: str) -> None:
    """Upsert the place row and all its names (records.insert_places), stamped with who and when."""
    insert_places(conn, [place])
    conn.execute("UPDATE places SET updated_at = ?, updated_by = ? WHERE id = ?", (utc_now(), user, place.id))


def _conflict(conn, current: Place | None, expected: int) -> Conflict:
    if current is None:
        return Conflict("this place was deleted by someone else", field="version",
                        detail={"current": None, "expected_version": expected})
    return Conflict(f"this place was changed by someone else (now version {current.version}, you edited "
                    f"version {expected}); your change was not saved", field="version",
                    detail={"current": current.to_record(), "expected_version": expected})


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
        _store(conn, place, user)
        history.append(conn, place.id, 1, "create", user, None, place.to_record())
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
        before = current.to_record()
        place = replace(current, **values, source=ADMIN_SOURCE, version=current.version + 1)
        _store(conn, place, user)
        history.append(conn, place_id, place.version, action, user, before, place.to_record())
    return place


def delete_place(conn: sqlite3.Connection, place_id: str, expected_version, user: str) -> Place:
    """Delete a place edited at `expected_version` (its history keeps it restorable)."""
    expected = clean_version(expected_version)
    with transaction(conn):
        current = get_place(conn, place_id)
        if current.version != expected:
            raise _conflict(conn, current, expected)
        before = current.to_record()
        conn.execute("DELETE FROM places WHERE id = ?", (place_id,))
        history.append(conn, place_id, current.version, "delete", user, before, None)
    return current


def restore_version(conn: sqlite3.Connection, place_id: str, version, expected_version, user: str) -> Place:
    """Make the place look as it did at `version` (as a new version); works for deleted places too.

    `expected_version` is the version the editor saw: the current one, or for a deleted place the version
    that was deleted.
    """
    expected = clean_version(expected_version)
    with transaction(conn):
        rec = history.version_record(conn, place_id, version)
        current = read_place(conn, place_id)
        if current is not None:
            if current.version != expected:
                raise _conflict(conn, current, expected)
            latest, before = current.version, current.to_record()
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
        # Records written before records carried other_names: keep the stored ones then.
        stored = rec.get("other_names")
        other_names = tuple(tuple(pair) for pair in stored) if stored is not None else (
            current.other_names if current is not None else ())
        place = replace(place, other_names=other_names)
        _store(conn, place, user)
        history.append(conn, place_id, place.version, "restore", user, before, place.to_record())
    return place


def add_alias(conn: sqlite3.Connection, place_id: str, alias: str, expected_version, user: str) -> Place:
    """Add one alias to a place (a versioned update)."""
    with transaction(conn):
        current = get_place(conn, place_id)
        return update_place(conn, place_id, {"aliases": list(current.aliases) + [alias]}, expected_version,
                            user, action="alias")
