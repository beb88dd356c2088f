"""Map views: filter validation and the FeatureCollection built from the stored seeds."""
from __future__ import annotations

import json

import pytest
from werkzeug.datastructures import MultiDict

from mapapp.articles import ingest_paths
from mapapp.db import connect
from mapapp.errors import InvalidInput
from mapapp.maps.features import facets, feature_collection, feature_collection_json
from mapapp.maps.filters import MapFilters


@pytest.fixture
def conn(seeded_app):
    connection = connect(seeded_app.config["DATABASE"])
    yield connection
    connection.close()


def ids_by_key(conn) -> dict[str, int]:
    return {row["key"]: row["id"] for row in conn.execute("SELECT id, key FROM articles")}


@pytest.mark.parametrize("args, field", [
    ({"from": "2022-02-30"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"to": "2022-1-1"}, "to"),
    ({"to": "２０２２-01-01"}, "to"),
    ({"from": "2023-01-02", "to": "2023-01-01"}, "from"),
    ({"article": "-1"}, "article"),
    ({"article": "0"}, "article"),
    ({"article": "abc"}, "article"),
    ({"article": "1.5"}, "article"),
    ({"article": "١"}, "article"),  # an Arabic-Indic digit is not an id
    ({"article": "9" * 30}, "article"),
    ({"demonyms": "maybe"}, "demonyms"),
    ({"source": "x" * 201}, "source"),
    ({"q": "a\x00b"}, "q"),
    ({"place": ["gn:1", "gn:2"]}, "place"),
    ({"feature": ["city"] * 101}, "feature"),
])
def test_bad_filters_name_the_parameter(args, field):
    with pytest.raises(InvalidInput) as caught:
        MapFilters.from_args(MultiDict(args))
    assert caught.value.field == field


def test_filters_parse_repeatable_values_and_round_trip():
    args = MultiDict([("source", "TASS"), ("source", "Meduza"), ("source", "TASS"), ("from", "2020-01-01"),
                      ("to", "2022-12-31"), ("article", "3"), ("article", "1"), ("feature", "country"),
                      ("q", " Lachin "), ("demonyms", "1"), ("zoom", "7")])
    filters = MapFilters.from_args(args)
    assert filters == MapFilters(sources=("TASS", "Meduza"), date_from="2020-01-01", date_to="2022-12-31",
                                 articles=(1, 3), features=("country",), q="Lachin", demonyms=True)
    assert MapFilters.from_args(MultiDict(filters.to_args())) == filters
    assert MapFilters.from_args({}) == MapFilters()
    assert MapFilters.from_args({"article": [2, "5"], "source": "TASS"}).articles == (2, 5)


@pytest.mark.parametrize("args, field", [({"article": "999999"}, "article"), ({"place": "gn:nowhere"}, "place"),
                                         ({"feature": "spaceport"}, "feature")])
def test_filters_naming_nothing_stored_are_invalid(conn, args, field):
    with pytest.raises(InvalidInput) as caught:
        feature_collection(conn, MapFilters.from_args(args))
    assert caught.value.field == field


def test_feature_collection_matches_the_stored_mentions(conn):
    collection = feature_collection(conn, MapFilters())
    assert collection["type"] == "FeatureCollection"
    features = {f["id"]: f for f in collection["features"]}
    counts = {row[0]: (row[1], row[2]) for row in conn.execute(
        "SELECT place_id, COUNT(*), COUNT(DISTINCT article_id) FROM mentions"
        " WHERE kind = 'place' AND place_id IS NOT NULL GROUP BY place_id")}
    assert set(features) == set(counts)
    texts = dict(conn.execute("SELECT id, text FROM articles").fetchall())
    for place_id, feature in features.items():
        props = feature["properties"]
        assert feature["type"] == "Feature" and props["place_id"] == place_id
        assert (props["mention_count"], props["article_count"]) == counts[place_id]
        place = conn.execute("SELECT * FROM places WHERE id = ?", (place_id,)).fetchone()
        assert (props["name"], props["feature"], props["country_code"]) == (
            place["name"], place["feature"], place["country_code"])
        expected = json.loads(place["geometry"]) if place["geometry"] else {
            "type": "Point", "coordinates": [place["lon"], place["lat"]]}
        assert feature["geometry"] == expected
        assert 1 <= len(props["mentions"]) <= min(10, props["mention_count"])
        for mention in props["mentions"]:
            assert mention["sentence"][mention["start"]:mention["end"]] == mention["text"]
            assert mention["sentence"] in texts[mention["article_id"]]
    # Country-level mentions are the country's outline, not a point; the corridor is a shape too.
    assert features["gn:174982"]["geometry"]["type"] in ("Polygon", "MultiPolygon")  # Armenia
    assert features["cur:lachin-corridor"]["geometry"]["type"] != "Point"
    counts_order = [f["properties"]["mention_count"] for f in collection["features"]]
    assert counts_order == sorted(counts_order, reverse=True)


def test_demonyms_only_on_request(conn):
    russia = "gn:2017370"
    plain = {f["id"]: f for f in feature_collection(conn, MapFilters())["features"]}[russia]
    with_demonyms = {f["id"]: f for f in feature_collection(conn, MapFilters(demonyms=True))["features"]}[russia]
    demonyms = conn.execute("SELECT COUNT(*) FROM mentions WHERE place_id = ? AND kind = 'demonym'",
                            (russia,)).fetchone()[0]
    assert demonyms > 0
    assert with_demonyms["properties"]["mention_count"] == plain["properties"]["mention_count"] + demonyms
    assert all(m["text"] != "Russian" for m in plain["properties"]["mentions"])


def _article_ids(collection) -> set[int]:
    return {m["article_id"] for f in collection["features"] for m in f["properties"]["mentions"]}


def test_filters_select_the_right_mentions(conn):
    ids = ids_by_key(conn)
    tass = ids["002_78ba372d644b4f3f.txt"]
    assert _article_ids(feature_collection(conn, MapFilters(sources=("TASS",)))) == {tass}
    assert _article_ids(feature_collection(conn, MapFilters(articles=(tass,)))) == {tass}
    # Dated 2022-03-26 and 2022-04-13; undated articles drop out once a date bound is set.
    in_2022 = feature_collection(conn, MapFilters(date_from="2022-01-01", date_to="2022-12-31"))
    assert _article_ids(in_2022) == {ids["000_a684e645084e4b31.txt"], ids["003_3f978acfd462ee6c.txt"]}
    assert _article_ids(feature_collection(conn, MapFilters(date_from="2022-04-13", date_to="2022-04-13"))) == \
        {ids["003_3f978acfd462ee6c.txt"]}
    countries = feature_collection(conn, MapFilters(features=("country",)))
    assert countries["features"] and {f["properties"]["feature"] for f in countries["features"]} == {"country"}
    lachin = feature_collection(conn, MapFilters(q="lachin"))
    assert {f["properties"]["name"] for f in lachin["features"]} >= {"Lachin corridor"}
    assert all("lachin" in f["properties"]["name"].lower() for f in lachin["features"])
    one = feature_collection(conn, MapFilters(place="cur:lachin-corridor"))
    assert [f["id"] for f in one["features"]] == ["cur:lachin-corridor"]
    # LIKE wildcards in q are literal.
    assert feature_collection(conn, MapFilters(q="%"))["features"] == []


def test_mentions_are_capped_at_ten_newest_first(conn, geoparser, tmp_path):
    for day in range(1, 13):
        (tmp_path / f"baku-{day:02}.txt").write_text(
            f"---\ndate: 2030-01-{day:02}\nsource: Capwire\n---\nReport {day}\n\nTalks were held in Baku today.",
            encoding="utf-8")
    ingest_paths(conn, geoparser, [tmp_path], progress=False)
    baku = conn.execute("SELECT place_id FROM mentions WHERE text = 'Baku' GROUP BY place_id "
                        "ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
    [feature] = feature_collection(conn, MapFilters(place=baku, sources=("Capwire",)))["features"]
    props = feature["properties"]
    assert props["mention_count"] == props["article_count"] == 12
    assert [m["published"] for m in props["mentions"]] == [f"2030-01-{day:02}" for day in range(12, 2, -1)]
    assert props["mentions"][0]["title"] == "Report 12"
    assert props["mentions"][0]["sentence"] == "Talks were held in Baku today."


def test_cached_json_follows_new_articles(conn, geoparser, tmp_path):
    filters = MapFilters(sources=("Fresh",))
    assert json.loads(feature_collection_json(conn, filters)) == {
        "type": "FeatureCollection", "features": []}
    (tmp_path / "fresh.txt").write_text("---\nsource: Fresh\n---\nNews\n\nTalks in Yerevan.", encoding="utf-8")
    ingest_paths(conn, geoparser, [tmp_path / "fresh.txt"], progress=False)
    cached = json.loads(feature_collection_json(conn, filters))
    assert cached == feature_collection(conn, filters)
    assert [f["properties"]["name"] for f in cached["features"]] == ["Yerevan"]


def test_facets_list_sources_dates_and_features(conn):
    found = facets(conn)
    assert [s["name"] for s in found["sources"]] == ["Armenpress", "Azernews", "Meduza", "TASS", "(unknown)"]
    assert all(s["articles"] == 1 for s in found["sources"])
    assert found["dates"] == {"min": "2022-03-26", "max": "2023-12-30"}
    assert (found["article_count"], found["undated_count"]) == (5, 2)
    assert {"country", "city"} <= {f["name"] for f in found["features"]}

