"""The offline basemap: the gazetteer's country outlines, simplified once per gazetteer version."""
from __future__ import annotations

import json
import sqlite3
import threading

import shapely
from shapely.geometry import mapping, shape

_cache: dict[tuple, dict] = {}
_lock = threading.Lock()

# Degrees: coarse enough for a backdrop (a few hundred kB for the world), fine enough to recognise countries.
DEFAULT_TOLERANCE = 0.05


def _version(conn: sqlite3.Connection) -> tuple:
    # An admin edit bumps meta.gazetteer_version; a rebuild changes the count or the newest version.
    row = conn.execute("SELECT value FROM meta WHERE key = 'gazetteer_version'").fetchone()
    count, newest = conn.execute(
        "SELECT COUNT(*), MAX(version) FROM places WHERE feature = 'country' AND geometry IS NOT NULL").fetchone()
    return (row[0] if row else "0", count, newest)


def _outline(geometry_text: str, tolerance: float) -> dict | None:
    try:
        geom = shape(json.loads(geometry_text))
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException):
        return None  # a broken stored shape should not take the whole basemap down
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    geom = shapely.set_precision(geom.simplify(tolerance, preserve_topology=True), 0.001)
    return None if geom.is_empty else mapping(geom)


def country_outlines(conn: sqlite3.Connection, database: str, *, tolerance: float = DEFAULT_TOLERANCE) -> dict:
    """A FeatureCollection of every country with a polygon (properties: name only), cached per version."""
    key = (database, tolerance, _version(conn))
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    features = []
    for row in conn.execute("SELECT id, name, geometry FROM places WHERE feature = 'country'"
                            " AND geometry IS NOT NULL ORDER BY id"):
        geometry = _outline(row["geometry"], tolerance)
        if geometry is not None:
            features.append({"type": "Feature", "id": row["id"], "geometry": geometry,
                             "properties": {"name": row["name"]}})
    collection = {"type": "FeatureCollection", "features": features}
    with _lock:
        for stale in [k for k in _cache if k[:2] == key[:2]]:
            del _cache[stale]
        _cache[key] = collection
    return collection
