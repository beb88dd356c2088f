"""The density view and the download links in a real Chromium: switch views, play the timeline, download the
GeoPackage from the page and open it with GDAL's ogrinfo; hostile names stay text."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import copy_data_dir, serving
from mapdata import add_article, place_id, seed_sample
from playwright.sync_api import expect

from mapapp import create_app
from mapapp.db import DATABASE_NAME, opened

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = '<img src=x onerror=alert(1)> "Arm" &'
SCREENSHOTS = ROOT / "docs" / "screenshots"
# Articles in several weeks and countries: the timeline's frames differ.
EXTRA = [("2022-03-29", "Tbilisi", "Civinfo"), ("2022-04-06", "Tbilisi", "Civinfo"), ("2022-04-06", "Tehran", "IRNA"),
         ("2022-04-12", "Ankara", "Anadolu"), ("2022-04-20", "Yerevan", "Armenpress")]


@pytest.fixture(scope="module")
def density_data(gazetteer_template, tmp_path_factory):
    """The sample articles and a few more in a data folder; (folder, ids)."""
    data = copy_data_dir(gazetteer_template, tmp_path_factory.mktemp("density") / "data")
    with opened(data / DATABASE_NAME) as conn:
        ids = seed_sample(conn)
        for published, city, source in EXTRA:
            add_article(conn, title=f"News from {city}", source=source, published=published, key=published + city,
                        text=f"News from {city}\nOfficials in {city} spoke.",
                        places={city: place_id(conn, city, "city")})
        ids["azerbaijan"] = conn.execute("SELECT id FROM places WHERE feature = 'country' AND country_code = 'AZ'"
                                         ).fetchone()[0]
        conn.execute("UPDATE places SET name = ?, version = version + 1 WHERE id = ?", (HOSTILE, ids["armenia"]))
    return data, ids


@pytest.fixture(scope="module")
def server(density_data):
    """mapapp on waitress over density_data (no tiles); yields (base URL, ids)."""
    data, ids = density_data
    app = create_app(data, {"TESTING": True, "LOAD_SEEDS": False, "SECRET_KEY": "t", "TILES_URL": ""})
    with serving(app) as base:
        yield base, ids


def ready(page):
    page.locator(".mapapp-map[data-ready='true']").wait_for(timeout=15000)


def density_ready(page, frame=None):
    """Wait until the density view has drawn (optionally the frame starting on `frame`)."""
    selector = ".mapapp-map[data-density='ready']" + (f"[data-density-frame='{frame}']" if frame else "")
    page.locator(selector).wait_for(timeout=15000)


def fills(page) -> dict[str, str]:
    """Region id -> its fill on the map ("none" when it has no count in the frame shown)."""
    return page.evaluate(
        "() => { const out = {}; mapapp.current.density.group.eachLayer(l => {"
        " out[l.feature.id] = l.options.fillOpacity ? l.options.fillColor : 'none'; }); return out; }")


def query(page) -> dict:
    return parse_qs(urlsplit(page.url).query)


def test_density_view_shades_regions_with_a_legend(page, server):
    base, ids = server
    page.goto(base + "/")
    ready(page)
    page.get_by_label("Density (regions shaded by count)").check()
    density_ready(page)
    shaded = fills(page)
    # AM (3 articles), AZ (2), GE (2), IR (1), TR (1): every region with a count is shaded, the most the darkest
    assert set(shaded) == {ids["armenia"], ids["azerbaijan"], place_id_of(page, "GE"), place_id_of(page, "IR"),
                           place_id_of(page, "TR")}
    assert "none" not in shaded.values() and shaded[ids["armenia"]] == "#a50f15"
    legend = page.locator(".density-legend")
    expect(legend).to_contain_text("Articles per country")
    expect(legend.locator("li")).not_to_have_count(0)
    assert page.locator(".leaflet-marker-icon").count() == 0  # the markers are off
    assert query(page)["view"] == ["density"] and query(page)["by"] == ["country"]
    # provinces, counting mentions: the URL follows, and the legend says so
    page.locator("#density-by").select_option("admin1")
    page.locator("#density-count").select_option("mentions")
    expect(legend).to_contain_text("Mentions per province or state")
    density_ready(page)
    assert query(page)["by"] == ["admin1"] and query(page)["count"] == ["mentions"]
    # back to markers
    page.get_by_label("Places (markers and shapes)").check()
    page.locator(".leaflet-marker-icon").first.wait_for()
    assert "view" not in query(page)


def place_id_of(page, code: str) -> str:
    """The region id the density response gives the country `code`."""
    return page.evaluate(
        "code => mapapp.current.density.data.features.find(f => f.properties.code === code).id", code)


def test_playing_the_timeline_moves_the_date_range_and_changes_the_shading(page, server):
    base, _ids = server
    page.goto(base + "/?view=density&step=week")
    ready(page)
    density_ready(page)
    assert page.locator("#view-density").is_checked()
    play = page.get_by_role("button", name="Play the timeline")
    play.click()
    density_ready(page, "2022-03-21")  # the first week with an article
    first = fills(page)
    expect(page.locator("#filter-from")).to_have_value("2022-03-21")
    expect(page.locator("#filter-to")).to_have_value("2022-03-27")
    expect(page.locator("#density-frame")).to_contain_text("Week of 2022-03-21 to 2022-03-27")
    density_ready(page, "2022-03-28")  # the next frame comes by itself
    second = fills(page)
    assert first != second  # week 1: Yerevan and the corridor (AM, AZ); week 2: Tbilisi (GE)
    assert [c for c in second.values() if c != "none"] and [c for c in first.values() if c != "none"]
    page.get_by_role("button", name="Pause the timeline").click()
    expect(page.get_by_role("button", name="Play the timeline")).to_be_visible()
    shown = page.locator(".mapapp-map").get_attribute("data-density-frame")
    assert query(page)["at"] == [shown] and query(page)["step"] == ["week"]
    # keyboard: the arrow keys step the timeline from its buttons
    page.get_by_role("button", name="Next week").focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("s => document.querySelector('.mapapp-map').dataset.densityFrame < s", arg=shown)
    # month steps; "All dates" returns to the filter's range
    page.locator("#density-step").select_option("month")
    expect(page.get_by_role("button", name="Next month")).to_be_visible()
    page.get_by_role("button", name="All dates").click()
    density_ready(page, "all")
    expect(page.locator("#filter-from")).to_have_value("")
    assert "at" not in query(page)


def test_the_url_restores_a_frame(page, server):
    base, _ids = server
    page.goto(base + "/?view=density&by=country&count=mentions&step=month&at=2022-04-01&from=2022-04-01"
                     "&to=2022-04-30")
    ready(page)
    density_ready(page, "2022-04-01")
    expect(page.locator("#density-count")).to_have_value("mentions")
    expect(page.locator("#density-step")).to_have_value("month")
    expect(page.locator("#density-frame")).to_contain_text("Month 2022-04")
    shaded = {k for k, v in fills(page).items() if v != "none"}
    assert shaded == {place_id_of(page, code) for code in ("GE", "IR", "TR", "AM")}


def test_hostile_region_name_stays_text_in_the_density_popup(page, server):
    base, ids = server
    page.goto(base + "/?view=density")
    ready(page)
    density_ready(page)
    page.evaluate("id => { mapapp.current.density.group.eachLayer(l => {"
                  " if (l.feature.id === id) { l.openPopup(); } }); }",
                  ids["armenia"])
    popup = page.locator(".density-popup")
    expect(popup.locator("strong")).to_have_text(HOSTILE)
    assert popup.locator("img").count() == 0
    expect(popup).to_contain_text("3 articles")
    assert page.locator(".density-legend img").count() == 0
    # and on its place page, the weekly chart's title carries the name as text
    page.goto(base + "/places/" + ids["armenia"])
    expect(page.locator("#timeline-title")).to_have_text(f"Mentions of {HOSTILE} by week")
    assert page.locator(".place-timeline img").count() == 0
    expect(page.locator(".timeline-table tbody tr")).to_have_count(1)  # a1's week; a3 has no date


def test_the_share_dialog_embeds_the_density_view_and_the_embed_shades_regions(page, server):
    base, ids = server
    page.goto(base + "/?view=density&by=country&count=mentions")
    ready(page)
    density_ready(page)
    overview = fills(page)
    page.locator("#share-button").click()
    box = page.get_by_label("Density view (regions shaded by count, with its legend)")
    expect(box).to_be_checked()  # the page shows the density view: so does the embed, by default
    snippet = page.locator("#share-snippet")
    expect(snippet).to_have_value(re.compile(r"view=density"))
    src = snippet.input_value().split('src="')[1].split('"')[0].replace("&amp;", "&")
    assert src.startswith(base + "/embed/?")
    assert {k: v for k, v in parse_qs(urlsplit(src).query).items() if k in ("view", "by", "count")} == \
        {"view": ["density"], "by": ["country"], "count": ["mentions"]}
    box.uncheck()
    expect(snippet).not_to_have_value(re.compile(r"view=density"))
    box.check()

    page.goto(src)
    ready(page)
    density_ready(page)
    assert fills(page) == overview  # the same regions, shaded the same
    assert set(overview) >= {ids["armenia"], ids["azerbaijan"]} and "none" not in overview.values()
    legend = page.locator(".density-legend")
    expect(legend).to_contain_text("Mentions per country")
    assert page.locator(".leaflet-marker-icon").count() == 0
    # its controls, in the embed's panel: provinces, then the timeline
    page.locator(".embed-panel > summary").click()
    page.locator("#density-by").select_option("admin1")
    expect(legend).to_contain_text("Mentions per province or state")
    page.get_by_role("button", name="Play the timeline").click()
    density_ready(page, "2022-03-21")
    page.get_by_role("button", name="Pause the timeline").click()
    # a region's popup opens its place page in a new tab (the embedding page stays)
    page.evaluate("() => { mapapp.current.density.group.getLayers()[0].openPopup(); }")
    expect(page.locator(".density-popup a")).to_have_attribute("target", "_blank")


def test_the_exported_file_has_the_density_view_offline(page, density_data, tmp_path):
    from click.testing import CliRunner

    from mapapp.cli import main

    data, ids = density_data
    out = tmp_path / "map.html"
    result = CliRunner().invoke(main, ["export", "--data", str(data), "--out", str(out), "--tiles", ""])
    assert result.exit_code == 0, result.output
    page.context.route("http*://**/*", lambda route: route.abort())  # nothing but the file itself
    page.goto(out.as_uri())
    ready(page)
    page.get_by_label("Density (regions shaded by count)").check()
    density_ready(page)
    shaded = fills(page)
    assert {ids["armenia"], ids["azerbaijan"]} <= set(shaded) and shaded[ids["armenia"]] == "#a50f15"
    assert "none" not in shaded.values()
    legend = page.locator(".density-legend")
    expect(legend).to_contain_text("Articles per country")
    expect(legend).to_contain_text("Counts of the view as exported")
    # the timeline plays from the file's own answers, moving the date range as on the overview
    page.get_by_role("button", name="Play the timeline").click()
    density_ready(page, "2022-03-21")
    expect(page.locator("#filter-from")).to_have_value("2022-03-21")
    density_ready(page, "2022-03-28")
    page.get_by_role("button", name="Pause the timeline").click()
    page.locator("#density-by").select_option("admin1")
    expect(legend).to_contain_text("Articles per province or state")
    density_ready(page)
    assert page.evaluate("() => location.hash").find("view=density") >= 0  # the file's state is in its hash
    page.evaluate("() => { mapapp.current.density.group.getLayers()[0].openPopup(); }")
    expect(page.locator(".density-popup strong")).to_have_count(1)
    assert page.locator(".density-popup a").count() == 0  # no place pages without a server


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="ogrinfo is missing: install Debian gdal-bin (make gdal)")
def test_download_the_geopackage_of_the_filtered_view_and_open_it(page, server, tmp_path):
    base, _ids = server
    page.goto(base + "/?source=Civinfo")
    ready(page)
    link = page.locator("#download-gpkg")
    expect(link).to_have_attribute("href", "/api/export.gpkg?source=Civinfo")
    # a layer toggle narrows the download too
    page.locator("#filter-from").fill("2022-04-01")
    page.locator("#filter-from").dispatch_event("change")
    expect(link).to_have_attribute("href", "/api/export.gpkg?source=Civinfo&from=2022-04-01")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "mapapp-view.gpkg"
    path = tmp_path / "view.gpkg"
    download.save_as(path)
    result = subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(path)], check=False, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "using driver `GPKG' successful" in result.stdout
    # one Tbilisi article from April: the city twice (title line and sentence)
    assert "Layer name: mentions" in result.stdout and "Feature Count: 2" in result.stdout


def test_screenshots_of_the_markers_and_density_views(page, server, tmp_path):
    base, _ids = server
    folder = SCREENSHOTS if os.environ.get("MAPAPP_SCREENSHOTS") else tmp_path
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(base + "/?lat=40.5&lon=45&zoom=5")
    ready(page)
    page.locator(".mapapp-map.mapapp-offline").wait_for()  # the outline basemap (no tiles in tests)
    assert page.locator("#density-options").is_hidden()
    page.screenshot(path=str(folder / "overview-markers.png"))
    page.get_by_label("Density (regions shaded by count)").check()
    density_ready(page)
    assert page.locator("#density-options").is_visible()
    page.screenshot(path=str(folder / "overview-density.png"))
    assert (folder / "overview-markers.png").stat().st_size > 10_000
    assert (folder / "overview-density.png").stat().st_size > 10_000
