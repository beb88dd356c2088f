"""One huge article cannot tie up the server: every page and API response about it is bounded and paged, and
ingest refuses an article with more mentions than the configured maximum (issue 7, fault 2)."""
from __future__ import annotations

import re
import sqlite3
from urllib.parse import parse_qs, urlsplit

import pytest
from admin_support import make_app
from mapdata import add_article

from mapapp.articles.sentences import CONTEXT
from mapapp.articles.store import MAX_MENTIONS_PER_ARTICLE
from mapapp.db import DATABASE_NAME, opened
from mapapp.errors import InputTooLarge
from mapapp.maps.views import ARTICLE_MENTIONS_SHOWN, PLACE_MENTIONS_SHOWN
from mapapp.web.api import (
    ARTICLE_MENTIONS_LIMIT,
    ARTICLE_MENTIONS_MAX,
    PLACE_MENTIONS_LIMIT,
)

YEREVAN, ARMENIA = "gn:616052", "gn:174982"
SENTENCE = "Officials in Yerevan spoke for Armenia.\n"
REPEATS = 10_000  # two mentions a sentence: 20,000 mentions
TOTAL = 2 * REPEATS
KB = 1024


@pytest.fixture(scope="module")
def big_template(small_template, tmp_path_factory):  # noqa: F811
    """The small data folder plus one article of 20,000 mentions of two places, made once; copy, never write."""
    from conftest import copy_data_dir

    folder = copy_data_dir(small_template, tmp_path_factory.mktemp("big"))
    text = "Big article\n" + SENTENCE * REPEATS
    with opened(folder / DATABASE_NAME) as conn:
        article_id = add_article(conn, title="Big article", source="Flood", published="2024-05-01", text=text,
                                 places={"Yerevan": YEREVAN, "Armenia": ARMENIA})
        assert conn.execute("SELECT COUNT(*) FROM mentions").fetchone()[0] == TOTAL
    return folder, article_id, len(text.encode())


@pytest.fixture
def big(big_template, tmp_path):
    """(app over a fresh copy of the big article's folder, article id, text size in bytes)."""
    from conftest import copy_data_dir

    folder, article_id, size = big_template
    return make_app(copy_data_dir(folder, tmp_path / "big")), article_id, size


def stored_mention_ids(app, article_id) -> list[int]:
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        return [r[0] for r in conn.execute("SELECT id FROM mentions WHERE article_id = ? ORDER BY start, place_id, id",
                                           (article_id,))]
    finally:
        conn.close()


def test_api_article_sends_one_page_of_mentions_with_a_count_and_next_link(big):
    app, article_id, text_size = big
    response = app.test_client().get(f"/api/articles/{article_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["mention_count"] == TOTAL
    assert len(body["mentions"]) == ARTICLE_MENTIONS_LIMIT == 1000
    assert (body["offset"], body["limit"]) == (0, 1000)
    assert body["next"] == f"/api/articles/{article_id}?offset=1000&limit=1000"
    # The text and one page of mentions: 20,000 mentions would be about 20 times this.
    assert len(response.data) < text_size + 400 * KB


def test_api_article_pages_return_every_mention_once_in_text_order(big):
    app, article_id, _size = big
    client, url, seen, pages = app.test_client(), f"/api/articles/{article_id}?limit={ARTICLE_MENTIONS_MAX}", [], 0
    while url:
        body = client.get(url).get_json()
        seen += [m["id"] for m in body["mentions"]]
        url, pages = body["next"], pages + 1
    assert pages == TOTAL // ARTICLE_MENTIONS_MAX == 4
    assert seen == stored_mention_ids(app, article_id)


@pytest.mark.parametrize("query, field", [(f"limit={ARTICLE_MENTIONS_MAX + 1}", "limit"), ("limit=-1", "limit"),
                                          ("offset=x", "offset"), ("offset=" + "9" * 5000, "offset")])
def test_api_article_paging_values_out_of_range_are_400(big, query, field):
    app, article_id, _size = big
    response = app.test_client().get(f"/api/articles/{article_id}?{query}")
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_api_article_offset_past_the_end_is_an_empty_last_page(big):
    app, article_id, _size = big
    body = app.test_client().get(f"/api/articles/{article_id}?offset={TOTAL}").get_json()
    assert body["mentions"] == [] and body["next"] is None and body["mention_count"] == TOTAL


def test_article_page_highlights_one_range_and_links_to_the_rest(big):
    app, article_id, text_size = big
    client = app.test_client()
    response = client.get(f"/articles/{article_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("<mark id=\"m-") == ARTICLE_MENTIONS_SHOWN == 1000
    assert f"{TOTAL} mentions of 2 places" in html
    assert f"Mentions 1–1000 of {TOTAL} are highlighted." in html
    more = re.search(r'<a class="mentions-more" href="([^"]+)">(\d+) more mentions — show more</a>', html)
    assert more and int(more.group(2)) == TOTAL - 1000
    assert parse_qs(urlsplit(more.group(1).replace("&amp;", "&")).query)["offset"] == ["1000"]
    # The text (escaped) plus 1,000 marks: highlighting all 20,000 would be about 5 MB more.
    assert len(response.data) < text_size + 600 * KB
    # The last range: its marks are the last mentions, a link back, and no "more".
    last = client.get(f"/articles/{article_id}?offset={TOTAL - 1000}").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'<mark id="m-(\d+)"', last)]
    assert ids == stored_mention_ids(app, article_id)[-1000:]
    assert 'class="mentions-more"' not in last and 'class="mentions-earlier"' in last


def test_every_range_of_the_article_page_together_marks_every_mention(big):
    app, article_id, _size = big
    client, url, marked = app.test_client(), f"/articles/{article_id}", []
    while url:
        html = client.get(url).get_data(as_text=True)
        marked += [int(i) for i in re.findall(r'<mark id="m-(\d+)"', html)]
        more = re.search(r'<a class="mentions-more" href="([^"]+)"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert marked == stored_mention_ids(app, article_id)


@pytest.mark.parametrize("url", ["/embed/articles/{id}", "/api/features?article={id}", "/?article={id}"])
def test_maps_of_the_big_article_stay_small(big, url):
    app, article_id, _size = big
    response = app.test_client().get(url.format(id=article_id))
    assert response.status_code == 200
    # Two places, each with at most 10 quoted mentions: no copy of the text, no list of 20,000 mentions.
    assert len(response.data) < 150 * KB


def test_place_api_pages_the_mentions_of_a_place(big):
    app, _article_id, _size = big
    client = app.test_client()
    response = client.get(f"/api/places/{YEREVAN}")
    body = response.get_json()
    assert body["mention_count"] == REPEATS and len(body["mentions"]) == PLACE_MENTIONS_LIMIT == 500
    assert body["next"] == f"/api/places/{YEREVAN}?offset=500&limit=500"
    assert len(response.data) < 200 * KB
    assert client.get(f"/api/places/{YEREVAN}?limit=1001").get_json()["field"] == "limit"
    url, count = f"/api/places/{YEREVAN}?limit=1000", 0
    while url:
        body = client.get(url).get_json()
        count, url = count + len(body["mentions"]), body["next"]
    assert count == REPEATS


def test_place_page_shows_one_range_and_links_to_older_mentions(big):
    app, _article_id, _size = big
    client = app.test_client()
    response = client.get(f"/places/{YEREVAN}")
    html = response.get_data(as_text=True)
    assert html.count("<blockquote>") == PLACE_MENTIONS_SHOWN
    assert f"{REPEATS - PLACE_MENTIONS_SHOWN} older mentions — show more" in html
    assert len(response.data) < 400 * KB
    last = client.get(f"/places/{YEREVAN}?offset={REPEATS - 100}").get_data(as_text=True)
    assert last.count("<blockquote>") == 100 and "show more" not in last and "Show newer mentions" in last


# ---------------------------------------------------------------------------------------------- ingest
def _write(path, repeats: int) -> None:
    path.write_text("---\ntitle: Repeated\n---\n" + "Officials met in Yerevan today.\n" * repeats, encoding="utf-8")


def test_ingest_refuses_an_article_over_the_mention_limit_and_stores_nothing(data_dir, geoparser, tmp_path):
    from mapapp.articles import ingest_paths

    path = tmp_path / "repeated.txt"
    _write(path, 61)
    with opened(data_dir / DATABASE_NAME) as conn:
        with pytest.raises(InputTooLarge) as caught:
            ingest_paths(conn, geoparser, [path], progress=False, max_mentions=60)
        assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM mentions").fetchone()[0] == 0
        assert str(path) in caught.value.message and "more than the 60" in caught.value.message
        # At the limit it is stored whole.
        _write(path, 60)
        (article_id,) = ingest_paths(conn, geoparser, [path], progress=False, max_mentions=60)
        assert conn.execute("SELECT COUNT(*) FROM mentions WHERE article_id = ?", (article_id,)).fetchone()[0] == 60


def test_cli_ingest_over_the_limit_is_one_line_naming_the_file_and_keeps_the_stored_version(runner, data_dir,
                                                                                            tmp_path):
    path = tmp_path / "repeated.txt"
    _write(path, 5)
    assert runner.invoke(["ingest", str(path), "--max-mentions", "10"]).exit_code == 0
    _write(path, 11)  # the same article grows past the limit: refused, the stored version stays
    result = runner.invoke(["ingest", str(path), "--max-mentions", "10"])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [(f"error: {path}: 11 place mentions, more than the 10 an article may have "
                       "(raise the limit with --max-mentions)")]
    with opened(data_dir / DATABASE_NAME) as conn:
        assert conn.execute("SELECT COUNT(*) FROM mentions").fetchone()[0] == 5
        assert conn.execute("SELECT text FROM articles").fetchone()[0].count("Yerevan") == 5


def test_cli_ingest_limit_defaults_to_the_configured_maximum(runner):
    result = runner.invoke(["ingest", "--help"])
    assert f"default {MAX_MENTIONS_PER_ARTICLE})" in " ".join(result.output.split())


def test_sentence_context_of_a_mention_is_bounded_in_text_without_full_stops(data_dir, geoparser, tmp_path):
    from mapapp.articles import ingest_paths

    path = tmp_path / "one-line.txt"
    path.write_text("Report\n" + "the road from Yerevan goes on and on " * 800, encoding="utf-8")
    with opened(data_dir / DATABASE_NAME) as conn:
        ingest_paths(conn, geoparser, [path], progress=False)
        rows = conn.execute("SELECT start, end, sentence_start, sentence_end FROM mentions").fetchall()
    assert len(rows) == 800
    for start, end, sentence_start, sentence_end in rows:
        assert sentence_start <= start and end <= sentence_end
        assert start - sentence_start <= CONTEXT and sentence_end - end <= CONTEXT
