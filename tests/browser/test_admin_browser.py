"""The admin in Chromium: add a missing village on the map, draw a region and undo it, hostile names stay text."""
from __future__ import annotations

import json

import pytest
from admin_support import HOSTILE, PASSWORD, log_in, make_app, query
from click.testing import CliRunner
from conftest import close_popup
from playwright.sync_api import expect
from postgres_support import close_gazetteer

from mapapp.accounts import create_user
from mapapp.db import connect, location, opened
from mapapp.gazetteer import editing

pytestmark = pytest.mark.browser

ARTICLE = ("Shelling near Zorvanik, a village east of Yerevan, was reported on Tuesday. "
           "Residents of Zorvanik said the road to Yerevan was closed.")


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, data_dir):
    """The app over the full gazetteer, on each store in turn. PostgreSQL is named in the data folder's config.py,
    as an operator names it, so that the tests' own queries and commands given the folder reach it too."""
    if request.param == "postgresql":
        url = request.getfixturevalue("gazetteer_pg_url")
        (data_dir / "config.py").write_text(f"DATABASE_URL = {url!r}\n", encoding="utf-8")
    app = make_app(data_dir, **({"DATABASE_URL": url} if request.param == "postgresql" else {}))
    yield app
    close_gazetteer(app)


@pytest.fixture
def admin_site(app, data_dir, live_server):
    """The live server over the full gazetteer, with account alice."""
    with opened(location(data_dir)) as conn:
        create_user(conn, "alice", PASSWORD)
    return live_server


def ingest(app, tmp_path, text=ARTICLE) -> int:
    from mapapp.articles import ingest_paths
    from mapapp.db import get_db
    from mapapp.geoparse import get_geoparser

    path = tmp_path / "zorvanik.txt"
    path.write_text(text, encoding="utf-8")
    with app.app_context():
        [article_id] = ingest_paths(get_db(), get_geoparser(), [path], progress=False)
    return article_id


def impact_answer(page, button) -> dict:
    """Click an impact button and wait for the server's answer to the check it sends (however long a loaded
    server takes); the page shows it as soon as it arrives."""
    with page.expect_request(lambda request: request.url.endswith("/admin/impact")) as asked:
        page.click(button)
    response = asked.value.response()
    assert response is not None and response.ok, response
    return response.json()


def test_add_a_missing_village_by_clicking_the_map(app, data_dir, admin_site, page, tmp_path):
    article_id = ingest(app, tmp_path)
    assert not query(data_dir, "SELECT 1 FROM mentions WHERE article_id = ? AND text = 'Zorvanik'", article_id)
    log_in(page, admin_site)
    page.goto(f"{admin_site}/admin/places/new?name=Zorvanik")
    assert page.input_value("input[name=name]") == "Zorvanik"
    page.select_option("select[name=feature]", "village")
    page.fill("input[name=country_code]", "AZ")
    box = page.locator("#edit-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    lat, lon = float(page.input_value("input[name=lat]")), float(page.input_value("input[name=lon]"))
    assert 38 < lat < 42 and 45 < lon < 49
    assert page.locator("#edit-map .leaflet-marker-icon").count() == 1
    # Dragging the marker moves the location too.
    marker = page.locator("#edit-map .leaflet-marker-icon").bounding_box()
    page.mouse.move(marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] - 4)
    page.mouse.down()
    page.mouse.move(marker["x"] + marker["width"] / 2 + 30, marker["y"] + marker["height"] + 26, steps=5)
    page.mouse.up()
    expect(page.locator("input[name=lon]")).not_to_have_value(f"{lon:.6f}")
    dragged_lat, dragged_lon = float(page.input_value("input[name=lat]")), float(page.input_value("input[name=lon]"))
    assert dragged_lat < lat and dragged_lon > lon
    lat, lon = dragged_lat, dragged_lon
    predicted = impact_answer(page, "#impact-button")["mentions"]
    assert predicted >= 1
    expect(page.locator("#impact")).to_have_text(  # (the admin CSP forbids eval)
        f"{predicted} mention(s) in 1 article(s) would resolve differently.")
    page.click("#save-button")
    page.wait_for_url(f"{admin_site}/admin/places/admin:zorvanik")
    assert "Created Zorvanik" in page.text_content(".flash")
    [stored] = query(data_dir, "SELECT * FROM places WHERE id = 'admin:zorvanik'")
    assert (round(stored["lat"], 4), round(stored["lon"], 4)) == (round(lat, 4), round(lon, 4))
    mentions = query(data_dir, "SELECT place_id FROM mentions WHERE article_id = ? AND text = 'Zorvanik'", article_id)
    assert [m["place_id"] for m in mentions] == ["admin:zorvanik"] * predicted  # as the preview said
    assert impact_answer(page, "#delete-impact-button")["mentions"] == predicted  # deleting undoes exactly those
    expect(page.locator("#delete-impact")).to_have_text(
        f"{predicted} mention(s) in 1 article(s) would resolve differently.")

    # The article page marks it; the map API and the overview map show it.
    page.goto(f"{admin_site}/articles/{article_id}")
    assert page.locator('mark[data-place-id="admin:zorvanik"]').count() == predicted
    features = json.loads(page.goto(f"{admin_site}/api/features?article={article_id}").text())
    [feature] = [f for f in features["features"] if f["id"] == "admin:zorvanik"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [stored["lon"], stored["lat"]]}
    assert feature["properties"]["mention_count"] == predicted
    page.goto(f"{admin_site}/")
    page.wait_for_selector('.mapapp-list-place[data-place-id="admin:zorvanik"]', state="attached")
    # Leaflet, Leaflet.draw and everything else came from this server: no CDN, nothing leaves the machine.
    assert any("/static/vendor/leaflet-draw/leaflet.draw.js" in url for url in page.requests)
    assert all(url.startswith(admin_site) for url in page.requests), set(page.requests)


def map_has_zoomed_to_the_location(page):
    """Wait until the editor's map has finished zooming to the place: its marker at the centre, no animation."""
    page.wait_for_function("""() => {
        const map = document.querySelector("#edit-map");
        const marker = map && map.querySelector(".leaflet-marker-icon[title=Location]");
        if (!marker || map.querySelector(".leaflet-zoom-anim")) { return false; }
        const box = map.getBoundingClientRect(), icon = marker.getBoundingClientRect();
        return Math.abs((icon.left + icon.right - box.left - box.right) / 2) < 1.5 &&
               Math.abs(icon.bottom - (box.top + box.bottom) / 2) < 1.5;  // the icon's tip marks the place
    }""")


def draw_polygon(page, points):
    """Draw a polygon through points (page pixels), each press as soon as the previous vertex shows (the
    vendor's 50 ms re-enable timer dropped such presses), then close the ring on the first vertex."""
    vertices = page.locator("#edit-map .leaflet-editing-icon")
    tooltip = page.locator(".leaflet-draw-tooltip")
    expect(tooltip).to_contain_text("Click to start drawing shape.")
    for count, (x, y) in enumerate(points, start=1):
        page.mouse.click(x, y)
        expect(vertices).to_have_count(count)
    expect(tooltip).to_contain_text("Click first point to close this shape.")
    page.mouse.click(*points[0])
    expect(vertices).to_have_count(0)  # the drawing handler is done and the shape is on the map


def test_draw_a_region_then_undo_it_from_the_history(admin_site, data_dir, page):
    log_in(page, admin_site)
    page.goto(f"{admin_site}/admin/places/cur:khramort")
    map_has_zoomed_to_the_location(page)
    page.click(".leaflet-draw-draw-polygon")
    box = page.locator("#edit-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    draw_polygon(page, [(cx + dx, cy + dy) for dx, dy in [(-80, -60), (80, -60), (90, 60), (-70, 70)]])
    expect(page.locator("textarea[name=geometry]")).not_to_have_value("")
    drawn = json.loads(page.input_value("textarea[name=geometry]"))
    assert drawn["type"] == "Polygon" and len(drawn["coordinates"][0]) == 5
    page.click("#save-button")
    page.wait_for_selector(".flash")
    assert "version 2" in page.text_content(".flash")
    [stored] = query(data_dir, "SELECT geometry, version FROM places WHERE id = 'cur:khramort'")
    assert json.loads(stored["geometry"])["type"] == "Polygon" and stored["version"] == 2

    page.goto(f"{admin_site}/admin/places/cur:khramort/history")
    page.click("text=Undo: restore version 1")
    page.wait_for_selector(".flash")
    assert "Restored version 1" in page.text_content(".flash")
    [stored] = query(data_dir, "SELECT geometry, version FROM places WHERE id = 'cur:khramort'")
    assert stored["geometry"] is None and stored["version"] == 3
    actions = [r["action"] for r in query(data_dir, "SELECT action FROM place_history WHERE place_id = "
                                                    "'cur:khramort' ORDER BY id")]
    assert actions == ["update", "restore"]


def _hostile_places_with_mentions(data_dir) -> list[str]:
    """Hostile-named places saved through the editing API, and an article (hostile title) mentioning them."""
    conn = connect(location(data_dir))
    ids = []
    for number, name in enumerate(HOSTILE):
        place = editing.create_place(conn, {"id": f"admin:hostile{number}", "name": name, "feature": "village",
                                            "lat": 39 + number * 0.6, "lon": 45 + number * 0.6, "notes": name,
                                            "aliases": [name + "!"]}, "alice")
        ids.append(place.id)
    text = " ".join(f"Near {name} today." for name in HOSTILE)
    [article_id] = conn.execute("INSERT INTO articles (key, title, source, published, text, content_hash,"
                                " ingested_at) VALUES ('hostile', ?, ?, '2024-01-02', ?, 'x', '2024-01-02')"
                                " RETURNING id", (HOSTILE[0], HOSTILE[1], text)).fetchone()
    offset = 0
    for place_id, name in zip(ids, HOSTILE):
        sentence = f"Near {name} today."
        start = text.index(sentence, offset)
        conn.execute('INSERT INTO mentions (article_id, start, "end", text, kind, place_id, score, sentence_start,'
                     " sentence_end) VALUES (?, ?, ?, ?, 'place', ?, 1.0, ?, ?)",
                     (article_id, start + 5, start + 5 + len(name), name, place_id, start,
                      start + len(sentence)))
        offset = start + len(sentence)
    conn.close()
    return ids


def test_hostile_names_stay_text_in_admin_public_map_and_export(admin_site, data_dir, page, tmp_path):
    ids = _hostile_places_with_mentions(data_dir)
    log_in(page, admin_site)
    # Admin pages: the names are shown as text.
    page.goto(f"{admin_site}/admin/?source=admin")
    for place_id, name in zip(ids, HOSTILE):
        assert page.text_content(f'tr[data-place-id="{place_id}"] td a') == name
    for place_id, name in zip(ids, HOSTILE):
        page.goto(f"{admin_site}/admin/places/{place_id}")
        assert page.input_value("input[name=name]") == name
        assert page.input_value("textarea[name=notes]") == name
        page.goto(f"{admin_site}/admin/places/{place_id}/history")
        assert name in page.text_content("h1")
    # The admin map's popups (built with textContent).
    page.goto(f"{admin_site}/admin/?source=admin")
    page.wait_for_selector("#results-map .leaflet-marker-icon")
    markers = page.locator("#results-map .leaflet-marker-icon")
    assert markers.count() == len(HOSTILE)
    popup = page.locator("#results-map .leaflet-popup")
    shown = set()
    for index in range(markers.count()):
        marker = markers.nth(index)
        marker.click()  # the map's first view was set at once: the markers are where they stay
        expect(popup).to_have_count(1)
        link = popup.locator(".leaflet-popup-content a")
        assert link.text_content() == marker.get_attribute("title")
        shown.add(link.text_content())
        close_popup(page, "#results-map")
    assert shown == set(HOSTILE)
    # The public map: list view, popups and tooltips built from /api/features.
    api = json.loads(page.goto(f"{admin_site}/api/features").text())
    names = {f["id"]: f["properties"]["name"] for f in api["features"]}
    assert all(names[place_id] == name for place_id, name in zip(ids, HOSTILE))
    page.goto(f"{admin_site}/")
    for place_id, name in zip(ids, HOSTILE):
        button = page.locator(f'.mapapp-list-place[data-place-id="{place_id}"]')
        button.wait_for(state="attached")
        assert button.text_content() == name
        button.click()
        expect(page.locator(".leaflet-popup-content", has_text=name)).to_have_count(1)
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    # The exported file: no live markup, and it opens without a dialog.
    from mapapp.cli import main

    out = tmp_path / "map.html"
    result = CliRunner().invoke(main, ["export", "--out", str(out), "--tiles", "", "--data", str(data_dir)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<img src=x onerror=alert(1)>" not in html and "</script><script>alert(1)" not in html
    page.goto(out.as_uri())
    page.locator(".mapapp-map[data-ready='true']").wait_for()  # the file's map has drawn its data
    for place_id, name in zip(ids, HOSTILE):
        button = page.locator(f'.mapapp-list-place[data-place-id="{place_id}"]')
        expect(button).to_have_text(name)
        button.click()
        expect(page.locator(".leaflet-popup-content", has_text=name)).to_have_count(1)
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0


def test_pasted_geojson_is_previewed_live_and_an_invalid_shape_is_refused(admin_site, data_dir, page):
    log_in(page, admin_site)
    page.goto(f"{admin_site}/admin/places/cur:khramort")
    before = query(data_dir, "SELECT * FROM places WHERE id = 'cur:khramort'")
    page.fill("textarea[name=geometry]", '{"type": "Polygon", "coordinates": [[[46.7')
    expect(page.locator("#geometry-preview")).to_contain_text("Not valid JSON yet")
    bowtie = {"type": "Polygon", "coordinates": [[[46.7, 39.9], [46.9, 40.1], [46.9, 39.9], [46.7, 40.1],
                                                  [46.7, 39.9]]]}
    page.fill("textarea[name=geometry]", json.dumps(bowtie))
    expect(page.locator("#geometry-preview")).to_contain_text("Preview of the pasted Polygon")
    assert page.locator("#edit-map path.leaflet-interactive").count() == 1
    expect(page.locator("#impact")).to_contain_text("Self-intersection")  # the live check, before saving
    page.click("#save-button")
    expect(page.locator("#error-geometry")).to_contain_text("shape is not valid: Self-intersection")
    assert query(data_dir, "SELECT * FROM places WHERE id = 'cur:khramort'") == before
    assert query(data_dir, "SELECT count(*) AS n FROM place_history")[0]["n"] == 0
