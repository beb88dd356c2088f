"""The curated GeoJSON files in `gazetteer/`: reading them into Places and writing Places back, atomically.

One Feature per place, one Feature per line, sorted by id, so that an edit is a one-line diff in git.
Feature properties: id, name, aliases, feature, feature_code, country_code, admin1, admin2, population,
lat, lon (the representative point), approximate, source, notes.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from shapely.geometry import shape

from mapapp import bundled, files
from mapapp.coords import check_lat_lon
from mapapp.db import opened, transaction
from mapapp.errors import InvalidCoordinates, InvalidGeometry, InvalidPlace, MalformedFile
from mapapp.gazetteer.geometry import check_geometry
from mapapp.gazetteer.place import Place, read_place, read_places
from mapapp.gazetteer.records import bump_version, insert_places, utc_now

CURATED_FILE = bundled.path("gazetteer", "curated.geojson")
PHYSICAL_FILE = bundled.path("gazetteer", "physical.geojson")


def is_geojson_file(path: str | os.PathLike) -> bool:
    """True when `path` looks like a GeoJSON file (by extension, else by its first character)."""
    path = Path(path)
    if path.suffix.lower() in {".geojson", ".json"}:
        return True
    with open(path, "rb") as handle:
        return handle.read(64).lstrip()[:1] == b"{"


def feature_to_place(feature: dict, *, default_source: str = "curated") -> Place:
    """A Place from one GeoJSON Feature; raises InvalidInput subclasses naming the bad property."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise InvalidGeometry("not a GeoJSON Feature", field="type")
    props = feature.get("properties") or {}
    geometry = check_geometry(feature.get("geometry"))
    place_id = props.get("id", feature.get("id"))
    if not isinstance(place_id, str) or not place_id.strip():
        raise InvalidPlace("feature has no string id", field="id")
    name = props.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidPlace(f"{place_id}: name is required", field="name")
    if props.get("lat") is not None and props.get("lon") is not None:
        lat, lon = check_lat_lon(props["lat"], props["lon"])
    elif geometry is not None:
        point = shape(geometry).representative_point()
        lat, lon = check_lat_lon(point.y, point.x)
    else:
        raise InvalidCoordinates(f"{place_id}: lat/lon or a geometry is required", field="lat")
    if geometry and geometry["type"] == "Point":
        geometry = None  # a point is the place's (lat, lon); the table stores NULL for it
    aliases = props.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise InvalidPlace(f"{place_id}: aliases must be a list of strings", field="aliases")
    population = props.get("population") or 0
    if isinstance(population, bool) or not isinstance(population, int) or population < 0:
        raise InvalidPlace(f"{place_id}: population must be a non-negative integer", field="population")
    return Place(
        id=place_id.strip(), name=name.strip(), feature=str(props.get("feature") or "region"),
        lat=lat, lon=lon, feature_code=str(props.get("feature_code") or ""),
        country_code=props.get("country_code") or None, admin1=str(props.get("admin1") or ""),
        admin2=str(props.get("admin2") or ""), population=population, geometry=geometry,
        approximate=bool(props.get("approximate")), source=str(props.get("source") or default_source),
        notes=str(props.get("notes") or ""), aliases=tuple(a.strip() for a in aliases if a.strip()),
    )


def read_features(path: str | os.PathLike, *, default_source: str = "curated") -> list[Place]:
    """Every Place of a GeoJSON FeatureCollection file; MalformedFile names the file and the bad feature."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise MalformedFile("not UTF-8 text", path=str(path)) from None
    except json.JSONDecodeError as error:
        raise MalformedFile(f"invalid JSON: {error.msg}", path=str(path), line=error.lineno) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
            or not isinstance(data.get("features"), list):
        raise MalformedFile("not a GeoJSON FeatureCollection", path=str(path))
    places, seen = [], set()
    for index, feature in enumerate(data["features"]):
        try:
            place = feature_to_place(feature, default_source=default_source)
        except (InvalidGeometry, InvalidCoordinates, InvalidPlace) as error:
            raise MalformedFile(f"feature {index}: {error.message}", path=str(path)) from None
        if place.id in seen:
            raise MalformedFile(f"feature {index}: duplicate id {place.id!r}", path=str(path))
        seen.add(place.id)
        places.append(place)
    return places


def place_to_feature(place: Place) -> dict:
    """The GeoJSON Feature of a place (properties in a fixed order for stable diffs)."""
    # The file has no kinds: an abbreviation (made by the build, kept by edits) is listed as an alias.
    aliases = list(dict.fromkeys([*place.aliases, *(name for name, kind in place.other_names
                                                    if kind == "abbreviation")]))
    properties = {
        "id": place.id, "name": place.name, "aliases": aliases, "feature": place.feature,
        "feature_code": place.feature_code, "country_code": place.country_code, "admin1": place.admin1,
        "admin2": place.admin2, "population": place.population, "lat": round(place.lat, 6),
        "lon": round(place.lon, 6), "approximate": place.approximate, "source": place.source, "notes": place.notes,
    }
    return {"type": "Feature", "id": place.id, "properties": properties, "geometry": place.point_geometry()}


def dumps_features(places) -> str:
    """A FeatureCollection as text: one Feature per line, sorted by id."""
    lines = [json.dumps(place_to_feature(p), ensure_ascii=False, separators=(", ", ": "))
             for p in sorted(places, key=lambda p: p.id)]
    return '{"type": "FeatureCollection", "features": [\n' + ",\n".join(lines) + "\n]}\n"


def write_features(path: str | os.PathLike, places) -> Path:
    """Write places to `path` atomically (files.write_atomic: no half-written file, no temp file left behind)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomic(path, dumps_features(places))
    return path



def curated_places(places) -> list[Place]:
    """Places as loaded from a curated file: source 'curated' whatever the file says (the file is the truth)."""
    return [dataclasses.replace(p, source="curated", version=1) for p in places]


def import_curated(db_path, path, *, user: str = "cli") -> int:
    """Upsert every place of a curated GeoJSON file into the database (with history); returns how many."""
    places = curated_places(read_features(path))
    with opened(db_path) as conn:
        with transaction(conn):
            for place in places:
                before = read_place(conn, place.id)
                place = dataclasses.replace(place, version=before.version + 1 if before else 1)
                insert_places(conn, [place])
                conn.execute(
                    'INSERT INTO place_history (place_id, version, action, "user", at, before, after) '
                    "VALUES (?, ?, 'import', ?, ?, ?, ?)",
                    (place.id, place.version, user, utc_now(),
                     json.dumps(before.to_record(), ensure_ascii=False) if before else None,
                     json.dumps(place.to_record(), ensure_ascii=False)))
            bump_version(conn)
    return len(places)


def export_curated(db_path, out=CURATED_FILE) -> int:
    """Write the curated and admin-edited places (not the physical file's untouched ones) to `out`, atomically."""
    with opened(db_path) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM places WHERE source = 'admin' "
                                              "OR (source = 'curated' AND id NOT LIKE 'phys:%')")]
        places = list(read_places(conn, ids).values())
    write_features(out, places)
    return len(places)
