"""The maps in a real Chromium: seeds ingested by the real pipeline, one server for the whole module."""
from __future__ import annotations

import json
import re
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from admin_support import make_app
from click.testing import CliRunner
from conftest import copy_data_dir, serving
from playwright.sync_api import expect

from mapapp.db import DATABASE_NAME, connect

pytestmark = pytest.mark.browser

LOCAL = re.compile(r"^(https?://(127\.0\.0\.1|localhost)(:\d+)?/|file:|data:|blob:|about:)")


@pytest.fixture(scope="module")
def seeded_data(gazetteer_template, tmp_path_factory):
    """A data folder with the seed articles ingested through the real geoparser."""
    from mapapp.articles import load_seeds
    from mapapp.gazetteer import open_gazetteer
    from mapapp.geoparse import Geoparser

    data = copy_data_dir(gazetteer_template, tmp_path_factory.mktemp("seeded") / "data")
    conn = connect(data / DATABASE_NAME)
    try:
        loaded = load_seeds(conn, Geoparser(open_gazetteer(data, build_if_missing=False, progress=False)),
                            progress=False)
    finally:
        conn.close()
    assert len(loaded) == 5
    return data


@pytest.fixture(scope="module")
def server(seeded_data):
    """mapapp on waitress over the seeded data (no tiles: nothing may leave the machine); yields its base URL."""
    app = make_app(seeded_data)
    with serving(app) as base:
        yield base


@pytest.fixture(scope="module")
def features(server):
    """The overview's features as the API gives them."""
    with urllib.request.urlopen(server + "/api/features") as response:
        return json.load(response)["features"]


@pytest.fixture(autouse=True)
def nothing_leaves_the_machine(request):
    """After each test: every request the page made went to loopback, a file or inline data."""
    yield
    page = request.node.funcargs.get("page")
    if page is not None:
        aborted = set(getattr(page, "aborted", ()))  # stopped by the test's own route: never sent
        remote = [url for url in page.requests if not LOCAL.match(url) and url not in aborted]
        assert not remote, f"requests left the machine: {remote[:5]}"


def ready(page_or_frame):
    """Wait until the map has loaded and drawn its data."""
    page_or_frame.locator(".mapapp-map[data-ready='true']").wait_for(timeout=15000)


def point_feature(features, name=None):
    """A city-like place drawn as a pin (optionally the one called `name`)."""
    for feature in features:
        p = feature["properties"]
        if feature["geometry"]["type"] == "Point" and p["feature"] not in ("country", "continent") and \
                (name is None or p["name"] == name):
            return feature
    raise AssertionError(f"no point feature {name or ''} in the seeds' map")


def canvas_shapes(page_or_frame) -> int:
    """How many shapes (polygons, lines, circles) of the data layer are drawn on its canvas."""
    return page_or_frame.locator(".mapapp-map").evaluate(
        "() => { let n = 0; const count = l => { if (l.eachLayer) { l.eachLayer(count); }"
        " else if (l._map && l._renderer instanceof L.Canvas) { n += 1; } };"
        " mapapp.current.regions.eachLayer(count); return n; }")


def click_first_line(page, locator):
    """Click an inline element on its first line box (a wrapped element's box centre may be other text)."""
    locator.scroll_into_view_if_needed()
    point = locator.evaluate(
        "e => { const r = e.getClientRects()[0]; return [r.x + r.width / 2, r.y + r.height / 2]; }")
    page.mouse.click(*point)


def test_overview_shows_the_seeds_markers_and_regions(page, server, features):
    page.goto(server + "/")
    ready(page)
    shapes = [f for f in features if f["geometry"]["type"] != "Point"]
    points = [f for f in features if f["geometry"]["type"] == "Point" and f["properties"]["feature"] != "country"]
    assert shapes and points
    # every place is in the list view, and drawn: pins (clustered) and shapes on one canvas
    expect(page.locator("#place-list button")).to_have_count(len(features))
    assert set(page.locator("#place-list button").evaluate_all("bs => bs.map(b => b.dataset.placeId)")) == \
        {f["id"] for f in features}
    assert page.locator(".leaflet-marker-icon").count() > 0
    assert page.locator(".leaflet-overlay-pane canvas").count() == 1
    assert canvas_shapes(page) >= len(shapes)
    drawn = page.evaluate("() => Object.keys(mapapp.current.layers).length")
    assert drawn == len(features)
    # a country is an outline, never a pin
    countries = [f["properties"]["name"] for f in features if f["properties"]["feature"] == "country"]
    assert countries
    for name in countries:
        assert page.locator(f'.leaflet-marker-icon[title="{name}"]').count() == 0
    kinds = page.evaluate("() => Object.values(mapapp.current.layers).map(l => l instanceof L.Marker ? 'pin' :"
                          " l.feature.properties.feature)")
    assert "pin" in kinds and "country" in kinds
    # offline basemap (fetched after the data) and attribution
    page.locator(".mapapp-map.mapapp-offline").wait_for()
    assert page.locator(".leaflet-mapapp-outlines-pane canvas").count() == 1
    assert page.evaluate("() => mapapp.outlines.getLayers().length") > 150
    assert "GeoNames (CC-BY 4.0)" in page.locator(".leaflet-control-attribution").text_content()


def test_marker_popup_links_to_the_article_with_the_place_highlighted(page, server, features):
    feature = point_feature(features)
    lon, lat = feature["geometry"]["coordinates"]
    name = feature["properties"]["name"]
    page.goto(f"{server}/?lat={lat}&lon={lon}&zoom=13")
    ready(page)
    marker = page.locator(f'.leaflet-marker-icon[title="{name}"]')
    marker.click()
    popup = page.locator(".leaflet-popup-content .mapapp-popup")
    expect(popup.locator("h2")).to_have_text(name)
    first = feature["properties"]["mentions"][0]
    link = popup.locator(".mapapp-article-link").first
    assert link.text_content() == first["title"]
    quote = popup.locator("blockquote").first
    assert quote.locator("mark").text_content() == first["sentence"][first["start"]:first["end"]]
    # The selection is in the URL (written just after the popup opens: wait for it, then check it exactly).
    page.wait_for_function("id => new URLSearchParams(location.search).get('sel') === id", arg=feature["id"])
    assert parse_qs(urlsplit(page.url).query)["sel"] == [feature["id"]]
    link.click()
    page.wait_for_url(re.compile(rf"/articles/{first['article_id']}\?place=.*#m-{first['mention_id']}$"))
    ready(page)
    current = page.locator("#article-text mark.is-current")
    assert current.count() >= 1
    assert set(current.evaluate_all("ms => ms.map(m => m.dataset.placeId)")) == {feature["id"]}
    target = page.locator(f"#m-{first['mention_id']}")
    assert target.get_attribute("data-place-id") == feature["id"]
    assert target.text_content() == first["text"]
    expect(target).to_be_in_viewport()
    # and the article's own map opens that place's popup
    expect(page.locator(".leaflet-popup-content .mapapp-popup h2").last).to_have_text(name)


def test_article_marks_pan_the_map_and_open_the_popup_by_mouse_and_keyboard(page, server, features):
    feature = next(f for f in features if f["geometry"]["type"] != "Point")  # a shape, e.g. a corridor
    article_id = feature["properties"]["mentions"][0]["article_id"]
    page.goto(f"{server}/articles/{article_id}")
    ready(page)
    marks = page.locator(f'#article-text mark[data-place-id="{feature["id"]}"]')
    click_first_line(page, marks.first)
    popup = page.locator(".leaflet-popup-content .mapapp-popup").last
    expect(popup.locator("h2")).to_have_text(feature["properties"]["name"])
    # the article's map holds exactly the places its marks name
    marked = set(page.locator("#article-text mark[data-place-id]").evaluate_all("ms => ms.map(m => m.dataset.placeId)"))
    assert set(page.evaluate("() => mapapp.current.visible.map(f => f.id)")) == marked
    # keyboard: focus another place's mark and press Enter
    other = page.locator(f'#article-text mark[data-place-id]:not([data-place-id="{feature["id"]}"])').first
    other_id = other.get_attribute("data-place-id")
    other.focus()
    page.keyboard.press("Enter")
    expected = next(f["properties"]["name"] for f in page.evaluate("() => mapapp.current.visible")
                    if f["id"] == other_id)
    expect(page.locator(".leaflet-popup-content .mapapp-popup h2").last).to_have_text(expected)


def test_filters_layers_and_search_apply_without_a_reload(page, server, features):
    page.goto(server + "/")
    ready(page)
    page.evaluate("() => { window.__same_page = true; }")
    total = len(features)
    sources = page.locator("#filter-sources input[type=checkbox]")
    assert sources.count() >= 2
    # source filter: keep only the first source
    first_source = sources.first.get_attribute("value")
    for index in range(1, sources.count()):
        sources.nth(index).uncheck()
    with urllib.request.urlopen(f"{server}/api/features?source={urllib.request.quote(first_source)}") as response:
        expected = {f["id"] for f in json.load(response)["features"]}
    expect(page.locator("#place-list button")).to_have_count(len(expected))
    assert parse_qs(urlsplit(page.url).query)["source"] == [first_source]
    for index in range(1, sources.count()):
        sources.nth(index).check()
    expect(page.locator("#place-list button")).to_have_count(total)
    # time slider: move the latest date back to the first day -> only articles of that day
    slider = page.locator("#filter-to-range")
    slider.fill("0")
    first_day = page.locator("#filter-from").get_attribute("min")
    with urllib.request.urlopen(f"{server}/api/features?to={first_day}") as response:
        expected = {f["id"] for f in json.load(response)["features"]}
    expect(page.locator("#place-list button")).to_have_count(len(expected))
    assert page.locator("#filter-to").input_value() == first_day
    slider.fill(slider.get_attribute("max"))
    expect(page.locator("#place-list button")).to_have_count(total)
    # layer by feature type: hide the countries
    page.locator("#layer-features input[value=country]").uncheck()
    countries = sum(f["properties"]["feature"] == "country" for f in features)
    expect(page.locator("#place-list button")).to_have_count(total - countries)
    assert parse_qs(urlsplit(page.url).query)["feature"]
    page.locator("#layer-features input[value=country]").check()
    # layer by article: show one article only
    page.locator(".map-articles summary").click()
    articles = page.locator("#layer-articles input[type=checkbox]")
    keep = articles.first.get_attribute("value")
    for index in range(1, articles.count()):
        articles.nth(index).uncheck()
    expected = {f["id"] for f in features
                if any(str(m["article_id"]) == keep for m in f["properties"]["mentions"])}
    expect(page.locator("#place-list button")).to_have_count(len(expected))
    for index in range(1, articles.count()):
        articles.nth(index).check()
    # place search
    target = point_feature(features)["properties"]["name"]
    page.locator("#place-search-input").fill(target)
    page.locator("#place-search-input").press("Enter")
    expect(page.locator(".leaflet-popup-content .mapapp-popup h2").last).to_have_text(target)
    assert page.evaluate("() => window.__same_page") is True


def test_the_url_restores_a_shared_view(page, server, features):
    source = next(m["source"] for f in features for m in f["properties"]["mentions"] if m["source"])
    page.goto(f"{server}/?source={source}&lat=40.5&lon=46.5&zoom=8")
    ready(page)
    center = page.evaluate("() => { const c = mapapp.current.map.getCenter();"
                           " return [c.lat, c.lng, mapapp.current.map.getZoom()]; }")
    assert center == pytest.approx([40.5, 46.5, 8], abs=0.01)
    assert page.locator(f'#filter-sources input[value="{source}"]').is_checked()
    assert page.locator("#filter-sources input:not(:checked)").count() >= 1
    page.locator("#share-button").click()
    page.locator("#share-view").check()  # embeds fit their data unless "this view" is chosen
    snippet = page.locator("#share-snippet").input_value()
    src = re.search(r'<iframe src="([^"]+)"', snippet).group(1).replace("&amp;", "&")
    assert src.startswith(server + "/embed/?")
    assert parse_qs(urlsplit(src).query)["source"] == [source]
    # the embed URL shows the same view
    page.goto(src)
    ready(page)
    assert page.evaluate("() => mapapp.current.map.getZoom()") == 8
    assert page.evaluate("() => mapapp.current.state.source") == [source]


def features_requests(page) -> list[str]:
    """The /api/features URLs the page asks for from now on, in order."""
    seen = []
    page.on("request", lambda request: seen.append(request.url) if "/api/features" in request.url else None)
    return seen


def detail_of(url: str) -> int:
    """The shape detail (`zoom`) a /api/features URL asks for."""
    return int(parse_qs(urlsplit(url).query)["zoom"][0])


def bucket(zoom: float) -> int:
    """The detail the page asks for at a map zoom: the even level of its pair, 12 at most."""
    return min(12, 2 * (int(zoom) // 2))


def test_shapes_come_at_the_zoom_and_finer_after_zooming_in(page, server, features):
    source = next(m["source"] for f in features for m in f["properties"]["mentions"] if m["source"])
    requests = features_requests(page)
    with page.expect_request(lambda r: "/api/features?" in r.url) as first:
        page.goto(f"{server}/?source={source}")
    ready(page)
    assert detail_of(first.value.url) == 4  # the start view's zoom (5): the map has not fitted the data yet
    assert parse_qs(urlsplit(first.value.url).query)["source"] == [source]
    zoom = page.evaluate("() => mapapp.current.map.getZoom()")
    page.wait_for_function("d => mapapp.current.detail === d", arg=bucket(zoom))
    shown = page.locator("#place-list button").count()

    # A pan asks nothing: the URL follows the view, and no request was made for it.
    asked, lon = len(requests), parse_qs(urlsplit(page.url).query)["lon"][0]
    page.evaluate("() => { mapapp.current.map.panBy([150, 80], {animate: false}); }")
    page.wait_for_function("lon => new URLSearchParams(location.search).get('lon') !== lon", arg=lon)
    assert len(requests) == asked

    # Choosing a region zooms to it: its shape comes again, finer, and its popup stays open meanwhile.
    region = next(f for f in features if f["properties"]["feature"] not in ("country", "continent")
                  and f["geometry"]["type"] in ("Polygon", "MultiPolygon")
                  and any(m["source"] == source for m in f["properties"]["mentions"]))
    coarse = page.evaluate("id => JSON.stringify(mapapp.current.layers[id].feature.geometry).length", region["id"])
    with page.expect_response(lambda r: "/api/features?" in r.url and detail_of(r.url) > bucket(zoom)) as finer:
        page.locator(f'#place-list button[data-place-id="{region["id"]}"]').click()
    zoom = page.evaluate("() => mapapp.current.map.getZoom()")
    assert detail_of(finer.value.url) == bucket(zoom)
    assert parse_qs(urlsplit(finer.value.url).query)["source"] == [source]  # the filters stay
    page.wait_for_function("d => mapapp.current.detail === d", arg=bucket(zoom))
    assert page.evaluate("id => JSON.stringify(mapapp.current.layers[id].feature.geometry).length",
                         region["id"]) > coarse
    popup = page.locator(".leaflet-popup-content .mapapp-popup h2")
    expect(popup).to_have_count(1)
    expect(popup).to_have_text(region["properties"]["name"])
    assert parse_qs(urlsplit(page.url).query)["sel"] == [region["id"]]
    expect(page.locator("#place-list button")).to_have_count(shown)
    assert page.locator(f'#filter-sources input[value="{source}"]').is_checked()

    # Two levels further in: finer again; the shape drawn is the one the server sent.
    if bucket(zoom) < 12:
        with page.expect_response(lambda r: "/api/features?" in r.url and detail_of(r.url) > bucket(zoom)) as deeper:
            page.evaluate("z => { mapapp.current.map.setZoom(z, {animate: false}); }", zoom + 2)
        page.wait_for_function("d => mapapp.current.detail === d", arg=bucket(zoom + 2))
        served = next(f for f in deeper.value.json()["features"] if f["id"] == region["id"])
        assert page.evaluate("id => mapapp.current.layers[id].feature.geometry", region["id"]) == served["geometry"]
        expect(popup).to_have_text(region["properties"]["name"])


def test_embed_asks_for_the_shapes_of_its_zoom(page, server):
    with page.expect_request(lambda r: "/api/features?" in r.url) as first:
        page.goto(f"{server}/embed/?lat=40&lon=46&zoom=7")
    ready(page)
    assert detail_of(first.value.url) == 6
    with page.expect_request(lambda r: "/api/features?" in r.url and detail_of(r.url) == 8):
        page.evaluate("() => { mapapp.current.map.setZoom(8, {animate: false}); }")
    page.wait_for_function("() => mapapp.current.detail === 8")


def test_embed_works_inside_an_iframe_on_another_origin(page, server, seeded_data):
    embed_url = f"{server}/embed/?lat=40&lon=46&zoom=6"
    blocked_url = f"{server}/"

    def host_page(environ, start_response):
        html = (f'<!doctype html><title>host</title>'
                f'<iframe id="ok" src="{embed_url}" width="800" height="500"></iframe>'
                f'<iframe id="no" src="{blocked_url}" width="300" height="200"'
                ' onload="this.dataset.loaded = \'true\'"></iframe>')
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html.encode()]

    with serving(host_page) as host:
        page.goto(host.replace("127.0.0.1", "localhost") + "/")  # another origin: other host name and port
        frame = page.frame_locator("#ok")
        ready(frame)
        assert frame.locator(".leaflet-marker-icon").count() + canvas_shapes(frame) > 0
        frame.locator(".embed-panel > summary").click()
        expect(frame.locator("#place-list button").first).to_be_visible()
        frame.locator("#place-list button").first.click()
        popup = frame.locator(".leaflet-popup-content .mapapp-popup").last
        popup.locator("h2").wait_for()
        assert popup.locator(".mapapp-article-link").first.get_attribute("target") == "_blank"
        # the full site refuses to be framed: its frame has finished loading, and shows nothing of the site
        page.locator("#no[data-loaded='true']").wait_for(state="attached")
        assert page.locator("#no").element_handle().content_frame().url.startswith("chrome-error://")
        assert page.frame_locator("#no").locator(".mapapp-map, .site-header").count() == 0


def test_exported_file_works_from_file_url_with_the_network_blocked(page, seeded_data, tmp_path, features):
    from mapapp.cli import main

    out = tmp_path / "map.html"
    result = CliRunner().invoke(main, ["export", "--data", str(seeded_data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    blocked = page.aborted = []

    def block(route):
        if route.request.url.startswith(("http:", "https:")):
            blocked.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.context.route("**/*", block)
    page.goto(out.as_uri())
    ready(page)
    expect(page.locator("#place-list button")).to_have_count(len(features))
    assert page.locator(".leaflet-marker-icon").count() > 0
    assert canvas_shapes(page) >= sum(f["geometry"]["type"] != "Point" for f in features)
    # the OSM tiles could not load, so the country outlines took over
    assert blocked and all("tile.openstreetmap.org" in url for url in blocked)
    page.locator(".mapapp-map.mapapp-offline").wait_for()
    assert page.locator(".leaflet-mapapp-outlines-pane canvas").count() == 1
    assert page.evaluate("() => mapapp.outlines.getLayers().length") > 150
    # a popup, and its article opened in the in-file reader
    feature = point_feature(features)
    page.locator(f'#place-list button[data-place-id="{feature["id"]}"]').click()
    popup = page.locator(".leaflet-popup-content .mapapp-popup").last
    expect(popup.locator("h2")).to_have_text(feature["properties"]["name"])
    # by keyboard: a popup still settling after its pan cannot swallow the activation
    popup.locator(".mapapp-article-link").first.focus()
    page.keyboard.press("Enter")
    reader = page.locator("#reader")
    expect(reader).to_be_visible()
    first = feature["properties"]["mentions"][0]
    assert reader.locator(".mapapp-reader-title").text_content() == first["title"]
    current = reader.locator("mark.is-current")
    assert current.first.get_attribute("data-place-id") == feature["id"]
    assert page.url.startswith("file://")


def test_phone_sized_screen_and_keyboard(browser, server, features):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(server + "/")
        ready(page)
        box = page.locator(".mapapp-map").bounding_box()
        assert box["width"] >= 380 and box["height"] >= 300  # the map comes first, full width
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        # keyboard: Tab from the search box reaches the list, Enter opens the popup
        page.locator("#place-list button").first.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".leaflet-popup-content .mapapp-popup h2").last).to_be_visible()
        page.goto(f"{server}/articles/{features[0]['properties']['mentions'][0]['article_id']}")
        ready(page)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
    assert all(LOCAL.match(url) for url in requests)
