"""Embeds: the map views without site chrome, frameable by other sites; every other page refuses framing."""
from __future__ import annotations

import pytest
from mapdata import data_layer_options, seed_sample

from mapapp import create_app
from mapapp.db import connect

EMBEDS = ["/embed/", "/embed/?source=Azernews&lat=40&lon=45&zoom=6", "/embed/articles/{a1}",
          "/embed/places/{corridor}"]
NOT_EMBEDS = ["/", "/articles/{a1}", "/places/{corridor}", "/api/features", "/api/articles", "/outlines.json",
              "/vendor/leaflet/leaflet.js", "/admin/", "/auth/login", "/articles/999999"]


@pytest.mark.parametrize("url", EMBEDS)
def test_embeds_may_be_framed_by_any_origin_by_default(client, sample, url):
    response = client.get(url.format(**sample))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("url", NOT_EMBEDS)
def test_every_other_page_refuses_framing(client, sample, url):
    response = client.get(url.format(**sample))
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_embed_frame_ancestors_follow_config(data_dir, sample_in):
    app = create_app(data_dir, {"TESTING": True, "SECRET_KEY": "t", "LOAD_SEEDS": False,
                                "TILES_URL": "", "EMBED_FRAME_ANCESTORS": "https://news.example https://blog.example"})
    client = app.test_client()
    csp = client.get("/embed/").headers["Content-Security-Policy"]
    assert "frame-ancestors https://news.example https://blog.example" in csp
    assert client.get("/").headers["X-Frame-Options"] == "DENY"


@pytest.fixture
def sample_in(data_dir):
    """The sample articles stored straight into the data folder (for tests that build their own app)."""
    conn = connect(data_dir / "mapapp.sqlite3")
    try:
        yield seed_sample(conn)
    finally:
        conn.close()


@pytest.mark.parametrize("url", EMBEDS)
def test_embeds_have_no_site_chrome_and_open_links_in_a_new_tab(client, sample, url):
    html = client.get(url.format(**sample)).get_data(as_text=True)
    assert 'class="site-header"' not in html and 'class="site-footer"' not in html
    options = data_layer_options(html)
    assert options["linkTarget"] == "_blank"
    assert 'id="place-list"' in html  # the list view is still there for screen readers


def test_embed_overview_keeps_the_url_filters(client, sample):
    options = data_layer_options(client.get("/embed/?source=Azernews&from=2023-01-01").get_data(as_text=True))
    assert options["dataUrl"] == "/api/features"
    assert options["state"]["source"] == ["Azernews"] and options["state"]["from"] == "2023-01-01"


@pytest.mark.parametrize("query, detail", [("", 4), ("?lat=40&lon=45&zoom=7", 6), ("?lat=40&lon=45&zoom=8.5", 8),
                                           ("?lat=40&lon=45&zoom=17", 12)])
def test_embed_overview_asks_for_the_shapes_of_its_zoom(client, sample, query, detail):
    html = client.get("/embed/" + query).get_data(as_text=True)
    options = data_layer_options(html)
    assert options["detailZoom"] == detail and options["initialUrl"].endswith(f"zoom={detail}")
    assert f'<link rel="preload" as="fetch" href="{options["initialUrl"]}"' in html  # the request the page makes
    assert client.get(options["initialUrl"]).data == client.get(f"/api/features?zoom={detail}").data


def test_embeds_of_one_article_or_place_carry_the_stored_shapes(client, sample):
    stored = {f["id"]: f["geometry"] for f in client.get("/api/features").get_json()["features"]}
    for url in (f"/embed/articles/{sample['a2']}", f"/embed/places/{sample['karabakh']}"):
        options = data_layer_options(client.get(url).get_data(as_text=True))
        assert options["detailZoom"] is None  # inline: no request to refine, so every zoom has its detail
        for feature in options["data"]["features"]:
            assert feature["geometry"] == stored[feature["id"]]


def test_embed_of_one_article_carries_only_its_places(client, sample):
    options = data_layer_options(client.get(f"/embed/articles/{sample['a2']}").get_data(as_text=True))
    assert options["dataUrl"] is None
    assert {f["id"] for f in options["data"]["features"]} == {sample["baku"], sample["corridor"], sample["karabakh"]}
    assert {m["article_id"] for f in options["data"]["features"] for m in f["properties"]["mentions"]} == {sample["a2"]}


def test_embed_of_one_place_draws_its_shape(client, sample):
    options = data_layer_options(client.get(f"/embed/places/{sample['karabakh']}").get_data(as_text=True))
    (feature,) = options["data"]["features"]
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")


@pytest.mark.parametrize("url", ["/embed/articles/999999", "/embed/articles/x", "/embed/places/gn:0"])
def test_embed_unknown_ids_are_404(client, sample, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url, field", [("/embed/?from=2022-13-01", "from"), ("/embed/?lat=1&lon=2&zoom=50", "zoom")])
def test_embed_bad_filters_are_400(client, sample, url, field):
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_share_button_points_at_the_embed_route(client, sample):
    html = client.get("/").get_data(as_text=True)
    assert 'id="share-button"' in html
    assert 'mapapp.shareControl(data_layer_' in html and '"/embed/");' in html
    article = client.get(f"/articles/{sample['a1']}").get_data(as_text=True)
    assert f'"/embed/articles/{sample["a1"]}");' in article


def test_embed_overview_offers_the_density_view(client, sample):
    html = client.get("/embed/?view=density&by=admin1").get_data(as_text=True)
    assert 'id="view-density"' in html and 'id="density-play"' in html and 'id="density-by"' in html
    assert 'mapapp.densityView(data_layer_' in html and '"url":"/api/density"' in html
    for url in (f"/embed/articles/{sample['a1']}", f"/embed/places/{sample['karabakh']}"):
        assert "mapapp.densityView(" not in client.get(url).get_data(as_text=True)  # as their pages: no density
