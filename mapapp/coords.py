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
