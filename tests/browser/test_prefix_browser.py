"""mapapp mounted below a path prefix (as behind a reverse proxy at /news/), in Chromium: the admin map and the
public map load their data, and nothing a page or script asks for leaves the prefix."""
from __future__ import annotations

import pytest
from admin_support import log_in, make_app
from conftest import serving
from playwright.sync_api import expect
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Response

PREFIX = "/news"


@pytest.fixture
def prefixed(seeded_with_alice):
    """The seeded app with account alice, mounted at /news on waitress (anything else is a 404); its base URL."""
    app = make_app(seeded_with_alice)
    outside = Response("not mapapp: outside its prefix", status=404)
    with serving(DispatcherMiddleware(outside, {PREFIX: app})) as base:
        yield base + PREFIX


def outside_the_prefix(page, base) -> list[str]:
    """The page's requests that went anywhere but below `base` (inline data: URIs aside)."""
    return [url for url in page.requests if not url.startswith(base + "/") and not url.startswith("data:")]


def test_the_admin_map_loads_its_outlines_and_checks_impact_below_the_prefix(page, prefixed):
    log_in(page, prefixed, "/admin/places/cur:nagorno-karabakh")  # the login keeps the prefix, and comes back
    # No tile server: the country outlines from /news/outlines.json are the map's backdrop.
    expect(page.locator("#edit-map.admin-offline")).to_have_count(1)
    assert page.locator("#edit-map path.admin-outline").count() > 100
    with page.expect_response(f"{prefixed}/admin/impact") as answered:
        page.click("#impact-button")
    assert answered.value.ok
    expect(page.locator("#impact")).to_contain_text("would resolve differently")
    assert outside_the_prefix(page, prefixed) == []


def test_the_public_map_loads_its_places_below_the_prefix(page, prefixed):
    page.goto(f"{prefixed}/")
    page.locator(".mapapp-map[data-ready='true']").wait_for()
    assert page.evaluate("() => mapapp.current.visible.length") > 0
    assert outside_the_prefix(page, prefixed) == []
