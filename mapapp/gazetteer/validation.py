"""Validating what an editor sends for a place: every field cleaned, all field errors reported at once.

Names: text is stored in Unicode NFC with runs of whitespace collapsed. Names and aliases that contain
invisible control or format characters (zero-width spaces, bidi overrides and isolates such as U+202E, BOMs,
private-use or unassigned code points) are *rejected* with a field-named error rather than silently stripped,
so that an editor sees exactly what is stored; ZWNJ/ZWJ (U+200C/U+200D) are allowed because Persian and
Indic spellings need them. Right-to-left letters (Arabic, Hebrew, ...) are ordinary text and allowed.
"""
from __future__ import annotations

import math
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from mapapp import coords
from mapapp.errors import InvalidCoordinates, InvalidGeometry, InvalidInput
from mapapp.escaping import is_invisible
from mapapp.gazetteer.geometry import check_geometry
from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.place import Place

MAX_NAME = 200
MAX_ALIASES = 100
MAX_NOTES = 5000
MAX_POPULATION = 10_000_000_000
MAX_POSITIONS = 50_000
EDITABLE = ("name", "aliases", "feature", "country_code", "population", "notes", "lat", "lon", "geometry")
SHAPE_TYPES = ("Polygon", "MultiPolygon", "LineString", "MultiLineString")
# Feature classes the maps know how to draw; the database may add its own (see feature_classes()).
FEATURES = ("continent", "country", "admin1", "admin2", "region", "city", "town", "village", "water",
            "physical", "route", "building", "other")
_ID = re.compile(r"^[a-z0-9]{1,16}:[A-Za-z0-9._\-]{1,100}$")
_SPACES = re.compile(r"\s+")


class _Errors:
    """Collects field errors so that a form can show all of them at once."""

    def __init__(self):
        self.fields: dict[str, str] = {}

    def capture(self, field: str, func, *args):
        try:
            return func(*args)
        except InvalidInput as error:
            self.fields.setdefault(error.field or field, error.message)
            return None

    def raise_if_any(self):
        if self.fields:
            field, message = next(iter(self.fields.items()))
            cls = InvalidGeometry if field == "geometry" else (
                InvalidCoordinates if field in ("lat", "lon") else InvalidInput)
            raise cls(message, field=field, detail={"errors": dict(self.fields)})


def clean_text(value, field: str, *, limit: int, required: bool = False, multiline: bool = False) -> str:
    """NFC text within `limit` characters; names refuse invisible control/format characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    text = unicodedata.normalize("NFC", value)
    for ch in text:
        if multiline and ch in "\n\r\t":
            continue
        if is_invisible(ch):
            raise InvalidInput(f"{field} contains an invisible control character U+{ord(ch):04X}", field=field)
    text = text.strip() if multiline else _SPACES.sub(" ", text).strip()
    if required and not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters ({len(text)})", field=field)
    return text


def clean_aliases(value, name: str) -> tuple[str, ...]:
    """A list of alias strings (or one per line), cleaned, without duplicates or the name itself."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, (list, tuple)):
        raise InvalidInput("aliases must be a list of names", field="aliases")
    if len(value) > MAX_ALIASES:
        raise InvalidInput(f"at most {MAX_ALIASES} aliases", field="aliases")
    seen = {normalise_name(name)}
    aliases = []
    for item in value:
        alias = clean_text(item, "aliases", limit=MAX_NAME)
        key = normalise_name(alias)
        if alias and key and key not in seen:
            seen.add(key)
            aliases.append(alias)
    return tuple(aliases)


def clean_population(value) -> int:
    """A whole number of people in [0, 10^10]; empty means 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, bool):
        raise InvalidInput("population must be a whole number", field="population")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidInput("population must be a whole number", field="population")
        value = int(value)
    if isinstance(value, str):
        if not re.fullmatch(r"\s*\d{1,11}\s*", value):
            raise InvalidInput(f"population must be a whole number, not {value[:40]!r}", field="population")
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_POPULATION:
        raise InvalidInput("population must be a whole number between 0 and 10^10", field="population")
    return value


def clean_country(value) -> str | None:
    """An ISO 3166-1 alpha-2 code (upper-cased), or None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}", value.strip()):
        raise InvalidInput("country must be a two-letter ISO 3166-1 code", field="country_code")
    code = value.strip().upper()
    import pycountry

    if code != "XK" and pycountry.countries.get(alpha_2=code) is None:
        raise InvalidInput(f"country {code!r} is not an ISO 3166-1 code", field="country_code")
    return code


def clean_feature(value, known: Iterable[str]) -> str:
    """One of the known feature classes."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("feature is required", field="feature")
    feature = value.strip()
    if feature not in set(known):
        raise InvalidInput(f"unknown feature class {feature[:40]!r}", field="feature")
    return feature


def clean_version(value) -> int:
    """The version number an editor saw (a positive integer)."""
    if isinstance(value, bool):
        raise InvalidInput("version must be a whole number", field="version")
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,9}\s*", value):
        value = int(value)
    if not isinstance(value, int) or value < 1:
        raise InvalidInput("version is required (the version you edited)", field="version")
    return value


def clean_id(value) -> str:
    """An explicit place id such as 'admin:zorvanik' (prefix, colon, letters/digits/._-)."""
    if not isinstance(value, str) or not _ID.fullmatch(value.strip()):
        raise InvalidInput("id must look like 'admin:zorvanik' (prefix:letters, digits, . _ -)", field="id")
    return value.strip()


def clean_geometry(value) -> dict | None:
    """A valid GeoJSON Polygon/MultiPolygon/LineString/MultiLineString (or a Feature of one), or None."""
    return check_geometry(value, types=SHAPE_TYPES, label="shape", max_positions=MAX_POSITIONS)


def feature_classes(conn: sqlite3.Connection) -> list[str]:
    """The feature classes an editor may choose: the standard ones plus any the database uses."""
    stored = {row[0] for row in conn.execute("SELECT DISTINCT feature FROM places")}
    return sorted(set(FEATURES) | stored)


def clean_place(conn: sqlite3.Connection, data: Mapping[str, Any], *, base: Place | None = None) -> dict:
    """Validate the editable fields of `data` (missing ones come from `base`); all field errors at once."""
    values = {key: (data[key] if key in data else (base.to_record()[key] if base else None))
              for key in EDITABLE}
    errors = _Errors()
    out: dict[str, Any] = {}
    out["name"] = errors.capture("name", lambda: clean_text(values["name"], "name", limit=MAX_NAME,
                                                             required=True))
    out["aliases"] = errors.capture("aliases", clean_aliases, values["aliases"], out["name"] or "")
    out["feature"] = errors.capture("feature", clean_feature, values["feature"], feature_classes(conn))
    out["country_code"] = errors.capture("country_code", clean_country, values["country_code"])
    out["population"] = errors.capture("population", clean_population, values["population"])
    out["notes"] = errors.capture("notes", lambda: clean_text(values["notes"], "notes", limit=MAX_NOTES,
                                                               multiline=True))
    latlon = errors.capture("lat", coords.check_lat_lon, values["lat"], values["lon"])
    out["lat"], out["lon"] = latlon or (None, None)
    out["geometry"] = errors.capture("geometry", clean_geometry, values["geometry"])
    errors.raise_if_any()
    out["aliases"] = out["aliases"] or ()
    return out


