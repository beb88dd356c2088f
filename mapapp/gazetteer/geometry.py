"""Shapes of the gazetteer: the GeoJSON validator for admin edits and curated files (`check_geometry`),
and the shape helpers the build derives outlines and points with (tidy, divisions, centres)."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import shapely
from shapely.geometry import MultiPoint, shape

from mapapp import coords
from mapapp.errors import InvalidCoordinates, InvalidGeometry
from mapapp.params import load_json

ALL_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
_DEPTH = coords.GEOJSON_DEPTH


class _Checker:
    """One check: the error label and field, and a running count of positions against an optional cap."""

    def __init__(self, label: str, field: str, max_positions: int | None):
        self.label, self.field, self.max_positions, self.count = label, field, max_positions, 0

    def fail(self, message: str) -> InvalidGeometry:
        return InvalidGeometry(f"{self.label} {message}", field=self.field)

    def positions(self, coordinates, depth: int):
        """Nested coordinate arrays of `depth`, each position range-checked, as lists of [lon, lat]."""
        if not isinstance(coordinates, list):
            raise self.fail("coordinates must be nested arrays")
        if depth:
            return [self.positions(item, depth - 1) for item in coordinates]
        if len(coordinates) not in (2, 3):
            raise self.fail("position must be [longitude, latitude]")
        self.count += 1
        if self.max_positions and self.count > self.max_positions:
            raise self.fail(f"has more than {self.max_positions} positions")
        try:
            lat, lon = coords.latlon(coordinates[0], coordinates[1])
        except InvalidCoordinates as error:
            raise self.fail(f"position {repr(coordinates[:2])[:60]} is outside the map: {error.message}") from None
        # Numbers stay as written (a curated file round-trips unchanged); numeric text becomes a float.
        return [given if type(given) in (int, float) else checked
                for given, checked in zip(coordinates[:2], (lon, lat))]

    def rings(self, polygon: list) -> None:
        # shapely closes an open ring silently; GeoJSON requires closed rings of at least four positions.
        if not polygon:
            raise self.fail("is not valid GeoJSON: a polygon needs at least one ring")
        for ring in polygon:
            if len(ring) < 4:
                raise self.fail("is not valid GeoJSON: a polygon ring needs at least 4 positions")
            if ring[0] != ring[-1]:
                raise self.fail("is not valid GeoJSON: a polygon ring must be closed (last position = first)")


def check_geometry(value, *, types=ALL_TYPES, field: str = "geometry", label: str | None = None,
                   max_positions: int | None = None) -> dict | None:
    """A valid GeoJSON geometry of one of `types` (from a dict, JSON text or a Feature), None for none;
    else InvalidGeometry naming `field`, with shapely's is_valid_reason for invalid shapes."""
    check = _Checker(label or field, field, max_positions)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        value = load_json(value, field, label=check.label, error=InvalidGeometry)
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
        if value is None:
            return None
    if not isinstance(value, dict):
        raise check.fail("must be a GeoJSON geometry object")
    kind = value.get("type")
    if kind not in types:
        raise check.fail(f"must be a GeoJSON geometry; type must be one of {', '.join(types)}, "
                         f"not {str(kind)[:40]!r}")
    coordinates = check.positions(value.get("coordinates"), _DEPTH[kind])
    if not coordinates:
        raise check.fail("is empty")
    if kind == "Polygon":
        check.rings(coordinates)
    elif kind == "MultiPolygon":
        for polygon in coordinates:
            check.rings(polygon)
    elif kind == "LineString" and len(coordinates) < 2:
        raise check.fail("needs at least 2 positions for a line")
    elif kind == "MultiLineString" and any(len(line) < 2 for line in coordinates):
        raise check.fail("needs at least 2 positions for each line")
    geometry = {"type": kind, "coordinates": coordinates}
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, shapely.errors.ShapelyError) as error:
        raise check.fail(f"is not a valid geometry: {error}") from None
    if geom.is_empty:
        raise check.fail("is empty")
    if not geom.is_valid:
        raise check.fail(f"is not valid: {shapely.is_valid_reason(geom)}")
    return geometry


def tidy_geometry(geom, *, tolerance: float = 0.01, grid: float = 0.0001):
    """Simplify, repair and round a shapely geometry; None when nothing valid remains."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    geom = geom.simplify(tolerance, preserve_topology=True)
    geom = shapely.set_precision(geom, grid)
    if geom.geom_type == "GeometryCollection":
        polys = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.unary_union(polys) if polys else None
    if geom is None or geom.is_empty or not geom.is_valid:
        return None
    return geom


def division_shape(points: list[tuple[float, float]]):
    """An approximate region around a division's places: buffered convex hull (None for a single place)."""
    unique = set(points)
    if len(unique) < 2:
        return None
    hull = MultiPoint(list(unique)).convex_hull.buffer(0.05, quad_segs=2)
    return tidy_geometry(hull, tolerance=0.005, grid=0.001)


def division_shapes(groups: dict, outline, others=()) -> dict:
    """Shapes of one country's divisions from their places' (lon, lat) points, by label.

    With the country's outline: the union of the Voronoi cells of each division's places, clipped to the
    outline, so that neighbours tile the country instead of overlapping (`others`, the country's places of
    no division, keep their own cells). Without one: buffered hulls.
    """
    owner: dict[tuple[float, float], object] = {}
    for label, points in groups.items():
        for point in points:
            owner.setdefault(point, label)
    for point in others:
        owner.setdefault(point, None)
    shapes = {}
    if outline is not None and len(owner) >= 3:
        coords = list(owner)
        cells = shapely.voronoi_polygons(MultiPoint(coords), ordered=True,
                                         extend_to=shapely.box(*outline.buffer(1.0).bounds))
        cells = np.asarray(cells.geoms)
        if len(cells) == len(coords):
            members = defaultdict(list)
            for index, point in enumerate(coords):
                members[owner[point]].append(index)
            members.pop(None, None)
            for label, indices in members.items():
                try:
                    region = shapely.coverage_union_all(cells[indices]).intersection(outline)
                except shapely.errors.GEOSException:
                    continue
                shapes[label] = tidy_geometry(region, tolerance=0.01, grid=0.001)
    return {label: shapes.get(label) or division_shape(points) for label, points in groups.items()}


def area_centre(geom):
    """The centre of area of a lon/lat shape: its centroid in the cylindrical equal-area projection.

    A centroid taken in plain degrees weighs a square degree near the pole as much as one at the equator,
    which drags the points of large northern regions hundreds of km poleward (Russia, Canada, China).
    """
    projected = shapely.transform(geom, lambda xy: np.column_stack([xy[:, 0], np.sin(np.radians(xy[:, 1]))]))
    centre = projected.centroid
    return shapely.Point(centre.x, float(np.degrees(np.arcsin(np.clip(centre.y, -1.0, 1.0)))))


def country_point(geom, fallback: tuple[float, float]) -> tuple[float, float]:
    """A country's (lat, lon): the centre of area of its main landmass, else countryinfo's (whole-degree) point.

    The main landmass keeps outlying territories (Alaska, Hawaii) from pulling the point away.
    """
    if geom is None:
        return fallback
    main = max(geom.geoms, key=lambda part: part.area) if geom.geom_type == "MultiPolygon" else geom
    centre = area_centre(main)
    if main.contains(centre):
        return round(centre.y, 5), round(centre.x, 5)
    if geom.contains(shapely.Point(fallback[1], fallback[0])):
        return fallback
    return representative(geom, fallback)


def representative(geom, fallback: tuple[float, float]) -> tuple[float, float]:
    """(lat, lon) of a point inside `geom`: its centre of area when inside, else a representative point."""
    if geom is None:
        return fallback
    point = area_centre(geom)
    if not geom.contains(point):
        point = geom.representative_point()
    return round(point.y, 5), round(point.x, 5)
