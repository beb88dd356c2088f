"""The one coordinate helper: geopy speaks (lat, lon), shapely and GeoJSON speak (lon, lat)."""
from __future__ import annotations

import math

from mapapp.errors import InvalidCoordinates


def _number(value, field: str) -> float:
    # bool is an int in Python, but a checkbox is not a coordinate.
    if isinstance(value, bool) or value is None:
        raise InvalidCoordinates(f"{field} must be a number", field=field)
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise InvalidCoordinates(f"{field} is required", field=field)
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float, e.g. 400 digits in a JSON body
        raise InvalidCoordinates(f"{field} must be a finite number", field=field) from None
    except (TypeError, ValueError):
        raise InvalidCoordinates(f"{field} must be a number, not {str(value)[:40]!r}", field=field) from None
    if not math.isfinite(number):
        raise InvalidCoordinates(f"{field} must be a finite number", field=field)
    return number


def check_lat_lon(lat, lon) -> tuple[float, float]:
    """Return (lat, lon) as floats, or raise InvalidCoordinates naming the bad field; never wraps."""
    lat_f = _number(lat, "lat")
    lon_f = _number(lon, "lon")
    if not -90.0 <= lat_f <= 90.0:
        raise InvalidCoordinates(f"lat must be within [-90, 90], got {lat_f}", field="lat")
    if not -180.0 <= lon_f <= 180.0:
        raise InvalidCoordinates(f"lon must be within [-180, 180], got {lon_f}", field="lon")
    return lat_f, lon_f


def lonlat(lat, lon) -> tuple[float, float]:
    """geopy order (lat, lon) -> shapely/GeoJSON order (lon, lat), range-checked."""
    lat_f, lon_f = check_lat_lon(lat, lon)
    return lon_f, lat_f


def latlon(x, y) -> tuple[float, float]:
    """shapely/GeoJSON order (x=lon, y=lat) -> geopy order (lat, lon), range-checked."""
    return check_lat_lon(y, x)


def point_geojson(lat, lon) -> dict:
    """A GeoJSON Point for (lat, lon)."""
    return {"type": "Point", "coordinates": list(lonlat(lat, lon))}


#: How deeply each GeoJSON geometry type nests its positions (a Point's coordinates are one position).
GEOJSON_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
                 "MultiPolygon": 3}


def geojson_bounds(geometry: dict) -> tuple[float, float, float, float] | None:
    """(min lon, min lat, max lon, max lat) of a GeoJSON geometry's positions, in plain Python (no shapely);
    None when it has none or is not a geometry."""
    try:
        positions = [geometry["coordinates"]]
        for _ in range(GEOJSON_DEPTH[geometry["type"]]):
            positions = [item for part in positions for item in part]
        lons = [position[0] for position in positions]
        lats = [position[1] for position in positions]
        return (min(lons), min(lats), max(lons), max(lats)) if lons else None
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return None
