"""The offline basemap: the gazetteer's country outlines, simplified once per gazetteer version."""
from __future__ import annotations

import json
import sqlite3

import numpy
import shapely
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape
from shapely.strtree import STRtree

from mapapp.cache import memoize

# Degrees: coarse enough for a backdrop (a few hundred kB for the world), fine enough to recognise countries.
DEFAULT_TOLERANCE = 0.05
# An approximate outline (a convex hull of an archipelago's places) larger than this, touching no real
# outline, is mostly ocean: drawn on a backdrop it is a triangle in the sea, so the backdrop leaves it out.
OCEAN_HULL_AREA = 10.0  # square degrees
_WORLD = box(-180, -90, 180, 90)


def _unwrapped(ring) -> tuple[list, int]:
    """The ring's points with longitudes shifted by ±360 so no step exceeds 180°, and the net shift in turns."""
    points, shift = [], 0
    for i, (x, y, *_rest) in enumerate(ring):
        if i:
            step = x + shift * 360 - points[-1][0]
            shift += -1 if step > 180 else 1 if step < -180 else 0
        points.append((x + shift * 360, y))
    return points, shift


def _split_polygon(polygon: Polygon) -> list[Polygon]:
    # Vectorised: the test runs over every point of every country at full detail, and almost none cross.
    longitudes = shapely.get_coordinates(polygon.exterior)[:, 0]
    if len(longitudes) < 2 or numpy.abs(numpy.diff(longitudes)).max() <= 180:
        return [polygon]
    exterior, turns = _unwrapped(polygon.exterior.coords)
    if turns:
        # The ring goes round a pole (Antarctica): close it along the pole's edge of the map.
        pole = -90 if sum(y for _x, y in exterior) < 0 else 90
        exterior = exterior + [(exterior[-1][0], pole), (exterior[0][0], pole), exterior[0]]
    holes = [_unwrapped(ring.coords)[0] for ring in polygon.interiors]
    unwrapped = shapely.make_valid(Polygon(exterior, holes))
    pieces = []
    for offset in (-360, 0, 360):
        # The part that lies in the world shifted by `offset`, moved back into [-180, 180].
        part = unwrapped.intersection(translate(_WORLD, xoff=offset))
        if not part.is_empty:
            pieces.extend(_polygons(translate(part, xoff=-offset)))
    return pieces


def _polygons(geom) -> list[Polygon]:
    if geom.geom_type == "Polygon":
        return [geom]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def split_antimeridian(geom):
    """`geom` (Polygon or MultiPolygon) with every polygon that crosses the 180° meridian cut there in two.

    A ring stored with a step from 179° to -179° would be drawn the long way round, across the whole map.
    """
    polygons = _polygons(geom)
    pieces = [piece for polygon in polygons for piece in _split_polygon(polygon)]
    if len(pieces) == len(polygons):
        return geom  # nothing crossed
    return shapely.union_all([shapely.make_valid(piece) for piece in pieces])


def _version(conn: sqlite3.Connection) -> tuple:
    # An admin edit bumps meta.gazetteer_version; a rebuild changes the count or the newest version.
    row = conn.execute("SELECT value FROM meta WHERE key = 'gazetteer_version'").fetchone()
    count, newest = conn.execute(
        "SELECT COUNT(*), MAX(version) FROM places WHERE feature = 'country' AND geometry IS NOT NULL").fetchone()
    return (row[0] if row else "0", count, newest)


def outline(geometry_text: str, tolerance: float) -> dict | None:
    """A stored polygon shape simplified to `tolerance` degrees and cut at the antimeridian; None if not a polygon."""
    geom = _outline_shape(geometry_text, tolerance)
    return None if geom is None else mapping(geom)


def _outline_shape(geometry_text: str, tolerance: float):
    try:
        geom = shape(json.loads(geometry_text))
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException):
        return None  # a broken stored shape should not take the whole basemap down
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    try:
        geom = split_antimeridian(geom)
        geom = shapely.set_precision(shapely.make_valid(geom.simplify(tolerance, preserve_topology=True)), 0.001)
    except shapely.errors.GEOSException:
        return None
    geom = MultiPolygon(_polygons(geom)) if geom.geom_type == "GeometryCollection" else geom
    return None if geom.is_empty else geom


def country_outlines(conn: sqlite3.Connection, database: str, *, tolerance: float = DEFAULT_TOLERANCE) -> dict:
    """A FeatureCollection of every country with a polygon (properties: name only), cached per version."""
    return _country_outlines(conn, database, tolerance)


# once: the first page views after a start all ask for the backdrop; one computes it (seconds), the rest wait for
# it rather than each tying up a server thread with the same work.
@memoize("country outlines", key=lambda conn, database, tolerance: (database, tolerance, _version(conn)), once=True)
def _country_outlines(conn: sqlite3.Connection, database: str, tolerance: float) -> dict:
    outlines = []
    for row in conn.execute("SELECT id, name, approximate, geometry FROM places WHERE feature = 'country'"
                            " AND geometry IS NOT NULL ORDER BY id"):
        geom = _outline_shape(row["geometry"], tolerance)
        if geom is not None:
            outlines.append((row, geom))
    real = STRtree([geom for row, geom in outlines if not row["approximate"]])
    features = []
    for row, geom in outlines:
        if row["approximate"]:
            if geom.area > OCEAN_HULL_AREA and not len(real.query(geom, predicate="dwithin", distance=0.5)):
                continue
        features.append({"type": "Feature", "id": row["id"], "geometry": mapping(geom),
                         "properties": {"name": row["name"]}})
    return {"type": "FeatureCollection", "features": features}
