"""Finding places to edit: search by id or name prefix, with feature, country and source filters."""
from __future__ import annotations

import sqlite3

from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.place import CURATED_SOURCES, Place, read_places


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
    found = read_places(conn, [row["id"] for row in rows])
    return [found[row["id"]] for row in rows], total
