"""Correcting places where you read them (issue 10), in Chromium: a logged-in editor picks another candidate
for a highlighted name, says "not a place here" and undoes it, and marks plain text as a place; a reader who
is not logged in sees none of it."""
from __future__ import annotations

import json
import os
import re

import pytest
from admin_support import log_in, make_app, query
from conftest import ROOT, serving
from playwright.sync_api import expect

from mapapp.db import DATABASE_NAME, connect

pytestmark = pytest.mark.browser

# The README's picture: refreshed when MAPAPP_SCREENSHOTS is set, else taken into the test's folder (a test run
# leaves the checkout as it was).
SCREENSHOT = ROOT / "docs" / "screenshots" / "article-correction.png"


@pytest.fixture
def site(seeded_with_alice):
    """mapapp on waitress over a fresh copy of the seeded data, with account alice; (base URL, data folder)."""
    folder = seeded_with_alice
    app = make_app(folder)
    with serving(app) as base:
        yield base, folder


def ready(page):
    page.locator(".mapapp-map[data-ready='true']").wait_for(timeout=15000)


def ambiguous_mention(folder):
    """A seed mention whose stored alternatives hold another place: (article id, start, end, text, place, other)."""
    for row in query(folder, "SELECT m.article_id, m.start, m.end, m.text, m.place_id, m.alternatives FROM mentions m"
                             " WHERE m.text = 'Moscow' AND m.alternatives != '[]' ORDER BY m.article_id, m.start"):
        others = [pid for pid, _score in json.loads(row["alternatives"]) if pid.startswith("adm1:")]
        if others:
            return row["article_id"], row["start"], row["end"], row["text"], row["place_id"], others[0]
    pytest.fail("no seed mention of Moscow with a province among its alternatives")


def test_an_editor_picks_another_candidate_and_the_mark_and_map_follow(page, site, tmp_path):
    base, folder = site
    article_id, start, end, text, place_id, other = ambiguous_mention(folder)
    [other_name] = [r["name"] for r in query(folder, "SELECT name FROM places WHERE id = ?", other)]
    log_in(page, base)
    page.goto(f"{base}/articles/{article_id}")
    ready(page)
    mark = page.locator(f"#article-text mark[data-start='{start}'][data-end='{end}']")
    expect(mark).to_have_attribute("data-place-id", place_id)
    mark.click()
    panel = page.locator("#correction-panel[data-ready='true']")
    panel.wait_for()
    expect(panel.locator("h2")).to_have_text(f"Which place is “{text}” here?")
    choice = panel.locator(f".correction-candidate[data-place-id='{other}']")
    expect(choice.locator(".correction-name")).to_have_text(other_name)
    expect(choice.locator(".correction-where")).to_contain_text("Russia")  # the country's name, not RU
    expect(choice.locator(".correction-population")).to_contain_text("population")
    expect(panel.locator(f".correction-candidate[data-place-id='{place_id}']")).to_have_class(re.compile("is-current"))
    # The mini map has drawn the country outlines around the dot.
    page.wait_for_function("() => [...document.querySelectorAll('#correction-panel .correction-minimap')]"
                           ".every(svg => Number(svg.getAttribute('data-outlines')) > 0)")
    shot = SCREENSHOT if os.environ.get("MAPAPP_SCREENSHOTS") else tmp_path / SCREENSHOT.name
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    with page.expect_navigation():
        choice.locator("button").click()
    ready(page)
    mark = page.locator(f"#article-text mark[data-start='{start}'][data-end='{end}']")
    expect(mark).to_have_attribute("data-place-id", other)
    expect(mark).to_have_class(re.compile("is-current"))
    # The article's map selected the corrected place: its popup is open.
    expect(page.locator(".leaflet-popup .mapapp-popup-name")).to_have_text(other_name)
    [stored] = query(folder, "SELECT place_id FROM mentions WHERE article_id = ? AND start = ? AND end = ?",
                     article_id, start, end)
    assert stored["place_id"] == other
    expect(page.locator(".correction-item")).to_have_count(1)


def test_not_a_place_here_then_undo(page, site):
    base, folder = site
    article_id, start, end, _text, place_id, _other = ambiguous_mention(folder)
    log_in(page, base)
    page.goto(f"{base}/articles/{article_id}")
    ready(page)
    selector = f"#article-text mark[data-start='{start}'][data-end='{end}']"
    # By keyboard: Enter on the name opens the panel with the first candidate focused; Escape goes back.
    page.locator(selector).focus()
    page.keyboard.press("Enter")
    page.locator("#correction-panel[data-ready='true']").wait_for()
    page.wait_for_function("() => document.activeElement.closest('#correction-panel .correction-choose') !== null")
    page.keyboard.press("Escape")
    expect(page.locator("#correction-panel")).to_have_count(0)
    page.wait_for_function("(s) => document.activeElement === document.querySelector(s)", arg=selector)
    page.locator(selector).click()
    page.locator("#correction-panel[data-ready='true']").wait_for()
    with page.expect_navigation():
        page.locator("#correction-panel .correction-not-place").click()
    ready(page)
    expect(page.locator(selector)).to_have_count(0)
    expect(page.locator(".correction-item")).to_contain_text("not a place here")
    with page.expect_navigation():
        page.locator(".correction-item .correction-undo button").click()
    ready(page)
    expect(page.locator(selector)).to_have_attribute("data-place-id", place_id)
    expect(page.locator(".correction-item")).to_have_count(0)


SELECT_WORD = """(word) => {
  const text = document.getElementById('article-text');
  const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('mark')) { continue; }
    const at = node.data.indexOf(word);
    if (at < 0) { continue; }
    const range = document.createRange();
    range.setStart(node, at); range.setEnd(node, at + word.length);
    const selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
    text.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
    return true;
  }
  return false;
}"""


def test_an_editor_selects_plain_text_and_says_it_is_a_place(page, site):
    base, folder = site
    article_id, *_rest = ambiguous_mention(folder)
    word = "peacekeepers"
    text = query(folder, "SELECT text FROM articles WHERE id = ?", article_id)[0]["text"]
    start = text.index(word)
    assert not query(folder, "SELECT 1 FROM mentions WHERE article_id = ? AND start = ?", article_id, start)
    log_in(page, base)
    page.goto(f"{base}/articles/{article_id}")
    ready(page)
    assert page.evaluate(SELECT_WORD, word)
    page.locator(".correction-select", has_text="This is a place").click()
    panel = page.locator("#correction-panel[data-ready='true']")
    panel.wait_for()
    expect(panel.locator(".correction-create")).to_have_attribute("href", f"/admin/places/new?name={word}")
    expect(panel.locator(".correction-not-place")).to_have_count(0)
    panel.locator("input[name=q]").fill("Yerevan")
    panel.locator(".correction-search button[type=submit]").click()
    choice = panel.locator(".correction-results .correction-candidate[data-place-id='gn:616052']")
    expect(choice.locator(".correction-where")).to_contain_text("Armenia")
    with page.expect_navigation():
        choice.locator("button").click()
    ready(page)
    expect(page.locator(f"#article-text mark[data-start='{start}']")).to_have_attribute("data-place-id", "gn:616052")
    assert query(folder, "SELECT place_id FROM mentions WHERE article_id = ? AND start = ? AND end = ?",
                 article_id, start, start + len(word))[0]["place_id"] == "gn:616052"


def test_a_reader_who_is_not_logged_in_sees_no_editing_tools(page, site):
    base, folder = site
    article_id, *_rest = ambiguous_mention(folder)
    page.goto(f"{base}/articles/{article_id}")
    ready(page)
    expect(page.locator("#correction-config")).to_have_count(0)
    page.locator("#article-text mark").first.click()
    expect(page.locator("#article-text mark[data-start]")).to_have_count(0)
    expect(page.locator("#correction-panel")).to_have_count(0)
    assert not [url for url in page.requests if "corrections" in url]


def test_offsets_count_code_points_past_emoji(page, site, geoparser, tmp_path):
    """The page counts UTF-16 units, the server code points: a selection after emoji still names the right span."""
    from mapapp.articles import ingest_paths

    base, folder = site
    text = "Flags 🇦🇲 and 🌍 flew over Zorvanik today. Officials in Yerevan spoke.\n"
    path = tmp_path / "emoji.txt"
    path.write_text(text, encoding="utf-8")
    conn = connect(folder / DATABASE_NAME)
    try:
        [article_id] = ingest_paths(conn, geoparser, [path], progress=False)
        stored = conn.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()[0]
    finally:
        conn.close()
    start = stored.index("Zorvanik")
    log_in(page, base)
    page.goto(f"{base}/articles/{article_id}")
    ready(page)
    assert page.evaluate(SELECT_WORD, "Zorvanik")
    page.locator(".correction-select").click()
    panel = page.locator("#correction-panel[data-ready='true']")
    panel.wait_for()
    panel.locator("input[name=q]").fill("Yerevan")
    panel.locator(".correction-search button[type=submit]").click()
    with page.expect_navigation():
        panel.locator(".correction-results .correction-candidate[data-place-id='gn:616052'] button").click()
    ready(page)
    [row] = query(folder, "SELECT start, end, text FROM mentions WHERE article_id = ? AND text = 'Zorvanik'",
                  article_id)
    assert (row["start"], row["end"]) == (start, start + len("Zorvanik"))
    expect(page.locator(f"#article-text mark[data-start='{start}']")).to_have_text("Zorvanik")
