"""The strict script policy in a real Chromium: every public map works under it, and injected script never runs."""
from __future__ import annotations

import re

import pytest
from mapdata import add_article
from playwright.sync_api import expect

from mapapp.db import connect

pytestmark = pytest.mark.browser

# Records every CSP violation the page reports; an init script runs before the page's own scripts.
WATCH = ("window.__pwned = false; window.__csp = []; document.addEventListener('securitypolicyviolation',"
         " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));")


@pytest.fixture
def app(seeded_app):
    """The seeded app: the five seed articles through the real pipeline (live_server serves `app`)."""
    return seeded_app


@pytest.fixture
def seeded(app):
    """A point place named in an article, and a shape, from the seeded overview's features."""
    features = app.test_client().get("/api/features").get_json()["features"]
    point = next(f for f in features if f["geometry"]["type"] == "Point"
                 and f["properties"]["feature"] not in ("country", "continent") and f["properties"]["mentions"])
    shape = next(f for f in features if f["geometry"]["type"] != "Point" and f["properties"]["mentions"])
    return {"point": point, "shape": shape}


@pytest.fixture
def watched(page):
    """The `page`, recording CSP violations (the DOM event and the console) and whether injected code ran."""
    page.add_init_script(WATCH)
    page.console_csp = []
    page.on("console", lambda m: page.console_csp.append(m.text) if "Content Security Policy" in m.text else None)
    return page


def violations(page) -> list[str]:
    """The CSP violations reported so far on the current document, by event and in the console."""
    return page.evaluate("() => window.__csp") + page.console_csp


def pwned(page) -> bool:
    return page.evaluate("() => window.__pwned") is not False


def ready(page):
    """Wait until the map has loaded and drawn its data."""
    page.locator(".mapapp-map[data-ready='true']").wait_for(timeout=15000)


def drawn(page) -> dict:
    """How many pins and canvas shapes the data layer holds on the map."""
    return page.evaluate(
        "() => { const n = {pins: 0, shapes: 0}; const count = l => { if (l instanceof L.Marker) { n.pins += 1; }"
        " else if (l.eachLayer) { l.eachLayer(count); } else if (l._renderer instanceof L.Canvas) { n.shapes += 1; } };"
        " Object.values(mapapp.current.layers).forEach(count); return n; }")


def open_popup_by_marker(page, name: str):
    """Click the pin titled `name` and wait for its popup."""
    page.locator(f'.leaflet-marker-icon[title="{name}"]').first.click()
    expect(page.locator(".leaflet-popup-content .mapapp-popup h2").last).to_have_text(name)


@pytest.mark.parametrize("kind", ["overview", "article", "place", "embed", "embed-article", "embed-place"])
def test_public_maps_work_under_the_strict_policy(watched, live_server, seeded, kind):
    page, point, shape = watched, seeded["point"], seeded["shape"]
    name = point["properties"]["name"]
    lon, lat = point["geometry"]["coordinates"]
    article_id = point["properties"]["mentions"][0]["article_id"]
    path = {"overview": "/", "article": f"/articles/{article_id}", "place": f"/places/{point['id']}",
            "embed": "/embed/", "embed-article": f"/embed/articles/{article_id}",
            "embed-place": f"/embed/places/{point['id']}"}[kind]
    # The whole view: its pins and shapes are drawn.
    page.goto(live_server + path)
    ready(page)
    counts = drawn(page)
    assert counts["pins"] >= 1
    if kind in ("overview", "embed"):
        assert counts["shapes"] >= 1
    assert not violations(page)
    # Close to the point: a click on its pin opens its popup.
    page.goto(f"{live_server}{path}?lat={lat}&lon={lon}&zoom=13")
    ready(page)
    open_popup_by_marker(page, name)
    assert not violations(page)
    if kind in ("place", "embed-place"):
        # a shape's own page draws the shape
        page.goto(f"{live_server}{path.rsplit('/', 1)[0]}/{shape['id']}")
        ready(page)
        assert drawn(page)["shapes"] >= 1
        assert not violations(page)


def test_markup_slipped_into_a_page_does_not_run(watched, live_server, seeded):
    """Were escaping ever to fail, the policy would still refuse the script: injected into a real response here."""
    page = watched
    injected = ('<script>window.__pwned = "inline";</script>'
                '<img id="bad-img" src="/static/site.css" onerror="window.__pwned = \'handler\'">'
                '<a id="js-link" href="javascript:window.__pwned = \'url\'">x</a>')

    def inject(route):
        response = route.fetch()  # the real response, with its real CSP header
        route.fulfill(response=response, body=response.text().replace("<main", injected + "<main", 1))

    page.route(re.compile(r"/articles/\d+$"), inject)
    page.goto(f"{live_server}/articles/{seeded['point']['properties']['mentions'][0]['article_id']}")
    ready(page)  # the page's own (nonced) scripts still ran
    page.locator("#js-link").click()
    page.wait_for_function("() => window.__csp.length >= 3")
    assert not pwned(page)
    reported = violations(page)
    assert any("script-src-elem" in v and "inline" in v for v in reported), reported
    assert any("script-src-attr" in v for v in reported), reported


def test_a_script_in_an_article_title_does_not_run(watched, live_server, app):
    page = watched
    title = '<script>window.__pwned = "title"</script>Breaking'
    conn = connect(app.config["DATABASE"])
    try:
        yerevan = conn.execute("SELECT id, lat, lon FROM places WHERE name = 'Yerevan' AND feature = 'city'"
                               " ORDER BY population DESC").fetchone()
        article_id = add_article(conn, title=title, source=title, published="2024-02-02",
                                 text="Breaking news\nTalks in Yerevan went on.\n", places={"Yerevan": yerevan["id"]})
    finally:
        conn.close()
    page.goto(f"{live_server}/articles/{article_id}")
    ready(page)
    expect(page.locator("#article-title")).to_have_text(title)
    assert not pwned(page) and not violations(page)
    page.goto(f"{live_server}/embed/articles/{article_id}")
    ready(page)
    assert page.title().startswith(title)
    assert not pwned(page) and not violations(page)
    # in the overview's popup the title is literal text too
    page.goto(f"{live_server}/?lat={yerevan['lat']}&lon={yerevan['lon']}&zoom=13")
    ready(page)
    page.locator('.leaflet-marker-icon[title="Yerevan"]').first.click()
    link = page.locator(".leaflet-popup-content .mapapp-popup .mapapp-article-link", has_text="Breaking")
    expect(link.first).to_have_text(title)
    assert not pwned(page) and not violations(page)
