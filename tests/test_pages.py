"""Public pages: the overview map, article pages, place pages, the offline basemap and the local assets."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from mapdata import add_article, data_layer_options, place_id

from mapapp.db import connect
from mapapp.maps import basemap
from mapapp.maps.vendor import MAP_ASSETS, VENDOR_DIRS


def asset_urls(html: str) -> list[str]:
    """Every script src and stylesheet href of a page."""
    return re.findall(r'<script[^>]+src="([^"]+)"', html) + re.findall(r'<link[^>]+href="([^"]+)"', html)


def visible_text(html: str) -> str:
    """The text of an HTML fragment without its tags, entities decoded."""
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", "", html))


# ------------------------------------------------------------------------------------------ overview
def test_overview_loads_its_data_as_json_from_the_api(client, sample):
    html = client.get("/").get_data(as_text=True)
    options = data_layer_options(html)
    assert options["dataUrl"] == "/api/features"
    assert options["data"] is None, "the overview must not inline every popup"
    assert options["facets"]["sources"] == ["Armenpress", "Azernews", "(unknown)"]
    assert options["facets"]["min_date"] == "2022-03-26" and options["facets"]["max_date"] == "2023-12-30"
    assert {"city", "country", "corridor", "region"} <= set(options["facets"]["features"])
    # the URL the page fetches answers with the places the sample stored
    features = client.get(options["dataUrl"]).get_json()["features"]
    assert {f["id"] for f in features} == {sample[k] for k in ("yerevan", "baku", "armenia", "corridor", "karabakh")}


def test_overview_page_size_does_not_grow_with_the_data(app, client, sample):
    before = len(client.get("/").data)
    conn = connect(app.config["DATABASE"])
    cities = conn.execute("SELECT id, name FROM places WHERE feature = 'city' AND name GLOB '[A-Z][a-z]*'"
                          " ORDER BY population DESC LIMIT 150").fetchall()
    for number, city in enumerate(cities):
        add_article(conn, title=f"Report {number} " + "x" * 200, source="Armenpress", published="2022-05-01",
                    text=f"Report {number}\n" + f"{city['name']} is busy today. " * 5,
                    places={city["name"]: city["id"]})
    conn.close()
    after = client.get("/")
    # 150 more articles naming 150 more places: the page itself stays the same size, the JSON grows.
    assert abs(len(after.data) - before) < 200
    assert len(client.get("/api/features").data) > before * 5


def test_overview_state_comes_from_the_url(client, sample):
    url = (f"/?source=Azernews&from=2023-01-01&to=2023-12-31&feature=city&article={sample['a2']}"
           f"&sel={sample['baku']}&lat=40.1&lon=47.5&zoom=7&q=ba")
    options = data_layer_options(client.get(url).get_data(as_text=True))
    assert options["state"] == {"source": ["Azernews"], "from": "2023-01-01", "to": "2023-12-31",
                                "feature": ["city"], "article": [str(sample["a2"])], "sel": sample["baku"],
                                "undated": False}
    assert options["fixedParams"] == {"q": "ba"}
    view = data_layer_options(client.get(url).get_data(as_text=True))
    assert view["state"]["sel"] == sample["baku"]
    start = re.search(r"mapapp\.start\(data_layer_\w+, (\{.*?\})\)", client.get(url).get_data(as_text=True))
    assert json.loads(start.group(1)) == {"lat": 40.1, "lon": 47.5, "zoom": 7.0}


@pytest.mark.parametrize("query, field", [
    ("from=2022-02-30", "from"), ("to=yesterday", "to"), ("article=abc", "article"), ("article=999999", "article"),
    ("lat=91&lon=0&zoom=3", "lat"), ("lat=10&lon=200&zoom=3", "lon"), ("lat=10&lon=20&zoom=99", "zoom"),
    ("lat=10&lon=20&zoom=nan", "zoom"), ("feature=spaceport", "feature"), ("sel=" + "x" * 300, "sel"),
])
def test_overview_rejects_bad_url_state_with_400_naming_it(client, sample, query, field):
    response = client.get("/?" + query)
    assert response.status_code == 400
    assert field in response.get_data(as_text=True)
    json_response = client.get("/?" + query, headers={"Accept": "application/json"})
    assert json_response.status_code == 400 and json_response.get_json()["field"] == field


def test_overview_of_an_empty_database(client):
    response = client.get("/")
    assert response.status_code == 200
    options = data_layer_options(response.get_data(as_text=True))
    assert options["facets"] == {"sources": [], "features": [], "min_date": "", "max_date": ""}
    assert client.get(options["dataUrl"]).get_json()["features"] == []


def test_map_urls_follow_a_mount_prefix(client, sample):
    html = client.get("/", base_url="http://localhost/news-maps/").get_data(as_text=True)
    options = data_layer_options(html)
    assert options["dataUrl"] == "/news-maps/api/features"
    assert options["links"]["base"] == "/news-maps"
    assert options["icons"]["icon"].startswith("/news-maps/vendor/leaflet/images/")
    assert all(url.startswith(("/news-maps/", "data:")) for url in asset_urls(html)), asset_urls(html)


def test_overview_has_the_controls_and_list_view(client, sample):
    html = client.get("/").get_data(as_text=True)
    for element_id in ("place-search-input", "filter-sources", "filter-from", "filter-to", "filter-from-range",
                       "filter-to-range", "layer-features", "layer-articles", "place-list", "share-button",
                       "share-snippet"):
        assert f'id="{element_id}"' in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "user-scalable=no" not in html  # pinch-zoom stays available
    assert "mapapp.fitControl(" in html and "mapapp.urlState(" in html and "mapapp.shareControl(" in html


# ------------------------------------------------------------------------------------- article page
def test_article_page_marks_every_mention_from_its_offsets(client, sample, app):
    response = client.get(f"/articles/{sample['a1']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    conn = connect(app.config["DATABASE"])
    article = conn.execute("SELECT * FROM articles WHERE id = ?", (sample["a1"],)).fetchone()
    mentions = conn.execute("SELECT * FROM mentions WHERE article_id = ? ORDER BY start", (sample["a1"],)).fetchall()
    conn.close()
    body = re.search(r'<div id="article-text" class="article-text">(.*?)</div>', html, re.S).group(1)
    marks = re.findall(r'<mark id="m-(\d+)" data-place-id="([^"]+)"[^>]*>(.*?)</mark>', body, re.S)
    assert [(int(i), p, t) for i, p, t in marks] == [(m["id"], m["place_id"], m["text"]) for m in mentions]
    assert visible_text(body) == article["text"]  # marking changes no character of the text
    assert all('tabindex="0"' in tag for tag in re.findall(r"<mark [^>]*>", body))
    assert "Armenpress" in html and "2022-03-26" in html and 'href="https://example.org/a1"' in html
    options = data_layer_options(html)
    assert options["dataUrl"] is None  # the article's own places travel inline, nothing else is fetched
    assert {f["id"] for f in options["data"]["features"]} == {sample["yerevan"], sample["armenia"],
                                                              sample["corridor"]}
    assert "mapapp.bindMarks(" in html


def test_article_page_highlights_the_place_it_was_opened_for(client, sample):
    html = client.get(f"/articles/{sample['a1']}?place={sample['yerevan']}").get_data(as_text=True)
    current = re.findall(r'<mark [^>]*data-place-id="([^"]+)"[^>]*class="[^"]*is-current', html)
    assert current and set(current) == {sample["yerevan"]}


def test_article_page_links_only_web_urls(client, app):
    conn = connect(app.config["DATABASE"])
    article = add_article(conn, title="Odd link", text="Odd link\nNothing here.", places={},
                          url="javascript:alert(1)")
    conn.close()
    html = client.get(f"/articles/{article}").get_data(as_text=True)
    assert "javascript:alert" not in html


# --------------------------------------------------------------------------------------- place page
def test_place_page_shows_names_shape_and_every_mention(client, sample):
    html = client.get(f"/places/{sample['corridor']}").get_data(as_text=True)
    assert "<h1 id=\"place-name\">Lachin corridor</h1>" in html
    assert "Berdzor corridor" in html  # an alias from the gazetteer
    options = data_layer_options(html)
    assert options["dataUrl"] is None
    (feature,) = options["data"]["features"]
    assert feature["geometry"]["type"] == "Polygon"  # the 5 km band of the 2020 statement
    items = re.findall(
        r"<li>\s*<a href=\"(/articles/\d+\?place=[^\"]+#m-\d+)\">(.*?)</a>.*?<blockquote>(.*?)</blockquote>",
        html, re.S)
    assert {title for _href, title, _quote in items} == {"Talks in Yerevan", "Baku statement"}
    assert all("<mark data-place-id=\"cur:lachin-corridor\">Lachin corridor</mark>" in q for _h, _t, q in items)


def test_place_page_of_an_unmentioned_place_still_maps_it(client, app):
    conn = connect(app.config["DATABASE"])
    tbilisi = place_id(conn, "Tbilisi", "city")
    conn.close()
    html = client.get(f"/places/{tbilisi}").get_data(as_text=True)
    assert "No article mentions this place yet." in html
    (feature,) = data_layer_options(html)["data"]["features"]
    assert feature["id"] == tbilisi and feature["geometry"]["type"] == "Point"
    assert feature["properties"]["mentions"] == []


@pytest.mark.parametrize("url", ["/articles/999999", "/articles/abc", "/articles/0", "/articles/-1",
                                 "/articles/99999999999999999999999", "/places/gn:0", "/places/nope%3Cscript%3E"])
def test_unknown_ids_are_a_404_page(client, sample, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
    assert "<script>" not in response.get_data(as_text=True)


# ------------------------------------------------------------------------------------ offline basemap
def vertices(geometries) -> int:
    """How many coordinate pairs the geometries hold."""
    return len(re.findall(r"\[-?[\d.]+, ?-?[\d.]+\]", json.dumps(geometries)))


def test_outlines_are_simplified_country_polygons(client, app):
    response = client.get("/outlines.json")
    assert response.status_code == 200
    outlines = response.get_json()
    conn = connect(app.config["DATABASE"])
    stored = {row["id"]: json.loads(row["geometry"]) for row in conn.execute(
        "SELECT id, geometry FROM places WHERE feature = 'country' AND geometry IS NOT NULL")}
    approximate = {row[0] for row in conn.execute(
        "SELECT id FROM places WHERE feature = 'country' AND geometry IS NOT NULL AND approximate")}
    conn.close()
    served_ids = {f["id"] for f in outlines["features"]}
    # every real outline is served; only approximate hulls of far-apart islands (mostly ocean) are left out
    assert served_ids <= set(stored) and set(stored) - served_ids <= approximate
    assert len(stored) - 10 <= len(served_ids) and len(served_ids) > 150
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in outlines["features"])
    # simplified: fewer vertices than the stored shapes
    served = vertices([f["geometry"] for f in outlines["features"]])
    assert served < vertices(list(stored.values()))
    conn = connect(app.config["DATABASE"])
    coarse = basemap.country_outlines(conn, app.config["DATABASE"], tolerance=0.5)
    conn.close()
    assert len(coarse["features"]) > 150 and vertices([f["geometry"] for f in coarse["features"]]) < served / 2
    armenia = next(f for f in outlines["features"] if f["properties"]["name"] == "Armenia")
    assert armenia["id"] in stored


def test_outline_cache_follows_gazetteer_edits(client, app):
    first = client.get("/outlines.json").get_json()
    conn = connect(app.config["DATABASE"])
    with conn:
        conn.execute("UPDATE places SET name = 'Renamed land', version = version + 1 WHERE id = ("
                     "SELECT id FROM places WHERE feature = 'country' AND name = 'Armenia')")
        conn.execute("INSERT INTO meta (key, value) VALUES ('gazetteer_version', '999')"
                     " ON CONFLICT(key) DO UPDATE SET value = '999'")
    conn.close()
    names = {f["properties"]["name"] for f in client.get("/outlines.json").get_json()["features"]}
    assert "Renamed land" in names and "Armenia" not in names
    assert len(names) == len(first["features"])


# ----------------------------------------------------------------------------------------- assets
@pytest.mark.parametrize("asset", MAP_ASSETS, ids=lambda a: a.url)
def test_map_assets_are_served_locally(client, asset):
    response = client.get(asset.url)
    assert response.status_code == 200
    assert response.data == Path(asset.path).read_bytes()


@pytest.mark.parametrize("url", ["/vendor/leaflet/images/marker-icon.png", "/vendor/leaflet/images/layers.png"])
def test_leaflet_images_are_served(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == (VENDOR_DIRS["leaflet"] / url.split("/leaflet/")[1]).read_bytes()


@pytest.mark.parametrize("url", ["/vendor/nope/leaflet.js", "/vendor/leaflet/missing.js",
                                 "/vendor/leaflet/../../../../etc/passwd", "/vendor/leaflet/%2e%2e/__init__.py"])
def test_vendor_serves_nothing_else(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/", "/articles/{a1}", "/places/{corridor}", "/embed/", "/embed/articles/{a1}",
                                 "/embed/places/{corridor}"])
def test_pages_need_no_cdn(client, sample, url):
    html = client.get(url.format(**sample)).get_data(as_text=True)
    urls = asset_urls(html)
    assert "/vendor/leaflet/leaflet.js" in urls and "/vendor/markercluster/leaflet.markercluster.js" in urls
    assert all(u.startswith("/") and not u.startswith("//") or u.startswith("data:") for u in urls), urls
    for library in ("jquery", "bootstrap", "awesome-markers", "fontawesome", "cdn.jsdelivr", "cdnjs"):
        assert library not in html.lower()


def test_tiles_and_attribution_come_from_config(gazetteer_template, tmp_path):
    from conftest import copy_data_dir

    from mapapp import create_app

    data = copy_data_dir(gazetteer_template, tmp_path / "data")
    app = create_app(data, {"TESTING": True, "SECRET_KEY": "t", "LOAD_SEEDS": False,
                            "TILES_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png"})
    html = app.test_client().get("/").get_data(as_text=True)
    tiles = re.search(r'L\.tileLayer\(\s*("[^"]+"),\s*(\{.*?\})\s*\);', html, re.S)
    assert json.loads(tiles.group(1)) == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap</a> contributors" in json.loads(re.sub(r",\s*}$", "}", tiles.group(2)))["attribution"]
    assert "GeoNames" in data_layer_options(html)["attribution"]
    assert "CC-BY 4.0" in data_layer_options(html)["attribution"]


def test_text_pieces_skip_overlapping_and_out_of_range_spans():
    from mapapp.maps.views import text_pieces

    text = "In 🇦🇲 Yerevan and Lake Sevan."
    spans = [{"start": 6, "end": 13, "id": 1}, {"start": 9, "end": 15, "id": 2},  # overlaps the first
             {"start": 18, "end": 28, "id": 3}, {"start": 25, "end": 99, "id": 4}, {"start": 5, "end": 5, "id": 5}]
    pieces = text_pieces(text, spans)
    assert "".join(piece for piece, _m in pieces) == text
    assert [(piece, m["id"]) for piece, m in pieces if m] == [("Yerevan", 1), ("Lake Sevan", 3)]


def test_a_polygon_across_the_antimeridian_is_split_there():
    from shapely.geometry import Polygon

    crossing = Polygon([(170, -10), (-170, -10), (-170, 10), (170, 10)])  # 20° wide, stored wrapped
    split = basemap.split_antimeridian(crossing)
    assert split.geom_type == "MultiPolygon"
    assert sorted(round(p.bounds[0]) for p in split.geoms) == [-180, 170]
    assert round(split.area) == 400
    for polygon in split.geoms:
        xs = [x for x, _y in polygon.exterior.coords]
        assert max(xs) - min(xs) <= 10
    plain = Polygon([(40, 40), (50, 40), (50, 45)])
    assert basemap.split_antimeridian(plain) is plain
