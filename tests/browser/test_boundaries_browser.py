"""A province's real outline on the map, in Chromium: Syunik (Natural Earth admin-1), in view by URL."""
from __future__ import annotations

import os

import pytest
from conftest import ROOT, copy_data_dir, serving

from mapapp import create_app

pytestmark = pytest.mark.browser

# The README's picture: refreshed when MAPAPP_SCREENSHOTS is set, else taken into the test's folder.
SCREENSHOT = ROOT / "docs" / "screenshots" / "province-outline.png"


@pytest.fixture
def server(seeded_template, tmp_path):
    """mapapp on waitress over a copy of the seeded data (no tiles); yields its base URL."""
    folder = copy_data_dir(seeded_template, tmp_path / "data")
    app = create_app(folder, {"TESTING": True, "LOAD_SEEDS": False, "SECRET_KEY": "t", "TILES_URL": ""})
    with serving(app) as base:
        yield base


def test_a_province_is_drawn_with_its_real_outline(page, server, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{server}/?lat=39.45&lon=46.0&zoom=9")
    page.locator(".mapapp-map[data-ready='true']").wait_for(timeout=15000)
    drawn = page.evaluate("() => { const l = mapapp.current.layers['cur:syunik-province'];"
                          " return [l.feature.properties.approximate,"
                          " l.feature.geometry.coordinates.flat(4).length / 2]; }")
    approximate, vertices = drawn
    assert approximate is False and vertices > 40  # the Natural Earth outline, not a hand-drawn sketch
    shot = SCREENSHOT if os.environ.get("MAPAPP_SCREENSHOTS") else tmp_path / SCREENSHOT.name
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
