"""The JSON API: payloads equal what is stored; unknown ids are 404, bad filters 400 naming the field, never 500."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from mapapp.db import connect
from mapapp.maps.features import feature_collection
from mapapp.maps.filters import MapFilters

GARBAGE = ["0", "-1", "abc", "1.5", "99999999999999999999999999", "9223372036854775808", "%00", "%E2%80%AE",
           "%D9%A1", "' OR 1=1 --", "1;DROP TABLE articles", "<img src=x onerror=alert(1)>", "${alert(1)}",
           "%F0%9F%97%BA", "..%2F..%2Fetc%2Fpasswd", "%FF%FE"]


@pytest.fixture(scope="module")
def api_app(seeded_template, tmp_path_factory):
    """One app over one copy of the seeded data for this module: every test here only reads."""
    from conftest import copy_data_dir

    from mapapp import create_app

    folder = copy_data_dir(seeded_template, tmp_path_factory.mktemp("api") / "data")
    return create_app(folder, {"TESTING": True, "LOAD_SEEDS": False, "SECRET_KEY": "test",
                               "TILES_URL": ""})


@pytest.fixture
def client(api_app):
    return api_app.test_client()


@pytest.fixture
def conn(api_app):
    connection = connect(api_app.config["DATABASE"])
    yield connection
    connection.close()


def test_articles_lists_every_stored_article(client, conn):
    response = client.get("/api/articles")
    assert response.status_code == 200 and response.is_json
    payload = response.get_json()
    rows = {row["id"]: row for row in conn.execute(
        "SELECT a.*, (SELECT COUNT(*) FROM mentions m WHERE m.article_id = a.id) AS n FROM articles a")}
    assert payload["total"] == len(rows) == 5
    assert {a["id"] for a in payload["articles"]} == set(rows)
    for article in payload["articles"]:
        row = rows[article["id"]]
        assert article == {"id": row["id"], "title": row["title"], "source": row["source"],
                           "published": row["published"], "url": row["url"], "mention_count": row["n"]}
    # Newest first, undated last.
    dates = [a["published"] for a in payload["articles"]]
    assert dates == ["2023-12-30", "2022-04-13", "2022-03-26", None, None]


def test_articles_paging(client):
    first = client.get("/api/articles?limit=2").get_json()["articles"]
    rest = client.get("/api/articles?limit=10&offset=2").get_json()["articles"]
    assert len(first) == 2 and len(rest) == 3
    assert [a["id"] for a in first + rest] == [a["id"] for a in client.get("/api/articles").get_json()["articles"]]


@pytest.mark.parametrize("query, field", [("limit=-1", "limit"), ("limit=abc", "limit"), ("limit=10001", "limit"),
                                          ("offset=1e3", "offset"), ("offset=" + "9" * 40, "offset")])
def test_articles_paging_rejects_bad_values(client, query, field):
    response = client.get(f"/api/articles?{query}")
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_article_has_text_and_every_mention(client, conn):
    article_id = conn.execute("SELECT id FROM articles WHERE key = '002_78ba372d644b4f3f.txt'").fetchone()[0]
    payload = client.get(f"/api/articles/{article_id}").get_json()
    row = conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
    assert (payload["id"], payload["title"], payload["source"], payload["text"]) == (
        row["id"], row["title"], "TASS", row["text"])
    stored = conn.execute("SELECT m.*, p.name FROM mentions m LEFT JOIN places p ON p.id = m.place_id"
                          " WHERE article_id = ? ORDER BY start", (article_id,)).fetchall()
    assert payload["mention_count"] == len(payload["mentions"]) == len(stored) > 10
    for mention, m in zip(payload["mentions"], stored):
        assert mention == {"id": m["id"], "start": m["start"], "end": m["end"], "text": m["text"],
                           "kind": m["kind"], "place_id": m["place_id"], "score": m["score"],
                           "place_name": m["name"], "sentence_start": m["sentence_start"],
                           "sentence_end": m["sentence_end"], "alternatives": json.loads(m["alternatives"])}
        assert payload["text"][mention["start"]:mention["end"]] == mention["text"]


def test_place_has_its_record_and_mentions(client, conn):
    payload = client.get("/api/places/cur:lachin-corridor").get_json()
    place = payload["place"]
    row = conn.execute("SELECT * FROM places WHERE id = 'cur:lachin-corridor'").fetchone()
    assert (place["id"], place["name"], place["feature"], place["version"]) == (
        row["id"], row["name"], row["feature"], row["version"])
    assert place["geometry"] == json.loads(row["geometry"]) and place["geometry_type"] != "Point"
    stored = conn.execute("SELECT COUNT(*), COUNT(DISTINCT article_id) FROM mentions"
                          " WHERE place_id = 'cur:lachin-corridor'").fetchone()
    assert (payload["mention_count"], payload["article_count"]) == tuple(stored)
    assert len(payload["mentions"]) == stored[0] >= 2
    for mention in payload["mentions"]:
        assert mention["sentence"][mention["start"]:mention["end"]] == mention["text"]
        assert mention["text"].lower().startswith("lachin")


def test_features_equal_the_mapview_collection(client, conn):
    for query, args in [("", {}), ("source=TASS", {"source": "TASS"}),
                        ("from=2022-01-01&to=2022-12-31&feature=country", {"from": "2022-01-01", "to": "2022-12-31",
                                                                           "feature": "country"})]:
        response = client.get(f"/api/features?{query}")
        assert response.status_code == 200 and response.mimetype == "application/geo+json"
        assert json.loads(response.data) == feature_collection(conn, MapFilters.from_args(args))
    assert json.loads(client.get("/api/features?source=TASS").data)["features"]


def test_facets(client):
    payload = client.get("/api/facets").get_json()
    assert [s["name"] for s in payload["sources"]] == ["Armenpress", "Azernews", "Meduza", "TASS", "(unknown)"]
    assert payload["dates"] == {"min": "2022-03-26", "max": "2023-12-30"}


@pytest.mark.parametrize("route", ["/api/articles/{}", "/api/places/{}"])
@pytest.mark.parametrize("value", GARBAGE + ["999999"])
def test_unknown_ids_are_404_json(client, route, value):
    response = client.get(route.format(value))
    assert response.status_code == 404, response.data
    assert response.is_json and response.get_json()["error"]


@pytest.mark.parametrize("param", ["source", "from", "to", "article", "place", "feature", "q", "demonyms"])
@pytest.mark.parametrize("value", GARBAGE + ["x" * 5000])
def test_garbage_filters_are_200_or_400_naming_the_parameter(client, conn, param, value):
    before = conn.execute("SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM mentions)").fetchone()
    response = client.get(f"/api/features?{param}={value}")
    assert response.status_code in (200, 400), response.data
    if response.status_code == 400:
        assert response.get_json()["field"] == param
    else:
        assert json.loads(response.data)["type"] == "FeatureCollection"
    assert tuple(conn.execute("SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM mentions)"
                              ).fetchone()) == tuple(before)


@pytest.mark.parametrize("query, field", [
    ("from=2022-13-01", "from"), ("to=tomorrow", "to"), ("from=2023-01-01&to=2022-01-01", "from"),
    ("article=-3", "article"), ("article=999999", "article"), ("article=1&article=x", "article"),
    ("place=gn:nowhere", "place"), ("feature=spaceport", "feature"), ("demonyms=2", "demonyms"),
    ("q=" + quote("a\x00"), "q"),
])
def test_bad_filters_are_400_naming_the_parameter(client, query, field):
    response = client.get(f"/api/features?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == field and body["error"]


@pytest.mark.parametrize("route", ["/api/articles", "/api/articles/1", "/api/places/cur:lachin-corridor",
                                   "/api/features", "/api/facets"])
def test_routes_answer_json_and_refuse_writes(client, route):
    response = client.get(route)
    assert response.status_code == 200 and response.data.strip().startswith((b"{", b"["))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.post(route).status_code == 405
    assert client.post(route).is_json


def test_unknown_api_route_is_404_json(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404 and response.is_json


def _vertices(geometry: dict) -> int:
    """How many positions a GeoJSON geometry holds."""
    def count(coords):
        return 1 if coords and isinstance(coords[0], (int, float)) else sum(count(c) for c in coords)
    if geometry["type"] == "GeometryCollection":
        return sum(_vertices(g) for g in geometry["geometries"])
    return count(geometry["coordinates"])


def test_features_at_a_zoom_are_smaller_and_still_valid_shapes(client):
    import shapely

    stored_body = client.get("/api/features").data
    stored = json.loads(stored_body)
    sizes = {}
    for zoom in (4, 8, 12):
        response = client.get(f"/api/features?zoom={zoom}")
        assert response.status_code == 200 and response.mimetype == "application/geo+json"
        sizes[zoom] = len(response.data)
        simplified = json.loads(response.data)
        # The same places, counts and mentions: only the shapes' detail changes.
        assert [f["id"] for f in simplified["features"]] == [f["id"] for f in stored["features"]]
        assert [f["properties"] for f in simplified["features"]] == [f["properties"] for f in stored["features"]]
        pixel = 360 / (256 * 2 ** zoom)  # degrees per screen pixel at the equator
        for before, after in zip(stored["features"], simplified["features"]):
            shape, original = (shapely.geometry.shape(f["geometry"]) for f in (after, before))
            assert shape.geom_type.replace("Multi", "") == original.geom_type.replace("Multi", ""), after["id"]
            assert shape.is_valid and not shape.is_empty, after["id"]
            assert _vertices(after["geometry"]) <= _vertices(before["geometry"])
            if original.area > (100 * pixel) ** 2:  # a shape that shows: it keeps its size and place
                assert abs(shape.area - original.area) <= 0.05 * original.area, after["id"]
                assert original.contains(shape.representative_point()) or \
                    original.distance(shape.representative_point()) < pixel
    assert sizes[4] < sizes[8] < len(stored_body)
    assert sizes[12] == len(stored_body)  # from zoom 12 on, as stored
    assert sizes[4] < len(stored_body) / 2


@pytest.mark.parametrize("zoom", ["-1", "20", "4.5", "x"])
def test_a_bad_zoom_is_400_naming_it(client, zoom):
    response = client.get(f"/api/features?zoom={zoom}")
    assert response.status_code == 400 and response.get_json()["field"] == "zoom"
