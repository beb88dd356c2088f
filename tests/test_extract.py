"""Issue 10, fault 8: HTML ingest keeps the article, not the page around it (mapapp.articles.extract).

The fixture pages in tests/fixtures/html are shaped like real news pages: section menus, a cookie banner,
breadcrumbs, share buttons, related and popular stories, reader comments, a newsletter box and a footer
with a copyright line, around the article and its og:/JSON-LD metadata.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from mapapp.articles import ingest_paths
from mapapp.articles.documents import read_document
from mapapp.articles.extract import Extracted, extract_article
from mapapp.db import DATABASE_NAME, connect

PAGES = Path(__file__).resolve().parent / "fixtures" / "html"

# Boilerplate every page has in some form: none of it may reach the article text.
BOILERPLATE = ["Home", "Sport", "cookies", "Copyright", "All rights reserved", "Privacy", "comment", "Subscribe"]

# Per page: metadata as the page declares it, sentences of the article, and the page furniture around it
# (each furniture string names a place, so a leak would also put a wrong place on the map).
EXPECTED = {
    "sindh-floods.html": {
        "meta": ("Floods cut off villages across Sindh", "Amna Qureshi", "The Indus Courier", "2024-08-21",
                 "https://induscourier.example/news/2024/08/sindh-floods-villages"),
        "body": ["Rescue teams reached dozens of villages near Hyderabad on Wednesday",
                 "boats had been sent from Karachi and Sukkur",
                 "The federal government in Islamabad promised emergency funds for the province."],
        "furniture": ["Lahore", "Lisbon", "Toronto", "Madrid", "Melbourne", "Dubai", "Rome", "Nairobi",
                      "Glasgow", "Related articles", "Share this article", "Photo: Courier staff"],
        "places": {"Hyderabad", "Karachi", "Sindh", "Islamabad"},
    },
    "springfield-council.html": {
        "meta": ("Springfield council approves downtown rail plan", "Daniel Ortiz", "Prairie State Ledger",
                 "2024-03-05", "https://prairieledger.example/politics/springfield-rail-plan/"),
        "body": ["The city council voted 7-3 on Tuesday to move freight trains off the Third Street",
                 "passenger service from Chicago and St. Louis closer to downtown",
                 "hold a public hearing on the final route in April at the Lincoln Library."],
        "furniture": ["Peoria", "Denver", "Atlanta", "Seattle", "Houston", "Phoenix", "Omaha", "Read more",
                      "Most popular", "E-edition", "Advertisement", "Tags:"],
        "places": {"Springfield", "Chicago"},
    },
    "karabakh-talks.html": {
        "meta": ("Armenia and Azerbaijan resume border talks", "Lilit Hakobyan", "Caucasus Wire", "2024-05-14",
                 "https://caucasuswire.example/2024/05/14/border-talks"),
        "body": ["Delegations from Armenia and Azerbaijan met in Almaty on Tuesday",
                 "We are closer to a peace treaty than at any time in thirty years",
                 "The next round is expected in Goris, on the old road to Stepanakert"],
        "furniture": ["Tbilisi", "Ankara", "Odesa", "Los Angeles", "More from Caucasus Wire", "Culture",
                      "Reproduction without permission"],
        "places": {"Almaty", "Yerevan", "Baku", "Stepanakert"},
    },
    "gaza-aid.html": {
        "meta": ("Aid trucks cross into Gaza at Rafah", "Omar Haddad", "Levant Dispatch", "2024-02-09",
                 "https://levantdispatch.example/world/gaza-aid-rafah"),
        "body": ["Dozens of trucks carrying flour, medicine and fuel crossed into Gaza through the Rafah",
                 "supplies flown in through Cairo",
                 "Officials in Amman and Doha continued talks on a ceasefire"],
        "furniture": ["Beirut", "Oslo", "Berlin", "Dublin", "Trending now", "Opinion", "Video"],
        "places": {"Gaza", "Rafah", "Cairo", "Amman"},
    },
}


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def test_every_fixture_page_is_checked():
    assert sorted(EXPECTED) == sorted(path.name for path in PAGES.glob("*.html"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ingested_text_is_the_article_without_the_page_around_it(name):
    text = read_document(PAGES / name).text
    expected = EXPECTED[name]
    for sentence in expected["body"]:
        assert sentence in text, sentence
    for furniture in BOILERPLATE + expected["furniture"]:
        assert furniture not in text, furniture
    # The headline comes first, as in the other readers, and paragraphs stay paragraphs.
    assert text.startswith(expected["meta"][0] + "\n\n")
    assert text.count("\n\n") >= 4


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_metadata_comes_from_the_page_markup(name):
    document = read_document(PAGES / name)
    assert (document.title, document.author, document.source, document.published, document.url) == \
        EXPECTED[name]["meta"]
    assert document.key == document.url  # re-ingesting the page updates it, whatever the file is called


def test_each_kind_of_markup_feeds_the_metadata():
    """JSON-LD alone gives the publisher (no og:site_name), <time> alone the date, og:url alone the URL."""
    gaza = extract_article(page("gaza-aid.html"))  # JSON-LD publisher without a date, <time>, <link canonical>
    assert (gaza.publisher, gaza.published, gaza.url) == (
        "Levant Dispatch", "2024-02-09", "https://levantdispatch.example/world/gaza-aid-rafah")
    talks = extract_article(page("karabakh-talks.html"))  # JSON-LD @graph, og:url, no <link canonical>
    assert (talks.publisher, talks.author, talks.url) == (
        "Caucasus Wire", "Lilit Hakobyan", "https://caucasuswire.example/2024/05/14/border-talks")


def test_published_time_wins_over_the_modified_time():
    floods = page("sindh-floods.html")  # modified on the 22nd, published on the 21st
    assert extract_article(floods).published == "2024-08-21"
    only_meta = floods.replace('"datePublished": "2024-08-21T06:15:00+05:00", ', "").replace(
        '<time datetime="2024-08-21T06:15:00+05:00">21 August 2024</time>', "")
    assert extract_article(only_meta).published == "2024-08-21"


def test_the_given_url_stands_in_only_when_the_page_names_none():
    given = "https://mirror.example/saved-copy"
    assert extract_article(page("gaza-aid.html"), given).url == "https://levantdispatch.example/world/gaza-aid-rafah"
    anonymous = page("gaza-aid.html").replace(
        '<link rel="canonical" href="https://levantdispatch.example/world/gaza-aid-rafah">', "")
    assert extract_article(anonymous, given).url == given
    assert extract_article(anonymous).url == ""


def test_front_matter_still_wins_over_the_page(tmp_path):
    path = tmp_path / "saved.html"
    path.write_text("---\ntitle: Edited headline\nsource: Wire\nauthor: Desk\ndate: 2024-01-02\n"
                    "url: https://wire.example/1\n---\n" + page("sindh-floods.html"), encoding="utf-8")
    document = read_document(path)
    assert (document.title, document.author, document.source, document.published, document.url) == (
        "Edited headline", "Desk", "Wire", "2024-01-02", "https://wire.example/1")
    assert "Rescue teams reached dozens of villages" in document.text and "Copyright" not in document.text


def test_a_tiny_page_keeps_its_whole_visible_text():
    """Too little text to tell the article from the page: the plain reader's text, not nothing."""
    tiny = "<html><head><title>Brief</title></head><body><nav>Home</nav><p>Rain in Baku.</p></body></html>"
    assert extract_article(tiny) == Extracted(text="Home\n\nRain in Baku.", title="Brief")


def test_claims_that_do_not_parse_are_dropped():
    html = page("gaza-aid.html").replace("https://levantdispatch.example/world/gaza-aid-rafah", "javascript:alert(1)")
    html = html.replace('datetime="2024-02-09T11:20:00+02:00"', 'datetime="soon"').replace("Friday 9 February 2024", "")
    found = extract_article(html)
    assert (found.url, found.published) == ("", "")
    tiny = '<meta property="article:published_time" content="2024-04-17T09:30:00+04:00"><p>Rain in Baku.</p>'
    assert extract_article(tiny).published == "2024-04-17"


def test_template_content_is_not_text():
    body = page("gaza-aid.html").replace("<h1>", "<template><p>Hidden template text about Oslo.</p></template><h1>")
    assert "Hidden template" not in extract_article(body).text


class _Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self):
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(page("sindh-floods.html").encode("utf-8"))

    def log_message(self, *args):
        pass


def test_extraction_never_fetches_anything(tmp_path):
    """Not the given URL, not the canonical or og:url, not a page whose whole content is a URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        pointing = page("gaza-aid.html").replace("https://levantdispatch.example", base)
        assert extract_article(pointing, f"{base}/given").url == f"{base}/world/gaza-aid-rafah"
        for html in (f"{base}/page", f"<html><body><a href='{base}/x'>x</a></body></html>"):
            extract_article(html, f"{base}/given")
        (tmp_path / "url.html").write_text(f"{base}/file", encoding="utf-8")
        assert read_document(tmp_path / "url.html").text == f"{base}/file"
    finally:
        server.shutdown()
        server.server_close()
    assert _Recorder.requests == []


def test_extraction_in_threads_gives_the_same_record_as_in_the_main_thread():
    """The web server ingests in worker threads: no signal-based timeout (signals only work in the main thread)."""
    names = sorted(EXPECTED) * 3
    alone = [extract_article(page(name)) for name in names]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda name: extract_article(page(name)), names))
    assert threaded == alone


def test_ingest_maps_the_article_places_and_none_from_the_furniture(data_dir, geoparser):
    conn = connect(data_dir / DATABASE_NAME)
    ids = ingest_paths(conn, geoparser, sorted(PAGES.glob("*.html")), progress=False)
    assert len(ids) == len(EXPECTED)
    for name, expected in EXPECTED.items():
        article = conn.execute("SELECT id, text, source, published, url FROM articles WHERE url = ?",
                               (expected["meta"][4],)).fetchone()
        assert (article["source"], article["published"]) == expected["meta"][2:4], name
        named = {row["text"] for row in conn.execute(
            "SELECT text FROM mentions WHERE article_id = ? AND place_id IS NOT NULL", (article["id"],))}
        assert expected["places"] <= named, (name, named)
        assert not named & set(expected["furniture"]), (name, named)
    conn.close()
