"""Articles from the web (issue 12): `mapapp ingest URL...`, against a real local HTTP server.

The site (tests/web_support.py) serves the real-shaped news pages of tests/fixtures/html and the failure
cases: a missing page, JSON, a page over the size cap, a server that hangs, a refused connection, a robots.txt
disallow. Nothing reaches the internet.
"""
from __future__ import annotations

import itertools
import threading

import pytest
from conftest import free_port
from web_support import Route, local_fetcher, news_site

from mapapp.articles.fetch import USER_AGENT, FetchError
from mapapp.articles.fingerprint import NEAR_BITS, distance, fingerprint
from mapapp.articles.urls import ingest_urls


@pytest.fixture
def site():
    with news_site() as site:
        yield site


fetcher = local_fetcher


def ingest(conn, geoparser, urls, **options):
    with fetcher(**options) as client:
        return ingest_urls(conn, geoparser, urls, fetcher=client, progress=False)


def article(conn, article_id):
    return conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()


def test_article_pages_are_fetched_and_stored_with_their_metadata(site, conn, geoparser):
    urls = [site.add_page(f"/news/{name}", name) for name in ("karabakh-talks.html", "sindh-floods.html")]
    outcomes = ingest(conn, geoparser, urls)
    assert [o.status for o in outcomes] == ["ingested", "ingested"]
    talks = article(conn, outcomes[0].article_id)
    assert (talks["title"], talks["author"], talks["source"], talks["published"]) == (
        "Armenia and Azerbaijan resume border talks", "Lilit Hakobyan", "Caucasus Wire", "2024-05-14")
    assert talks["fetched_url"] == urls[0]
    assert talks["url"] == talks["key"] == "https://caucasuswire.example/2024/05/14/border-talks"  # og:url
    assert talks["path"] is None and talks["fingerprint"] == fingerprint(talks["text"])
    # The article, not the page: menus, cookie banner, related stories and comments stay out.
    assert "Delegations from Armenia and Azerbaijan met in Almaty" in talks["text"]
    for furniture in ("Sport", "cookies", "Los Angeles", "Odesa", "Leave a comment", "Copyright"):
        assert furniture not in talks["text"], furniture
    places = {row[0] for row in conn.execute("SELECT p.name FROM mentions m JOIN places p ON p.id = m.place_id"
                                             " WHERE m.article_id = ?", (talks["id"],))}
    assert {"Almaty", "Yerevan", "Goris"} <= places and "Los Angeles" not in places
    floods = article(conn, outcomes[1].article_id)
    assert (floods["author"], floods["source"]) == ("Amna Qureshi", "The Indus Courier")


def test_requests_name_mapapp_and_read_robots_txt_once_per_host(site, conn, geoparser):
    urls = [site.add_page(f"/news/{name}", name) for name in ("karabakh-talks.html", "gaza-aid.html")]
    ingest(conn, geoparser, urls)
    assert site.requested("/robots.txt") == 1
    assert {headers["user-agent"] for _path, headers, _at in site.log} == {USER_AGENT}
    assert USER_AGENT.startswith("mapapp/")


def test_a_page_robots_txt_disallows_is_reported_and_never_requested(site, conn, geoparser):
    allowed = site.add_page("/news/gaza-aid.html", "gaza-aid.html")
    private = site.add_page("/private/karabakh-talks.html", "karabakh-talks.html")
    outcomes = ingest(conn, geoparser, [private, allowed])
    assert (outcomes[0].status, outcomes[0].reason) == ("failed", "robots")
    assert "robots.txt does not allow" in outcomes[0].line()
    assert site.requested("/private/karabakh-talks.html") == 0
    assert outcomes[1].status == "ingested"


def test_a_server_error_on_robots_txt_means_nothing_may_be_fetched(site, conn, geoparser):
    site.add("/robots.txt", Route(b"oops", content_type="text/plain", status=503))
    url = site.add_page("/news/gaza-aid.html", "gaza-aid.html")
    [outcome] = ingest(conn, geoparser, [url])
    assert outcome.reason == "robots" and site.requested("/news/gaza-aid.html") == 0


def test_every_failure_is_one_line_and_the_batch_goes_on(site, conn, geoparser):
    hang = threading.Event()
    urls = {
        "http": site.url("/news/missing.html"),
        "not-html": site.add("/api/data.json", Route(b'{"a": 1}', content_type="application/json")),
        "too-large": site.add("/news/huge.html", Route(b"<html><body>" + b"<p>Baku</p>" * 20_000 + b"</body></html>")),
        "timeout": site.add("/news/hangs.html", Route(b"<html></html>", wait=hang)),
        "connection": f"http://127.0.0.1:{free_port()}/news/refused.html",
        "url": "ftp://example.org/article.html",
    }
    good = site.add_page("/news/gaza-aid.html", "gaza-aid.html")
    outcomes = ingest(conn, geoparser, [*urls.values(), good], timeout=0.5, max_bytes=100 * 1024)
    hang.set()
    by_url = {o.url.rstrip("/"): o for o in outcomes}
    for reason, url in urls.items():
        outcome = by_url[url.rstrip("/")]
        assert (outcome.status, outcome.reason) == ("failed", reason), outcome
        assert "\n" not in outcome.line() and outcome.line().startswith("failed")
    assert "HTTP 404" in by_url[urls["http"]].message
    assert "application/json" in by_url[urls["not-html"]].message
    assert "100 kB limit" in by_url[urls["too-large"]].message
    assert "timed out" in by_url[urls["timeout"]].message
    assert outcomes[-1].status == "ingested"
    assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1


def test_a_declared_length_over_the_cap_is_refused_before_reading(site):
    site.add("/big.html", Route(b"<html>" + b" " * 5000 + b"</html>"))
    with fetcher(max_bytes=1000) as client, pytest.raises(FetchError) as caught:
        client.get(site.url("/big.html"))
    assert caught.value.reason == "too-large" and "5,013 bytes" in caught.value.message


def test_the_same_url_twice_is_skipped_without_a_second_fetch(site, conn, geoparser):
    url = site.add_page("/news/gaza-aid.html", "gaza-aid.html")
    first, second = ingest(conn, geoparser, [url, url])
    assert (first.status, second.status, second.reason) == ("ingested", "skipped", "duplicate-url")
    assert second.article_id == first.article_id and site.requested("/news/gaza-aid.html") == 1


def test_the_same_canonical_url_at_another_address_is_a_duplicate(site, conn, geoparser):
    first = site.add_page("/news/gaza-aid.html", "gaza-aid.html")
    # The same story under a tracking address, with its furniture changed: the canonical link is what counts.
    second = site.add_page("/amp/gaza-aid.html?utm_source=feed", "gaza-aid.html", replace=("Trending now", "Hot"))
    outcomes = ingest(conn, geoparser, [first, second])
    assert [(o.status, o.reason) for o in outcomes] == [("ingested", "new"), ("skipped", "duplicate-canonical")]
    assert "same canonical URL as article" in outcomes[1].message
    assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1


def test_a_syndicated_copy_is_recognised_by_its_text(site, conn, geoparser):
    original = site.add_page("/news/karabakh-talks.html", "karabakh-talks.html")
    copy = site.add_page("/world/armenia-azerbaijan-border-talks", "syndicated-talks.html")
    outcomes = ingest(conn, geoparser, [original, copy])
    assert [o.status for o in outcomes] == ["ingested", "skipped"]
    assert outcomes[1].reason == "duplicate-text" and outcomes[1].article_id == outcomes[0].article_id
    assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1


def test_a_changed_sentence_is_still_the_same_story_but_another_story_is_not():
    from web_support import PAGES

    from mapapp.articles.documents import read_document

    talks = read_document(PAGES / "karabakh-talks.html").text
    edited = talks.replace("protested on Monday", "protested on Sunday")
    assert 0 < distance(fingerprint(talks), fingerprint(edited)) <= NEAR_BITS
    for other in ("sindh-floods.html", "gaza-aid.html", "springfield-council.html"):
        assert distance(fingerprint(talks), fingerprint(read_document(PAGES / other).text)) > 10


def test_a_redirect_is_followed_and_both_addresses_are_known(site, conn, geoparser):
    target = site.add_page("/news/sindh-floods.html", "sindh-floods.html")
    short = site.add("/s/1", Route(b"", status=301, headers={"Location": "/news/sindh-floods.html"}))
    first, again = ingest(conn, geoparser, [short, target])
    assert first.status == "ingested" and article(conn, first.article_id)["fetched_url"] == target
    assert (again.status, again.reason) == ("skipped", "duplicate-url")


def test_requests_to_one_host_wait_for_the_delay(site):
    """Politeness: the server sees the second page no sooner than `delay` after the first."""
    for name in ("a", "b", "c"):
        site.add(f"/{name}.html", Route(b"<!doctype html><html><body><p>Baku</p></body></html>"))
    with fetcher(delay=0.3) as client:
        for name in ("a", "b", "c"):
            client.get(site.url(f"/{name}.html"))
    arrivals = [at for _path, _headers, at in site.log]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(arrivals) == 4 and min(gaps) >= 0.25, gaps  # robots.txt, then the three pages


# --------------------------------------------------------------------------------------------- the command
def test_ingest_command_mixes_files_and_urls_one_line_each(site, runner, data_dir, tmp_path):
    good = site.add_page("/news/gaza-aid.html", "gaza-aid.html")
    missing = site.url("/news/gone.html")
    note = tmp_path / "note.txt"
    note.write_text("Talks in Yerevan.\n", encoding="utf-8")
    result = runner.invoke(["ingest", "--delay", "0", str(note), good, missing, good])
    assert result.exit_code == 0, result.output
    # The progress bar shares the terminal: its redraws end in carriage returns.
    lines = [part.strip() for line in result.output.splitlines() for part in line.split("\r")]
    assert any(line.startswith("ingested") and good in line for line in lines)
    assert any(line.startswith("failed") and missing in line and "HTTP 404" in line for line in lines)
    assert any(line.startswith("skipped") and "already ingested" in line for line in lines)
    assert "Ingested 2 articles" in result.output and "1 URL skipped as duplicates, 1 failed" in result.output


def test_ingest_command_exits_1_only_when_no_url_could_be_ingested(site, runner):
    missing = site.url("/news/gone.html")
    result = runner.invoke(["ingest", "--delay", "0", missing])
    assert result.exit_code == 1 and "no URL could be ingested" in result.output
    good = site.add_page("/news/gaza-aid.html", "gaza-aid.html")
    assert runner.invoke(["ingest", "--delay", "0", good]).exit_code == 0
    # Nothing new, but nothing failed: duplicates are not errors.
    assert runner.invoke(["ingest", "--delay", "0", good]).exit_code == 0


def test_ingest_help_names_urls():
    from click.testing import CliRunner

    from mapapp.cli import main

    result = CliRunner().invoke(main, ["ingest", "--help"])
    assert result.exit_code == 0 and "PATH_OR_URL" in result.output and "--timeout" in result.output
