"""GeoJSON geometry checks for the gazetteer: one validator for admin edits and for curated files."""
from __future__ import annotations

from mapapp import coords
from mapapp.errors import InvalidCoordinates, InvalidGeometry
from mapapp.params import load_json

ALL_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}


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
    # shapely (and numpy) are imported at the first check, not with the module: `mapapp serve` and the
    # web package import this module, and most of their requests never check a shape.
    import shapely
    from shapely.geometry import shape

    try:
        geom = shape(geometry)
    except (ValueError, TypeError, shapely.errors.ShapelyError) as error:
        raise check.fail(f"is not a valid geometry: {error}") from None
    if geom.is_empty:
        raise check.fail("is empty")
    if not geom.is_valid:
        raise check.fail(f"is not valid: {shapely.is_valid_reason(geom)}")
    return geometry
