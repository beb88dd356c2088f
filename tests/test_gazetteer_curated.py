"""The curated GeoJSON files: valid shapes, the seed places where they must be, stable formatting."""
from __future__ import annotations

import json
import math

import pytest
from shapely.affinity import scale
from shapely.geometry import Point, shape

from mapapp.errors import InvalidGeometry, MalformedFile
from mapapp.gazetteer.curated import (
    CURATED_FILE,
    PHYSICAL_FILE,
    check_geometry,
    dumps_features,
    read_features,
)
from mapapp.gazetteer.names import normalise_name

CURATED = {p.id: p for p in read_features(CURATED_FILE)}


@pytest.mark.parametrize("path", [CURATED_FILE, PHYSICAL_FILE])
def test_file_is_valid_and_in_canonical_form(path):
    places = read_features(path)
    assert places, f"{path} is empty"
    for place in places:
        if place.geometry:
            geom = shape(place.geometry)
            assert geom.is_valid, (place.id, geom)
        assert place.name and place.feature and place.source
    # Sorted by id, one feature per line: rewriting it changes nothing (diff-friendly).
    assert path.read_text(encoding="utf-8") == dumps_features(places)


@pytest.mark.parametrize("place_id, lat, lon", [
    ("cur:nagorno-karabakh", 39.82, 46.75),
    ("cur:lachin-district", 39.64, 46.55),
    ("cur:kalbajar-district", 40.11, 46.04),
    ("cur:syunik-province", 39.51, 46.34),
    ("cur:nakhchivan", 39.21, 45.41),
])
def test_seed_regions_contain_their_probe_points(place_id, lat, lon):
    place = CURATED[place_id]
    assert place.geometry["type"] in ("Polygon", "MultiPolygon")
    assert shape(place.geometry).contains(Point(lon, lat))
    # Hand-drawn outlines say they are approximate; those redrawn from Natural Earth name it instead.
    assert ("pproximate" in place.notes) if place.approximate else ("Natural Earth 10m" in place.notes)


def _area_km2(geom) -> float:
    """Area on a local equal-area projection (x scaled by cos(latitude)): within 1 % this small and far north."""
    lat = math.radians(geom.centroid.y)
    return scale(geom, math.cos(lat), 1, origin=(0, 0)).area * 111.32 ** 2


@pytest.mark.parametrize("place_id, known_km2, tolerance", [
    ("cur:nagorno-karabakh", 4400, 0.05),   # the NKAO: 4,400 km2
    ("cur:lachin-district", 1835, 0.06),    # Lachin Rayon: 1,835 km2
    ("cur:syunik-province", 4506, 0.05),    # Syunik Marz: 4,506 km2
])
def test_real_outlines_have_the_known_area_and_name_their_source(place_id, known_km2, tolerance):
    place = CURATED[place_id]
    geom = shape(place.geometry)
    assert geom.is_valid and geom.geom_type == "Polygon"
    assert abs(_area_km2(geom) - known_km2) <= tolerance * known_km2, _area_km2(geom)
    assert not place.approximate and "Outline: " in place.notes and "Natural Earth 10m" in place.notes


def test_karabakh_and_lachin_district_meet_without_overlapping():
    karabakh = shape(CURATED["cur:nagorno-karabakh"].geometry)
    lachin = shape(CURATED["cur:lachin-district"].geometry)
    assert karabakh.touches(lachin) or _area_km2(karabakh.intersection(lachin)) < 0.01
    assert _area_km2(lachin.intersection(shape(CURATED["cur:syunik-province"].geometry))) < 0.01
    for lon, lat in [(46.546, 39.638), (46.34, 39.51)]:     # Lachin (Berdzor) town; Goris, in Armenia
        assert not karabakh.contains(Point(lon, lat))
    assert lachin.contains(Point(46.546, 39.638))
    for lon, lat in [(46.752, 39.816), (46.751, 39.759), (47.03, 39.52), (46.81, 40.2)]:
        assert karabakh.contains(Point(lon, lat)) and not lachin.contains(Point(lon, lat))  # Stepanakert, Shusha,
        # Hadrut, Mardakert: all in the former NKAO


def test_lake_sevan_is_natural_earths_lake_not_sev_lake():
    sevan = {p.id: p for p in read_features(PHYSICAL_FILE)}["phys:lake-sevan"]
    geom = shape(sevan.geometry)
    assert geom.is_valid and abs(_area_km2(geom) - 1260) <= 0.12 * 1260  # Natural Earth's lake is ~9 % larger
    assert not sevan.approximate and "Natural Earth 10m lakes (public domain)" in sevan.notes
    assert all(geom.contains(Point(lon, lat)) for lon, lat in [(45.28, 40.38), (45.05, 40.55), (45.35, 40.2)])
    # Sev Lake (Sev Lich) is a different, 2 km2 lake on the Syunik-Lachin border, 80 km away: too small for
    # Natural Earth and GSHHG, so it stays a point.
    assert geom.distance(Point(46.232, 39.598)) > 0.7
    assert normalise_name("Lake Sev") not in {normalise_name(n) for n in (sevan.name, *sevan.aliases)}


def test_lachin_corridor_is_a_5_km_band_from_the_armenian_border_to_stepanakert():
    corridor = shape(CURATED["cur:lachin-corridor"].geometry)
    assert corridor.is_valid and corridor.geom_type == "Polygon"
    # About 40 km from the border near Kornidzor to Stepanakert, 5 km wide (point 6 of the 2020 statement).
    assert 150 <= _area_km2(corridor) <= 230, _area_km2(corridor)
    for lon, lat in [(46.546, 39.638), (46.70, 39.76)]:  # Lachin (Berdzor) town; the road past Shusha
        assert corridor.contains(Point(lon, lat))
    assert corridor.distance(Point(46.7528, 39.8177)) < 0.03  # Stepanakert, at the band's end
    assert not corridor.contains(Point(46.751, 39.759))  # Shusha, which the statement keeps out
    # It begins at the border: nothing of it lies in Armenia, and it stays inside Lachin District and the NKAO.
    assert _area_km2(corridor.intersection(shape(CURATED["cur:syunik-province"].geometry))) < 0.01
    land = shape(CURATED["cur:lachin-district"].geometry).union(shape(CURATED["cur:nagorno-karabakh"].geometry))
    assert _area_km2(corridor.difference(land)) < 0.01
    assert corridor.distance(shape(CURATED["cur:syunik-province"].geometry)) < 0.001


@pytest.mark.parametrize("place_id, lat, lon, names", [
    ("cur:sev-lake", 39.598, 46.232, ["Lake Sev", "Sev Lake", "Black Lake"]),
    ("cur:parukh", 40.019, 46.801, ["Parukh", "Farrukh"]),
    ("cur:khramort", 40.005, 46.817, ["Khramort", "Pirlar"]),
])
def test_seed_points(place_id, lat, lon, names):
    place = CURATED[place_id]
    assert place.geometry is None and (place.lat, place.lon) == (lat, lon)
    keys = {normalise_name(n) for n in (place.name, *place.aliases)}
    assert {normalise_name(n) for n in names} <= keys


def test_nagorno_karabakh_aliases():
    place = CURATED["cur:nagorno-karabakh"]
    keys = {normalise_name(n) for n in (place.name, *place.aliases)}
    for alias in ["Artsakh", "Karabakh", "Garabagh", "Nagorno Karabakh", "Republic of Artsakh",
                  "Nagorno-Karabakh Republic", "Artsakh Republic"]:
        assert normalise_name(alias) in keys
    nakhchivan = CURATED["cur:nakhchivan"]
    assert {"nakhichevan", "nakhchivan", "nakhichevan autonomous republic"} <= {
        normalise_name(n) for n in (nakhchivan.name, *nakhchivan.aliases)}


def test_every_curated_place_has_what_the_issue_requires():
    for place in CURATED.values():
        assert place.id.startswith("cur:")
        assert place.country_code in ("AM", "AZ")
        assert -90 <= place.lat <= 90 and -180 <= place.lon <= 180
        assert place.source == "curated"


def test_physical_file_covers_major_features():
    names = {p.name for p in read_features(PHYSICAL_FILE)}
    for name in ["Black Sea", "Caspian Sea", "Mediterranean Sea", "Atlantic Ocean", "Pacific Ocean", "Indian Ocean",
                 "Arctic Ocean", "Red Sea", "Persian Gulf", "Caucasus Mountains", "Alps", "Himalayas", "Andes",
                 "Sahara", "Amazon River", "Nile", "Danube", "Mississippi River", "Gulf of Mexico", "Lake Sevan",
                 "Baltic Sea", "North Sea"]:
        assert name in names


@pytest.mark.parametrize("geometry, reason", [
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "Self-intersection"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0]]]}, "not valid GeoJSON"),
    ({"type": "Polygon", "coordinates": []}, "empty"),
    ({"type": "Circle", "coordinates": [0, 0]}, "must be a GeoJSON geometry"),
    ({"type": "Point", "coordinates": [200, 0]}, "outside"),
])
def test_check_geometry_rejects_bad_shapes(geometry, reason):
    with pytest.raises(InvalidGeometry, match=reason):
        check_geometry(geometry)


def test_malformed_curated_file_is_named(tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [\n{"type": "Feature",\n', encoding="utf-8")
    with pytest.raises(MalformedFile, match=r"bad.geojson:\d+: invalid JSON"):
        read_features(bad)
    duplicate = tmp_path / "dup.geojson"
    feature = {"type": "Feature", "properties": {"id": "cur:x", "name": "X", "lat": 1, "lon": 2}, "geometry": None}
    duplicate.write_text(json.dumps({"type": "FeatureCollection", "features": [feature, feature]}), encoding="utf-8")
    with pytest.raises(MalformedFile, match="duplicate id 'cur:x'"):
        read_features(duplicate)
    out_of_range = tmp_path / "range.geojson"
    feature["properties"]["lat"] = 95
    out_of_range.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    with pytest.raises(MalformedFile, match="lat must be within"):
        read_features(out_of_range)
