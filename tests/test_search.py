"""Full-text search of the articles (issue 12, SQLite FTS5): the index in step, the page, the `text=` map filter."""
from __future__ import annotations

import sqlite3

import pytest
from web_support import PAGES, WEB

from mapapp.articles import ingest_paths
from mapapp.articles.search import fts_query, search
from mapapp.db import DATABASE_NAME, connect
from mapapp.errors import InvalidInput


@pytest.fixture
def stored(data_dir, geoparser):
    """The four fixture news pages and the hostile one ingested; {file name: article id}."""
    conn = connect(data_dir / DATABASE_NAME)
    paths = sorted(PAGES.glob("*.html")) + [WEB / "hostile-article.html"]
    ids = ingest_paths(conn, geoparser, paths, progress=False)
    conn.close()
    return dict(zip([p.name for p in paths], ids))


def found(conn, text):
    return {hit.id for hit in search(conn, text)[1]}


def test_words_phrases_prefixes_and_accents(stored, conn):
    assert found(conn, "Almaty") == {stored["karabakh-talks.html"]}
    assert found(conn, "almaty") == found(conn, "ALMATY") == found(conn, "Álmaty")
    assert found(conn, '"peace treaty"') == {stored["karabakh-talks.html"]}
    assert found(conn, "flood*") >= {stored["sindh-floods.html"]}
    assert found(conn, "Rafah OR Springfield") == {stored["gaza-aid.html"], stored["springfield-council.html"]}
    assert found(conn, "Nagorno-Karabakh") == {stored["karabakh-talks.html"]}  # a phrase, not a syntax error
    assert found(conn, "Baku NOT Almaty") == {stored["hostile-article.html"]}


def test_boilerplate_left_out_at_ingest_is_not_found(stored, conn):
    # "Los Angeles" is only in a reader comment under the talks article; "Lisbon" only in a menu.
    assert found(conn, '"Los Angeles"') == set() and found(conn, "Lisbon") == set()


def test_the_index_follows_updates_and_deletes(stored, conn, geoparser, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("Ceasefire talks in Yerevan.\n", encoding="utf-8")
    [article_id] = ingest_paths(conn, geoparser, [note], progress=False)
    assert found(conn, "ceasefire") >= {article_id}
    note.write_text("Harvest festival in Gyumri.\n", encoding="utf-8")
    ingest_paths(conn, geoparser, [note], progress=False)  # the same file: an update
    assert article_id not in found(conn, "ceasefire") and found(conn, "harvest") == {article_id}
    conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
    assert found(conn, "harvest") == set()
    assert conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')") is not None


def test_an_older_database_gets_its_articles_indexed(stored, data_dir):
    """A database at schema version 1 (before the search index, the web columns and the feeds): opening it
    migrates it and fills the index with the articles it holds."""
    path = data_dir / DATABASE_NAME
    raw = sqlite3.connect(path)
    old_columns = "id, key, title, source, published, url, path, text, content_hash, ingested_at, near"
    raw.executescript(
        "DROP TRIGGER articles_fts_insert; DROP TRIGGER articles_fts_delete; DROP TRIGGER articles_fts_update;"
        " DROP TABLE articles_fts; DROP INDEX articles_fetched_url; DROP TABLE feed_items; DROP TABLE feeds;"
        " DROP TRIGGER article_words_delete; DROP TRIGGER article_words_text; DROP TABLE article_words;"
        " CREATE TABLE articles_old (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '',"
        " source TEXT NOT NULL DEFAULT '', published TEXT, url TEXT, path TEXT, text TEXT NOT NULL,"
        " content_hash TEXT NOT NULL, ingested_at TEXT NOT NULL, near TEXT);"
        f" INSERT INTO articles_old SELECT {old_columns} FROM articles; DROP TABLE articles;"
        " ALTER TABLE articles_old RENAME TO articles; PRAGMA user_version = 1;")
    raw.close()
    conn = connect(path)
    try:
        assert found(conn, "Almaty") == {stored["karabakh-talks.html"]}
        columns = {row[1] for row in conn.execute("PRAGMA table_info(articles)")}
        assert {"author", "fetched_url", "fingerprint"} <= columns
    finally:
        conn.close()


def test_snippets_mark_the_matched_words(stored, conn):
    total, [hit] = search(conn, "Almaty")
    assert total == 1 and ("Almaty", True) in hit.pieces
    assert hit.to_dict()["snippet"][slice(*hit.to_dict()["matches"][0])] == "Almaty"


@pytest.mark.parametrize("text", ["", "   ", "a" * 201, "\x00x"])
def test_empty_or_overlong_queries_are_refused(text):
    with pytest.raises(InvalidInput) as caught:
        fts_query(text, "q")
    assert caught.value.field == "q"


@pytest.mark.parametrize("text", ["(Almaty", "NOT", "Almaty AND", "OR OR", "NEAR(", ")"])
def test_bad_syntax_is_a_400_naming_the_parameter(stored, client, text):
    page = client.get("/search", query_string={"q": text})
    assert page.status_code == 400 and "q" in page.get_data(as_text=True)
    api = client.get("/api/features", query_string={"text": text})
    assert api.status_code == 400 and api.get_json()["field"] == "text"
    overview = client.get("/", query_string={"text": text})
    assert overview.status_code == 400


@pytest.mark.parametrize("text", ['"', "it's", "title:Almaty", "*", "^x", "a-b-c", "{x}", "'; DROP TABLE articles;--"])
def test_punctuation_is_searched_for_never_an_error(stored, client, text):
    assert client.get("/search", query_string={"q": text}).status_code == 200
    assert client.get("/api/features", query_string={"text": text}).status_code == 200


def test_the_search_page_lists_matches_with_escaped_snippets(stored, client):
    html = client.get("/search", query_string={"q": "thunderstorm"}).get_data(as_text=True)
    assert f'data-article-id="{stored["hostile-article.html"]}"' in html
    assert "<mark>thunderstorm</mark>" in html
    assert "<img src=x" not in html and "<script>alert" not in html and "</mark><script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="/?text=thunderstorm"' in html


def test_the_text_filter_shows_only_the_matching_articles_places(stored, client):
    everything = client.get("/api/features").get_json()["features"]
    matching = client.get("/api/features", query_string={"text": "Rafah"}).get_json()["features"]
    names = {f["properties"]["name"] for f in matching}
    assert {"Cairo", "Amman"} <= names and "Almaty" not in names and len(matching) < len(everything)
    articles = {m["article_id"] for f in matching for m in f["properties"]["mentions"]}
    assert articles == {stored["gaza-aid.html"]}


def test_the_overview_keeps_the_text_filter_and_says_so(stored, client):
    html = client.get("/", query_string={"text": "Rafah"}).get_data(as_text=True)
    assert '"fixedParams": {"text": "Rafah"}' in html or '"fixedParams":{"text":"Rafah"}' in html
    assert "Only the places of the articles matching\n      “Rafah”" in html and 'href="/search?q=Rafah"' in html
    hostile = client.get("/", query_string={"text": "<b>x</b>"}).get_data(as_text=True)
    assert "“&lt;b&gt;x&lt;/b&gt;”" in hostile
    assert 'id="text-filter"' not in client.get("/").get_data(as_text=True)


def test_search_is_in_the_site_navigation(client):
    assert 'href="/search"' in client.get("/search").get_data(as_text=True)


def test_the_api_search_gives_snippets_as_text_with_match_ranges(stored, client):
    body = client.get("/api/search", query_string={"q": "Almaty", "limit": 1}).get_json()
    [hit] = body["articles"]
    assert body["total"] == 1 and hit["id"] == stored["karabakh-talks.html"] and body["next"] is None
    start, end = hit["matches"][0]
    assert hit["snippet"][start:end] == "Almaty" and hit["place_count"] > 0
    assert client.get("/api/search", query_string={"q": "(x"}).get_json()["field"] == "q"
    assert client.get("/api/search").status_code == 400


def test_the_article_page_names_the_author(stored, client):
    html = client.get(f"/articles/{stored['karabakh-talks.html']}").get_data(as_text=True)
    assert '<dd class="article-author">Lilit Hakobyan</dd>' in html
