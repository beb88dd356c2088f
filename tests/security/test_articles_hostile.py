"""Hostile article files: markup never survives into stored text, links stay http(s), the API returns data not HTML."""
from __future__ import annotations

import json

import pytest

from mapapp import create_app
from mapapp.articles import ingest_paths
from mapapp.articles.documents import read_document
from mapapp.db import DATABASE_NAME, connect
from mapapp.errors import MalformedFile

HOSTILE = ["<img src=x onerror=alert(1)>", "${alert(1)}", "</script><script>alert(1)</script>", "`);alert(1);//"]


def test_html_scripts_handlers_and_comments_are_not_stored(tmp_path):
    path = tmp_path / "evil.html"
    path.write_text(
        '<html><head><script>alert("head")</script></head><body onload="alert(2)">'
        '<h1>Talks <img src=x onerror="alert(3)"> in Baku</h1><!-- <script>alert(4)</script> -->'
        '<p>Body<script type="module">alert(5)</script> text &lt;b&gt;literal&lt;/b&gt;</p>'
        '<svg><script>alert(6)</script><text>svg text</text></svg><iframe src="javascript:alert(7)">x</iframe>'
        '<a href="javascript:alert(8)">link text</a></body></html>', encoding="utf-8")
    document = read_document(path)
    assert "alert" not in document.text and "onerror" not in document.text and "svg text" not in document.text
    assert document.text == "Talks in Baku\n\nBody text <b>literal</b>\nlink text"
    assert document.title == "Talks in Baku"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
                                 "https://ok.example/a b", "//evil.example/x", "http://x/\"onmouseover=alert(1)"])
def test_front_matter_urls_must_be_http(tmp_path, url):
    path = tmp_path / "a.txt"
    path.write_text(f"---\nurl: {url}\n---\nBody in Baku.", encoding="utf-8")
    with pytest.raises(MalformedFile, match="not an http"):
        read_document(path)


def test_page_meta_with_a_javascript_url_is_ignored_not_trusted(tmp_path):
    path = tmp_path / "page.html"
    path.write_text('<meta property="og:url" content="javascript:alert(1)">'
                    '<meta property="article:published_time" content="soon"><p>Talks in Baku.</p>', encoding="utf-8")
    document = read_document(path)
    assert (document.url, document.published, document.key) == (None, None, "page.html")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_titles_are_stored_and_served_as_literal_json(data_dir, geoparser, tmp_path, hostile):
    path = tmp_path / "hostile.md"
    path.write_text(f"---\ntitle: '{hostile}'\nsource: '{hostile}'\n---\n{hostile} Talks were held in Baku.",
                    encoding="utf-8")
    conn = connect(data_dir / DATABASE_NAME)
    [article_id] = ingest_paths(conn, geoparser, [path], progress=False)
    row = conn.execute("SELECT title, source FROM articles WHERE id = ?", (article_id,)).fetchone()
    assert tuple(row) == (hostile, hostile)
    client = create_app(data_dir, {"TESTING": True, "LOAD_SEEDS": False, "SECRET_KEY": "t",
                                   "TILES_URL": ""}).test_client()
    for route in (f"/api/articles/{article_id}", "/api/articles", f"/api/features?article={article_id}"):
        response = client.get(route)
        assert response.status_code == 200
        assert response.mimetype in ("application/json", "application/geo+json")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/api/articles/{article_id}").get_json()["title"] == hostile
    assert [a["source"] for a in client.get("/api/articles").get_json()["articles"]] == [hostile]
    features = json.loads(client.get(f"/api/features?article={article_id}").data)["features"]
    assert features and all(m["title"] == hostile for f in features for m in f["properties"]["mentions"])
