"""Hostile titles, sources, place names and sentences: escaped on the server, literal text in the browser."""
from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from mapdata import add_article, data_layer_options, seed_sample
from playwright.sync_api import expect

from mapapp.db import connect, transaction
from mapapp.escaping import escape_text

HOSTILE = ["<img src=x onerror=alert(1)>", "${alert(1)}", "</script><script>alert(1)</script>", "`);alert(1);//"]
# Original-article URLs of the hostile articles: only web URLs may become links.
URLS = ["javascript:alert(1)", "https://example.org/news?a=1&b=<2>", None, "data:text/html,<script>alert(1)</script>"]


def add_hostile(conn) -> dict:
    """One hostile place per string (named by it), and one article per string using it as title, source and text."""
    ids = {}
    with transaction(conn):
        for number, text in enumerate(HOSTILE):
            conn.execute(
                "INSERT INTO places (id, name, feature, country_code, lat, lon, source) "
                "VALUES (?, ?, 'city', 'AM', ?, ?, 'admin')",
                (f"test:hostile-{number}", text, 40.0 + number * 0.3, 44.0 + number * 0.3))
    for number, text in enumerate(HOSTILE):
        ids[number] = add_article(
            conn, title=text, source=text, published=f"2022-0{number + 1}-01", url=URLS[number],
            text=f"Headline {number}\nPeople in {text} waited for news.\n", places={text: f"test:hostile-{number}"})
    return ids


@pytest.fixture
def hostile(app):
    """The sample articles plus the hostile ones, stored in this test's database."""
    conn = connect(app.config["DATABASE"])
    try:
        sample = seed_sample(conn)
        yield sample, add_hostile(conn)
    finally:
        conn.close()


class _Elements(HTMLParser):
    """Collects every start tag and its attributes, and the text of every <script>."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def elements(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def assert_inert(html: str, baseline: str) -> None:
    """No element or handler came out of the data: same script count as a clean page, no img, no on* attributes."""
    found, clean = elements(html), elements(baseline)
    assert not [t for t, _a in found.tags if t == "img"]
    assert not [name for _t, attrs in found.tags for name in attrs if name.startswith("on")]
    assert len(found.scripts) == len(clean.scripts)
    for raw in ("<img src=x", "</script><script>"):
        assert raw not in html
    # folium's string popups and tooltips are never used: popups are built in the browser with textContent
    assert ".bindPopup(" not in html and ".bindTooltip(" not in html


@pytest.mark.parametrize("value", HOSTILE)
def test_escape_text_neutralises_html_and_template_literals(value):
    escaped = str(escape_text(value))
    assert not set("<>`$\\") & set(escaped)
    assert html.unescape(escaped) == value


@pytest.mark.parametrize("route, baseline", [
    ("/", "/"), ("/embed/", "/embed/"),
    ("/articles/{h}", "/articles/{a1}"), ("/embed/articles/{h}", "/embed/articles/{a1}"),
    ("/places/test:hostile-{n}", "/places/{yerevan}"), ("/embed/places/test:hostile-{n}", "/embed/places/{yerevan}"),
])
@pytest.mark.parametrize("number", range(len(HOSTILE)))
def test_server_pages_carry_hostile_text_only_escaped(client, hostile, route, baseline, number):
    sample, ids = hostile
    values = {**sample, "h": ids[number], "n": number}
    html = client.get(route.format(**values)).get_data(as_text=True)
    assert_inert(html, client.get(baseline.format(**values)).get_data(as_text=True))
    text = HOSTILE[number]
    options = data_layer_options(html)
    if options["data"] is not None:
        # the inline JSON gives the browser the exact literal string to set as textContent
        names = {f["properties"]["name"] for f in options["data"]["features"]}
        assert text in names
        titles = {m["title"] for f in options["data"]["features"] for m in f["properties"]["mentions"]}
        assert text in titles


def test_article_page_text_is_autoescaped(client, hostile):
    _sample, ids = hostile
    html = client.get(f"/articles/{ids[0]}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # title, source and the marked name in the text
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") >= 4


def test_api_json_is_not_html(client, hostile):
    response = client.get("/api/features")
    assert response.mimetype in ("application/json", "application/geo+json")
    names = {f["properties"]["name"] for f in response.get_json()["features"]}
    assert set(HOSTILE) <= names


def test_export_carries_hostile_text_only_escaped(runner, hostile, tmp_path, client):
    out = tmp_path / "out.html"
    result = runner.invoke(["export", "--out", str(out), "--tiles", ""])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    found = elements(html)
    assert not [t for t, _a in found.tags if t == "img"]
    assert not [name for _t, attrs in found.tags for name in attrs if name.startswith("on")]
    assert "<img src=x" not in html and "</script><script>alert" not in html
    options = data_layer_options(html)
    assert set(HOSTILE) <= {a["title"] for a in options["articles"].values()}
    assert set(HOSTILE) <= {f["properties"]["name"] for f in options["data"]["features"]}


def test_export_title_is_escaped(runner, hostile, tmp_path):
    out = tmp_path / "out.html"
    result = runner.invoke(["export", "--out", str(out), "--title", HOSTILE[2]])
    assert result.exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert HOSTILE[2] not in html and "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


# ------------------------------------------------------------------------------------- in the browser
PWNED = "() => window.__pwned === true"


def arm(page):
    """Make alert() record a hit as well as open a dialog (which the `page` fixture fails the test on)."""
    page.add_init_script("window.__pwned = false; const a = window.alert;"
                         " window.alert = function () { window.__pwned = true; return a.apply(this, arguments); };")


def open_list_place(page, place_id: str, name: str):
    """Open the popup of place `place_id` from the list view, wait until it shows `name`; returns the popup."""
    page.locator(f"#place-list button[data-place-id='{place_id}']").click()
    # .last: a closed popup fades out for a moment after the next one opens
    popup = page.locator(".leaflet-popup-content .mapapp-popup").last
    expect(popup.locator("h2")).to_have_text(name)
    return popup


@pytest.mark.browser
def test_hostile_text_is_literal_in_overview_popups(page, hostile, live_server):
    arm(page)
    page.goto(live_server + "/")
    page.wait_for_selector(".mapapp-map[data-ready='true']")
    assert page.locator(".leaflet-marker-icon, .leaflet-interactive").count() > 0  # the map still renders
    for number, text in enumerate(HOSTILE):
        assert page.locator(f"#place-list button[data-place-id='test:hostile-{number}']").text_content() == text
        popup = open_list_place(page, f"test:hostile-{number}", text)
        assert popup.locator("h2").text_content() == text
        assert popup.locator(".mapapp-article-link").first.text_content() == text
        assert popup.locator(".mapapp-popup-meta").first.text_content().startswith(text)
        assert popup.locator("mark").first.text_content() == text
        assert popup.locator("img").count() == 0
        originals = popup.locator(".mapapp-original").evaluate_all("links => links.map(a => a.href)")
        assert originals == (["https://example.org/news?a=1&b=%3C2%3E"] if URLS[number] == URLS[1] else [])
    assert not page.evaluate(PWNED)
    assert page.locator("#place-list img, .map-panel img").count() == 0


@pytest.mark.browser
@pytest.mark.parametrize("number", range(len(HOSTILE)))
def test_hostile_text_is_literal_on_article_pages(page, hostile, live_server, number):
    _sample, ids = hostile
    arm(page)
    page.goto(f"{live_server}/articles/{ids[number]}")
    page.wait_for_selector(".mapapp-map[data-ready='true']")
    assert page.locator("#article-title").text_content() == HOSTILE[number]
    mark = page.locator("#article-text mark").first
    assert mark.text_content() == HOSTILE[number]
    # keyboard, not a mouse click: a mark wrapped over two lines may have other text at its box's centre
    mark.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup-content .mapapp-popup h2").last).to_have_text(HOSTILE[number])
    assert not page.evaluate(PWNED)


@pytest.mark.browser
def test_hostile_text_is_literal_in_the_exported_file(page, hostile, runner, tmp_path):
    out = tmp_path / "out.html"
    assert runner.invoke(["export", "--out", str(out), "--tiles", ""]).exit_code == 0
    page.context.route("**/*", lambda route: route.abort() if route.request.url.startswith("http")
                       else route.continue_())
    arm(page)
    page.goto(out.as_uri())
    page.wait_for_selector(".mapapp-map[data-ready='true']")
    for number, text in enumerate(HOSTILE):
        popup = open_list_place(page, f"test:hostile-{number}", text)
        assert popup.locator("h2").text_content() == text
        # by keyboard: a popup still settling after its pan cannot swallow the activation
        popup.locator(".mapapp-article-link").first.focus()
        page.keyboard.press("Enter")
        reader = page.locator("#reader")
        reader.wait_for()
        assert reader.locator(".mapapp-reader-title").text_content() == text
        assert reader.locator("mark").first.text_content() == text
        reader.locator(".mapapp-reader-close").click()
    assert not page.evaluate(PWNED)
