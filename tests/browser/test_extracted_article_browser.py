"""Issue 10, fault 8, as a reader sees it: an ingested HTML page shows its article, not the site around it."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_data_dir, serving
from playwright.sync_api import expect

from mapapp import create_app

pytestmark = pytest.mark.browser

PAGE = Path(__file__).resolve().parent.parent / "fixtures" / "html" / "sindh-floods.html"


@pytest.fixture
def site(gazetteer_template, geoparser, tmp_path):
    """The app over a fresh gazetteer copy with the Sindh fixture page ingested; (app, article id)."""
    from mapapp.articles.store import ingest_paths
    from mapapp.db import DATABASE_NAME, connect

    data = copy_data_dir(gazetteer_template, tmp_path / "data")
    conn = connect(data / DATABASE_NAME)
    try:
        [article_id] = ingest_paths(conn, geoparser, [PAGE], progress=False)
    finally:
        conn.close()
    return create_app(data, {"TESTING": True, "LOAD_SEEDS": False, "SECRET_KEY": "t",
                             "TILES_URL": ""}), article_id


@pytest.fixture
def server(site):
    """The site on waitress; yields (base URL, article id)."""
    app, article_id = site
    with serving(app) as base:
        yield base, article_id


def test_the_article_page_shows_the_article_and_none_of_the_page_around_it(page, server):
    base, article_id = server
    page.goto(f"{base}/articles/{article_id}")
    expect(page.locator("#article-title")).to_have_text("Floods cut off villages across Sindh")
    expect(page.locator(".article-source")).to_have_text("The Indus Courier")
    text = page.locator("#article-text")
    expect(text).to_contain_text("Rescue teams reached dozens of villages near Hyderabad on Wednesday")
    expect(text.locator("mark", has_text="Karachi").first).to_be_visible()
    body = text.inner_text()
    for furniture in ("Home", "Sport", "Copyright", "All rights reserved", "Related articles", "Subscribe",
                      "Lisbon", "Toronto"):
        assert furniture not in body, furniture
    # The menus' and related stories' places are not on the article's map either.
    marked = set(text.locator("mark").all_inner_texts())
    assert {"Karachi", "Hyderabad"} <= marked and not marked & {"Lisbon", "Toronto", "Madrid", "Lahore"}
