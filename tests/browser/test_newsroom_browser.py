"""Issue 12 in Chromium: articles added by URL in the admin reach the map; search snippets stay text.

The news pages come from a local HTTP server (tests/web_support.py); nothing reaches the internet.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pytest
from admin_support import PASSWORD, log_in
from playwright.sync_api import expect
from web_support import news_site

from mapapp.accounts import create_user
from mapapp.db import DATABASE_NAME, connect

pytestmark = pytest.mark.browser

ARTICLES = {"karabakh-talks.html": "Almaty", "sindh-floods.html": "Karachi", "gaza-aid.html": "Cairo"}


@pytest.fixture
def newsroom(app, data_dir, live_server):
    """The live app (no fetch delay: the news site is local) with account alice, and the news site."""
    app.config.update(FETCH_DELAY=0, FETCH_ALLOW_PRIVATE=True)  # the news site is on loopback
    conn = connect(data_dir / DATABASE_NAME)
    create_user(conn, "alice", PASSWORD)
    conn.close()
    with news_site() as site:
        yield live_server, site


def add_by_url(page, base, urls):
    """Paste `urls` into the admin's "Add articles" form (reached from the admin menu) and submit it."""
    page.goto(f"{base}/admin/")
    page.click("nav >> text=Add articles")
    page.fill("#urls", "\n".join(urls))
    page.click("form.add-articles button[type=submit]")
    page.locator("#add-results").wait_for()


def ready(page):
    page.locator(".mapapp-map[data-ready='true']").wait_for(timeout=15000)


def place_ids(data_dir, name):
    conn = sqlite3.connect(data_dir / DATABASE_NAME)
    try:
        return {row[0] for row in conn.execute(
            "SELECT DISTINCT m.place_id FROM mentions m JOIN places p ON p.id = m.place_id WHERE p.name = ?", (name,))}
    finally:
        conn.close()


def test_ingest_three_articles_by_url_and_see_their_places_on_the_map(newsroom, data_dir, page, tmp_path):
    base, site = newsroom
    urls = [site.add_page(f"/news/{name}", name) for name in ARTICLES]
    log_in(page, base)
    add_by_url(page, base, urls)
    expect(page.locator("#add-results tr[data-status='ingested']")).to_have_count(3)
    expect(page.locator("#add-summary")).to_have_text("3 added, 0 skipped, 0 failed.")
    # The same URLs again: duplicates, reported, nothing stored twice.
    add_by_url(page, base, urls[:1])
    expect(page.locator("#add-results tr[data-reason='duplicate-url']")).to_have_count(1)

    page.goto(f"{base}/")
    ready(page)
    listed = set(page.locator("#place-list button").evaluate_all("bs => bs.map(b => b.dataset.placeId)"))
    for name in ARTICLES.values():
        ids = place_ids(data_dir, name)
        assert ids and ids <= listed, name
    drawn = page.evaluate("() => Object.keys(mapapp.current.layers)")
    assert all(place_ids(data_dir, name) <= set(drawn) for name in ARTICLES.values())

    # The density view: each article's country is shaded.
    page.get_by_label("Density (regions shaded by count)").check()
    page.locator(".mapapp-map[data-density='ready']").wait_for(timeout=15000)
    countries = {name: country_code(data_dir, name) for name in ARTICLES.values()}
    assert shaded_countries(page) >= set(countries.values())
    # The timeline, a month a frame, from the first dated article (May 2024) to the last (August 2024).
    page.locator("#density-step").select_option("month")
    page.get_by_role("button", name="Play the timeline").click()
    page.locator(".mapapp-map[data-density='ready'][data-density-frame='2024-05-01']").wait_for(timeout=15000)
    assert countries["Almaty"] in shaded_countries(page) and countries["Karachi"] not in shaded_countries(page)
    expect(page.locator("#filter-from")).to_have_value("2024-05-01")
    page.locator(".mapapp-map[data-density='ready'][data-density-frame='2024-08-01']").wait_for(timeout=30000)
    assert countries["Karachi"] in shaded_countries(page) and countries["Almaty"] not in shaded_countries(page)
    page.get_by_role("button", name="Pause the timeline").click()
    page.get_by_role("button", name="All dates").click()
    page.locator(".mapapp-map[data-density='ready'][data-density-frame='all']").wait_for(timeout=15000)

    # The view's GeoPackage, from the page's link, opens in GDAL with every stored mention.
    if shutil.which("ogrinfo") is None:
        pytest.skip("ogrinfo is missing: install Debian gdal-bin (make gdal)")
    with page.expect_download() as info:
        page.locator("#download-gpkg").click()
    path = tmp_path / "view.gpkg"
    info.value.save_as(path)
    result = subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(path)], check=False, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "using driver `GPKG' successful" in result.stdout
    mentions = result.stdout.split("Layer name: mentions", 1)[1]
    assert f"Feature Count: {mention_count(data_dir)}" in mentions


def country_code(data_dir, name):
    conn = sqlite3.connect(data_dir / DATABASE_NAME)
    try:
        return conn.execute("SELECT DISTINCT p.country_code FROM mentions m JOIN places p ON p.id = m.place_id"
                            " WHERE p.name = ?", (name,)).fetchone()[0]
    finally:
        conn.close()


def mention_count(data_dir):
    conn = sqlite3.connect(data_dir / DATABASE_NAME)
    try:
        return conn.execute("SELECT COUNT(*) FROM mentions WHERE place_id IS NOT NULL AND kind = 'place'").fetchone()[0]
    finally:
        conn.close()


def shaded_countries(page) -> set[str]:
    """The country codes the density view shades in the frame shown."""
    return set(page.evaluate(
        "() => { const out = []; mapapp.current.density.group.eachLayer(l => {"
        " if (l.options.fillOpacity) { out.push(l.feature.properties.code); } }); return out; }"))


def test_search_highlights_matching_places_and_hostile_snippets_stay_text(newsroom, data_dir, page):
    base, site = newsroom
    hostile = site.add_page("/news/storm.html", "hostile-article.html")
    talks = site.add_page("/news/talks.html", "karabakh-talks.html")
    log_in(page, base)
    add_by_url(page, base, [hostile, talks])
    expect(page.locator("#add-results tr[data-status='ingested']")).to_have_count(2)
    # The hostile title is shown as text in the results table too.
    expect(page.locator("#add-results")).to_contain_text("<img src=x onerror=alert(1)>")

    page.goto(f"{base}/search")
    page.fill("#search-q", "flooded")
    page.click("form.search-form button[type=submit]")
    page.wait_for_url("**/search?q=flooded")
    ready(page)
    results = page.locator("#search-results li")
    expect(results).to_have_count(1)
    expect(results.first.locator("a").first).to_have_text("Storm <img src=x onerror=alert(1)> hits Tbilisi")
    snippet = results.first.locator(".snippet").text_content()
    assert "named <img src=x onerror=alert(1)> flooded" in snippet
    assert page.locator("#search-results img, #search-results script").count() == 0
    expect(results.first.locator("mark")).to_have_text(["flooded"])
    # A text that closes the highlight and opens a script: the match inside it is marked, the rest is text.
    page.goto(f"{base}/search?q=mark")
    expect(page.locator("#search-results li")).to_have_count(1)
    assert "</mark><script>alert(3)</script>" in page.locator("#search-results .snippet").text_content()
    expect(page.locator("#search-results mark")).to_have_text(["mark"])
    assert page.locator("#search-results script").count() == 0
    page.goto(f"{base}/search?q=flooded")
    ready(page)
    # Only the matching article's places are on the search page's map: Tbilisi, not Almaty.
    drawn = set(page.evaluate("() => Object.keys(mapapp.current.layers)"))
    assert place_ids(data_dir, "Tbilisi") <= drawn and not place_ids(data_dir, "Almaty") & drawn
    # "Show their places on the main map": the overview keeps the text filter in its address.
    page.click("text=Show their places on the main map")
    ready(page)
    page.wait_for_function("() => new URLSearchParams(location.search).get('text') === 'flooded'")
    drawn = set(page.evaluate("() => Object.keys(mapapp.current.layers)"))
    assert place_ids(data_dir, "Tbilisi") <= drawn and not place_ids(data_dir, "Almaty") & drawn
    # Opening a popup of a place puts the hostile title into the page too: still text, no dialog (page fixture).
    page.locator("#place-list button").first.click()
    page.locator(".leaflet-popup-content").wait_for()
    assert page.locator(".leaflet-popup-content img").count() == 0
