"""The built gazetteer: coverage, ranking, the geopy geocoder API, the name index, overrides, rebuilds."""
from __future__ import annotations

import math
import random
import sqlite3

import numpy
import pytest
from geopy.distance import EARTH_RADIUS, great_circle
from geopy.extra.rate_limiter import RateLimiter
from geopy.location import Location
from shapely.geometry import Point, shape

from mapapp.db import DATABASE_NAME, connect, transaction
from mapapp.errors import GazetteerMissing, InvalidCoordinates, InvalidInput, NotFound
from mapapp.gazetteer import (
    Gazetteer,
    Place,
    get_gazetteer,
    normalise_name,
    open_gazetteer,
)
from mapapp.gazetteer.records import bump_version, insert_places
from mapapp.gazetteer.store import NEAREST_WITHIN_KM


@pytest.fixture(scope="module")
def gazetteer(gazetteer_template):
    """A read-only Gazetteer over the session's template (tests that write use `data_dir`)."""
    gaz = Gazetteer(gazetteer_template / DATABASE_NAME)
    yield gaz
    gaz.close()


@pytest.mark.parametrize("query, place_id", [
    ("Nagorno-Karabakh", "cur:nagorno-karabakh"), ("Artsakh", "cur:nagorno-karabakh"),
    ("Karabakh", "cur:nagorno-karabakh"), ("Garabagh", "cur:nagorno-karabakh"),
    ("Nagorno Karabakh", "cur:nagorno-karabakh"), ("Republic of Artsakh", "cur:nagorno-karabakh"),
    ("Nagorno-Karabakh Republic", "cur:nagorno-karabakh"), ("Artsakh Republic", "cur:nagorno-karabakh"),
    ("Lachin corridor", "cur:lachin-corridor"), ("Lachin District", "cur:lachin-district"),
    ("Kalbajar district", "cur:kalbajar-district"), ("Syunik Province", "cur:syunik-province"),
    ("Syunik", "cur:syunik-province"), ("Nakhchivan", "cur:nakhchivan"), ("Nakhichevan", "cur:nakhchivan"),
    ("Nakhichevan Autonomous Republic", "cur:nakhchivan"), ("Sev Lake", "cur:sev-lake"),
    ("Black Lake", "cur:sev-lake"), ("Parukh", "cur:parukh"), ("Farrukh", "cur:parukh"),
    ("Khramort", "cur:khramort"), ("Pirlar", "cur:khramort"),
])
def test_seed_places_geocode_to_the_curated_entries(gazetteer, query, place_id):
    assert gazetteer.geocode(query).raw["id"] == place_id


@pytest.mark.parametrize("query, feature, country, lat, lon", [
    ("Yerevan", "city", "AM", 40.18, 44.51), ("YEREVAN", "city", "AM", 40.18, 44.51),
    ("Baku", "city", "AZ", 40.38, 49.89), ("Moscow", "city", "RU", 55.75, 37.62),
    ("Paris", "city", "FR", 48.86, 2.35), ("Texas", "admin1", "US", 31.5, -99.0),
    ("Armenia", "country", "AM", 40.0, 45.0), ("Azerbaijan", "country", "AZ", 40.5, 47.5),
    ("Russia", "country", "RU", 60.0, 100.0), ("Turkey", "country", "TR", 39.0, 35.0),
    ("France", "country", "FR", 46.0, 2.0), ("Georgia", "country", "GE", 42.0, 43.5),
    ("UK", "country", "GB", 54.0, -2.0), ("Bavaria", "admin1", "DE", 48.9, 11.4),
    ("Los Angeles County", "admin2", "US", 34.3, -118.2),
])
def test_common_places(gazetteer, query, feature, country, lat, lon):
    location = gazetteer.geocode(query)
    assert location.raw["feature"] == feature and location.raw["country_code"] == country
    assert abs(location.latitude - lat) < 3 and abs(location.longitude - lon) < 5


@pytest.mark.parametrize("query, feature", [("Africa", "continent"), ("Europe", "continent"),
                                            ("Asia", "continent"), ("Black Sea", "sea"),
                                            ("Atlantic", "ocean"), ("Caucasus", "mountains"), ("Nile", "river")])
def test_continents_and_physical_features_outrank_namesakes(gazetteer, query, feature):
    assert gazetteer.geocode(query).raw["feature"] == feature


def test_springfield_is_ambiguous_and_ranked(gazetteer):
    locations = gazetteer.geocode("Springfield", exactly_one=False)
    assert len(locations) >= 10
    assert all(isinstance(loc, Location) and loc.raw["name"] == "Springfield" for loc in locations[:5])
    states = {loc.raw["admin1"] for loc in locations if loc.raw["country_code"] == "US"}
    assert {"IL", "MA", "MO"} <= states
    populations = [loc.raw["population"] for loc in locations if loc.raw["feature"] == "city"]
    assert populations == sorted(populations, reverse=True)
    assert len(gazetteer.geocode("Springfield", exactly_one=False, limit=3)) == 3
    # "Springfield, Illinois": the rest of the query narrows the candidates.
    assert gazetteer.geocode("Springfield, Illinois").raw["admin1"] == "IL"
    assert gazetteer.geocode("Paris, Texas").raw["admin1"] == "TX"


def test_code_written_for_nominatim_works_unchanged(gazetteer):
    geolocator = gazetteer  # instead of Nominatim(user_agent="...")
    location = geolocator.geocode("Yerevan")
    assert location.address == "Yerevan, Armenia"
    assert (round(location.latitude, 2), round(location.longitude, 2)) == (40.18, 44.51)
    assert location.raw["id"].startswith("gn:") and location.raw["geometry_type"] == "Point"
    assert location.point.latitude == location.latitude
    geocode = RateLimiter(geolocator.geocode, min_delay_seconds=0)
    assert geocode("Baku", timeout=10).raw["country_code"] == "AZ"
    reverse = geolocator.reverse("40.18, 44.51")
    assert isinstance(reverse, Location) and "Armenia" in reverse.address
    assert geolocator.reverse((40.18, 44.51)).raw == reverse.raw
    assert geolocator.geocode("Xyzzyqwerty Town") is None
    assert geolocator.geocode("Xyzzyqwerty Town", exactly_one=False) is None
    assert geolocator.geocode("  ,  ") is None
    with pytest.raises(InvalidInput) as error:
        geolocator.geocode(42)
    assert error.value.field == "query"


def test_reverse_returns_the_smallest_region(gazetteer):
    karabakh = shape(gazetteer.get("cur:nagorno-karabakh").geometry)
    location = gazetteer.reverse((39.82, 46.75))
    region = shape(location.raw["geometry"])
    assert region.contains(Point(46.75, 39.82)) and region.area <= karabakh.area
    all_regions = gazetteer.reverse((39.82, 46.75), exactly_one=False)
    assert "cur:nagorno-karabakh" in [loc.raw["id"] for loc in all_regions]
    areas = [shape(loc.raw["geometry"]).area for loc in all_regions]
    assert areas == sorted(areas)
    # Lachin town lies on the corridor, which lies in the district; west of the road, the district answers.
    assert [loc.raw["id"] for loc in gazetteer.reverse((39.64, 46.55), exactly_one=False)][:2] == [
        "cur:lachin-corridor", "cur:lachin-district"]
    assert gazetteer.reverse((39.7, 46.45)).raw["id"] == "cur:lachin-district"


def test_reverse_in_open_ocean(gazetteer):
    assert gazetteer.reverse((30.0, -40.0)).raw["id"] == "phys:atlantic-ocean"
    assert gazetteer.reverse((-30.0, 80.0)).raw["id"] == "phys:indian-ocean"


def test_nearest_point_place_is_the_brute_force_nearest_on_random_points(gazetteer):
    # Every place without a shape, and the great-circle distance to each, by brute force (numpy haversine).
    with sqlite3.connect(gazetteer.path) as conn:
        rows = conn.execute("SELECT id, lat, lon FROM places WHERE geometry IS NULL").fetchall()
    lats, lons = numpy.radians([row[1] for row in rows]), numpy.radians([row[2] for row in rows])
    rng = random.Random(20261202)
    points = [(math.degrees(math.asin(rng.uniform(-1, 1))), rng.uniform(-180, 180)) for _ in range(80)]
    for _ in range(80):  # near a place: where the boxes of degrees once missed the nearest
        _id, lat, lon = rng.choice(rows)
        points.append((min(90, max(-90, lat + rng.gauss(0, 0.3))), min(180, max(-180, lon + rng.gauss(0, 0.3)))))
    points += [(0.0, 179.99), (-17.8, -179.99), (-17.8, 179.99), (65.0, -179.9), (89.9, 10.0), (-89.9, 0.0)]
    for lat, lon in points:
        phi, lam = math.radians(lat), math.radians(lon)
        a = numpy.sin((lats - phi) / 2) ** 2 + math.cos(phi) * numpy.cos(lats) * numpy.sin((lons - lam) / 2) ** 2
        brute = float((2 * EARTH_RADIUS * numpy.arcsin(numpy.minimum(1.0, numpy.sqrt(a)))).min())
        place = gazetteer._nearest_point(lat, lon)
        if brute > NEAREST_WITHIN_KM:
            assert place is None, (lat, lon)
        else:
            assert place is not None and place.geometry is None, (lat, lon)
            assert great_circle((lat, lon), (place.lat, place.lon)).km == pytest.approx(brute, abs=1e-6), (lat, lon)


@pytest.mark.parametrize("query, field", [((95, 0), "lat"), ((10, 200), "lon"), ("north, east", "lat"),
                                          ((float("nan"), 0), "lat"), ("40.1", "query")])
def test_reverse_rejects_bad_points_without_wrapping(gazetteer, query, field):
    with pytest.raises(InvalidCoordinates) as error:
        gazetteer.reverse(query)
    assert error.value.field == field


def test_name_index(gazetteer):
    keys = gazetteer.keys()
    assert {"artsakh", "nagorno karabakh", "lachin corridor", "yerevan", "armenian", "azerbaijani"} <= keys
    assert gazetteer.keys() is keys  # cached
    assert gazetteer.name_kinds("armenian")[gazetteer.geocode("Armenia").raw["id"]] == "demonym"
    assert [p.country_code for p in gazetteer.demonyms("azerbaijani")] == ["AZ"]
    assert gazetteer.is_demonym("armenians") and not gazetteer.is_demonym("armenia")
    assert gazetteer.name_kinds("european") == {gazetteer.geocode("Europe").raw["id"]: "demonym"}
    kentucky = gazetteer.geocode("Kentucky").raw["id"]
    assert gazetteer.name_kinds("ky")[kentucky] == "abbreviation"  # "Louisville, Ky."
    candidates = gazetteer.candidates("lachin")
    assert candidates and all(isinstance(p, Place) for p in candidates)
    assert gazetteer.candidates("lachin") == candidates
    assert gazetteer.candidates(normalise_name("Nagorno–Karabakh"))[0].id == "cur:nagorno-karabakh"
    assert gazetteer.candidates("no such place at all") == []
    assert gazetteer.get("cur:parukh").aliases == ("Farrukh", "Farukh")
    with pytest.raises(NotFound):
        gazetteer.get("gn:0")


def test_countries_have_outlines_and_demonyms(gazetteer):
    armenia = gazetteer.get(gazetteer.geocode("Armenia").raw["id"])
    assert armenia.geometry_type in ("Polygon", "MultiPolygon")
    assert shape(armenia.geometry).contains(Point(44.51, 40.18))


def test_not_places_and_refresh_after_another_process_writes(data_dir):
    gaz = Gazetteer(data_dir / DATABASE_NAME)
    assert "yerevan" in gaz.keys()
    assert gaz.refresh_if_stale() is False
    conn = connect(data_dir / DATABASE_NAME)
    with transaction(conn):
        conn.execute("INSERT INTO not_places (key, name, user, at) VALUES ('yerevan', 'Yerevan', 't', 'now')")
        bump_version(conn)
    conn.close()
    assert "yerevan" in gaz.keys()  # cached until refreshed
    assert gaz.refresh_if_stale() is True
    assert "yerevan" not in gaz.keys()
    # Names written by another process (the admin) reach keys() and candidates() after a refresh.
    conn = connect(data_dir / DATABASE_NAME)
    with transaction(conn):
        insert_places(conn, [Place(id="adm:testavan", name="Testavan", feature="village", lat=40, lon=45,
                                   aliases=("Testavan Village",), source="admin")])
        bump_version(conn)
    assert gaz.refresh_if_stale() and {"testavan", "testavan village"} <= gaz.keys()
    assert [p.id for p in gaz.candidates("testavan village")] == ["adm:testavan"]
    with transaction(conn):
        conn.execute("DELETE FROM places WHERE id = 'adm:testavan'")
        bump_version(conn)
    conn.close()
    assert gaz.refresh_if_stale() and "testavan" not in gaz.keys() and gaz.candidates("testavan") == []
    gaz.close()


def test_with_overrides_sees_proposed_edits_only(gazetteer):
    village = Place(id="cur:testavan", name="Testavan", feature="village", lat=40.0, lon=45.0,
                    country_code="AM", aliases=("Test Village",), source="admin")
    parukh = gazetteer.get("cur:parukh")
    view = gazetteer.with_overrides([village], {"cur:parukh"})
    assert "testavan" in view.keys() and "test village" in view.keys()
    assert [p.id for p in view.candidates("testavan")] == ["cur:testavan"]
    assert view.get("cur:testavan") is village
    assert view.candidates("parukh") == [] and "parukh" not in view.keys()
    with pytest.raises(NotFound):
        view.get("cur:parukh")
    assert view.geocode("Testavan").raw["id"] == "cur:testavan"
    # The base is untouched.
    assert "testavan" not in gazetteer.keys() and gazetteer.candidates("parukh") == [parukh]
    # Views stack: a later edit of the same place wins, earlier deletions stay.
    renamed = Place(id="cur:testavan", name="Newname", feature="village", lat=40.0, lon=45.0, source="admin")
    stacked = view.with_overrides([renamed], set())
    assert [p.id for p in stacked.candidates("newname")] == ["cur:testavan"]
    assert stacked.candidates("testavan") == [] and stacked.candidates("parukh") == []


def test_open_gazetteer_without_build(tmp_path):
    with pytest.raises(GazetteerMissing, match="mapapp gazetteer build"):
        open_gazetteer(tmp_path, build_if_missing=False)


def test_get_gazetteer_is_shared_per_app(app):
    with app.app_context():
        first = get_gazetteer()
        assert get_gazetteer() is first
        assert first.geocode("Artsakh").raw["id"] == "cur:nagorno-karabakh"


def test_build_coverage_counts(gazetteer):
    conn = sqlite3.connect(gazetteer.path)
    counts = dict(conn.execute("SELECT feature, count(*) FROM places GROUP BY feature"))
    conn.close()
    assert counts["city"] > 230_000 and counts["country"] >= 250 and counts["continent"] == 7
    assert counts["admin1"] > 2_500 and counts["admin2"] > 10_000
    assert sum(counts.get(f, 0) for f in ("sea", "ocean", "lake", "river", "mountains")) >= 60


@pytest.mark.slow
def test_rebuild_is_idempotent_and_keeps_admin_edits(data_dir):
    from mapapp.gazetteer.build import build

    db = data_dir / DATABASE_NAME
    conn = connect(db)
    with transaction(conn):
        conn.execute("UPDATE places SET name = 'Parukh (edited)', source = 'admin', version = 2 "
                     "WHERE id = 'cur:parukh'")
        conn.execute("INSERT INTO places (id, name, feature, lat, lon, source) "
                     "VALUES ('adm:new', 'New Village', 'village', 40, 46, 'admin')")
        conn.execute("INSERT INTO place_names (place_id, name, key, kind) VALUES ('adm:new', 'New Village', "
                     "'new village', 'name')")
        # An admin deleted a base place: the rebuild must not bring it back.
        conn.execute("DELETE FROM place_names WHERE place_id = 'cur:khramort'")
        conn.execute("DELETE FROM places WHERE id = 'cur:khramort'")
        conn.execute("INSERT INTO place_history (place_id, version, action, user, at, before, after) "
                     "VALUES ('cur:khramort', 1, 'delete', 'admin', 'now', '{}', NULL)")

    def state():
        places = conn.execute("SELECT count(*), sum(population), count(geometry) FROM places").fetchone()[:]
        names = conn.execute("SELECT count(*) FROM place_names").fetchone()[0]
        return places, names

    version = int(conn.execute("SELECT value FROM meta WHERE key = 'gazetteer_version'").fetchone()[0])
    before = state()
    build(db, progress=False)
    after = state()
    assert after == before
    assert conn.execute("SELECT name, source FROM places WHERE id = 'cur:parukh'").fetchone()[:] == \
        ("Parukh (edited)", "admin")
    assert conn.execute("SELECT name FROM places WHERE id = 'adm:new'").fetchone()[0] == "New Village"
    assert conn.execute("SELECT 1 FROM places WHERE id = 'cur:khramort'").fetchone() is None
    assert int(conn.execute("SELECT value FROM meta WHERE key = 'gazetteer_version'").fetchone()[0]) == version + 1
    assert conn.execute("SELECT value FROM meta WHERE key = 'built_at'").fetchone()[0]
    # The fast key table matches the names, and its triggers are back for the admin's writes.
    assert conn.execute("SELECT count(*) FROM name_keys").fetchone()[0] == \
        conn.execute("SELECT count(DISTINCT key) FROM place_names").fetchone()[0]
    triggers = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {"name_keys_insert", "name_keys_delete"} <= triggers
    conn.close()



def test_region_points_are_centres_of_area_not_of_degrees():
    from shapely.geometry import MultiPolygon, box

    from mapapp.gazetteer.geometry import country_point, representative

    # From 40°N to 80°N a square degree shrinks by half and more: the centre of area lies well south of 60°N.
    lat, lon = representative(box(0, 40, 10, 80), (0.0, 0.0))
    assert lon == pytest.approx(5.0) and 53.0 < lat < 57.0  # a centroid in degrees says 60°N
    # A country's point is that of its main landmass (an outlying island does not pull it), inside it.
    land = MultiPolygon([box(0, -5, 20, 5), box(60, 40, 61, 41)])
    assert country_point(land, (9.0, 2.0)) == pytest.approx((0.0, 10.0), abs=1e-6)
    # A crescent whose centre falls outside: the published point when inside the country.
    crescent = box(0, 0, 10, 10).difference(box(2, 2, 10, 8))
    assert country_point(crescent, (1.0, 1.0)) == (1.0, 1.0)


def test_countries_and_divisions_carry_geonames_points(gazetteer, gazetteer_template):
    import sqlite3

    from mapapp.gazetteer.build import load_geonames_points

    points = load_geonames_points()
    # Canada's GeoNames point lies 1,000 km west of its centre of area; Queensland's is GeoNames' too.
    for query, pid, lat, lon in (("Canada", "gn:6251999", 60.10867, -113.64258),
                                 ("United States", "gn:6252001", 39.76, -98.5),
                                 ("Queensland", "adm1:AU.04", -20.0, 145.0)):
        location = gazetteer.geocode(query)
        assert location.raw["id"] == pid and points[pid] == (lat, lon)
        assert (location.latitude, location.longitude) == pytest.approx((lat, lon), abs=1e-5)
        assert "Point: GeoNames." in location.raw["notes"]
    # Every id in the file is a country or a first-level division of the built gazetteer.
    conn = sqlite3.connect(f"file:{gazetteer_template / DATABASE_NAME}?mode=ro", uri=True)
    rows = conn.execute(f"SELECT feature, count(*) FROM places WHERE id IN ({', '.join('?' * len(points))}) "
                        "GROUP BY feature", list(points)).fetchall()
    conn.close()
    assert dict(rows).keys() == {"country", "admin1"} and sum(n for _, n in rows) == len(points)


def test_a_place_read_from_the_database_decodes_its_shape_only_when_asked(gazetteer, gazetteer_template):
    """A candidate's outline stays the stored JSON text until something reads `geometry`; `geometry_type` and
    `geometry_text` answer from the text, and the decoded place equals one built from the dict."""
    import dataclasses
    import json
    import pickle

    conn = sqlite3.connect(gazetteer_template / DATABASE_NAME)
    place_id, stored = conn.execute(
        "SELECT id, geometry FROM places WHERE feature = 'country' AND name = 'Armenia'").fetchone()
    conn.close()
    place = gazetteer.get(place_id)
    read = Place.from_row({**{f.name: getattr(place, f.name) for f in dataclasses.fields(Place)},
                           "geometry": stored})
    assert isinstance(read.__dict__["_geometry"], str), "decoded at once"
    assert read.geometry_type == json.loads(stored)["type"] and isinstance(read.__dict__["_geometry"], str)
    assert read.geometry_text() is stored and isinstance(read.__dict__["_geometry"], str)
    assert pickle.loads(pickle.dumps(read)).geometry == json.loads(stored)  # what --jobs workers may send
    assert read.geometry == json.loads(stored) and isinstance(read.__dict__["_geometry"], dict)
    assert read.geometry_text() is stored, "the text written out changed once the shape was decoded"
    built = dataclasses.replace(read, geometry=json.loads(stored))
    assert built == read and built.geometry_type == read.geometry_type
    assert json.loads(built.geometry_text()) == read.geometry and "\n" not in built.geometry_text()
    point = dataclasses.replace(read, geometry=None)
    assert point.geometry is None and point.geometry_type == "Point" and point.geometry_text() is None
    assert Place.from_row({**{f.name: getattr(place, f.name) for f in dataclasses.fields(Place)},
                           "geometry": None}).geometry_type == "Point"
