"""What a reader meets on the maps (issue 10): shapes, filters, search, basemap, phones, embeds, plain words."""
from __future__ import annotations

import threading

import pytest
from playwright.sync_api import expect

from conftest import copy_data_dir, free_port
from mapapp import create_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(seeded_template, tmp_path_factory):
    """mapapp on waitress over a copy of the seeded data (no tiles); yields its base URL."""
    from waitress.server import create_server

    folder = copy_data_dir(seeded_template, tmp_path_factory.mktemp("reader") / "data")
    app = create_app({"TESTING": True, "DATA_DIR": str(folder), "LOAD_SEEDS": False, "SECRET_KEY": "t",
                      "TILES_URL": ""})
    running = create_server(app, host="127.0.0.1", port=free_port(), threads=4)
    threading.Thread(target=running.run, daemon=True).start()
    yield f"http://127.0.0.1:{running.effective_port}"
    running.close()


def ready(page_or_frame):
    """Wait until the map has loaded and drawn its data."""
    page_or_frame.locator(".mapapp-map[data-ready='true']").wait_for(timeout=15000)


def popup_name(page):
    """The name in the open popup."""
    return page.locator(".leaflet-popup .mapapp-popup-name")


def click_at(page, lat, lon):
    """Click the map at (lat, lon)."""
    box = page.locator(".mapapp-map").bounding_box()
    x, y = page.evaluate("([lat, lon]) => { const p = mapapp.current.map.latLngToContainerPoint([lat, lon]);"
                         " return [p.x, p.y]; }", [lat, lon])
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_a_click_inside_a_region_opens_the_region_not_the_country_around_it(page, server):
    page.goto(server + "/?zoom=8&lat=39.8&lon=46.6")
    ready(page)
    # (39.9, 46.75) lies inside Nagorno-Karabakh and Azerbaijan and no other shape
    click_at(page, 39.9, 46.75)
    expect(popup_name(page)).to_have_text("Nagorno-Karabakh")
    page.locator(".leaflet-popup-close-button").click()
    expect(page.locator(".leaflet-popup")).to_have_count(0)
    # Inside Lachin District, Nagorno-Karabakh's shape and Azerbaijan: the smallest (the district) wins
    click_at(page, 39.8, 46.6)
    expect(popup_name(page)).to_have_text("Lachin District")
