"""Feeds (issue 12): `mapapp feeds add|list|remove|poll`, RSS and Atom, conditional requests, on a local server."""
from __future__ import annotations

import pytest
from web_support import ARTICLES, Route, local_fetcher, news_site

from mapapp.articles.feeds import (
    add_feed,
    feed_items,
    list_feeds,
    poll_feeds,
    remove_feed,
)
from mapapp.errors import InvalidInput, NotFound


@pytest.fixture
def site():
    with news_site() as site:
        for name in ARTICLES:
            site.add_page(f"/news/{name}", name)
        site.add_page("/politics/springfield-council.html", "springfield-council.html")
        yield site


def poll(conn, geoparser, **options):
    with local_fetcher() as client:
        return poll_feeds(conn, geoparser, fetcher=client, progress=False, **options)


def test_an_rss_feed_is_polled_and_its_items_ingested(site, conn, geoparser):
    feed_id = add_feed(conn, site.add_feed("/feed.rss", "feed.rss", etag='"v1"'))
    [result] = poll(conn, geoparser)
    assert [o.status for o in result.outcomes] == ["ingested"] * 3
    assert result.status == "3 items, 3 new: 3 ingested, 0 skipped, 0 failed"
    titles = {row[0] for row in conn.execute("SELECT title FROM articles")}
    assert "Floods cut off villages across Sindh" in titles
    [feed] = list_feeds(conn)
    assert (feed["id"], feed["title"], feed["etag"], feed["ingested"]) == (feed_id, "Fixture Wire — World", '"v1"', 3)


def test_a_second_poll_asks_with_the_etag_and_fetches_nothing_on_304(site, conn, geoparser):
    add_feed(conn, site.add_feed("/feed.rss", "feed.rss", etag='"v1"'))
    poll(conn, geoparser)
    pages = sum(site.requested(f"/news/{name}") for name in ARTICLES)
    [again] = poll(conn, geoparser)
    assert again.status == "not modified since the last poll (HTTP 304)" and again.outcomes == []
    last_feed_request = [headers for path, headers, _at in site.log if path == "/feed.rss"][-1]
    assert last_feed_request["if-none-match"] == '"v1"'
    assert sum(site.requested(f"/news/{name}") for name in ARTICLES) == pages  # no page fetched again
    assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 3


def test_last_modified_is_sent_back_and_an_item_that_may_come_back_is_retried(site, conn, geoparser):
    stamp = "Tue, 05 Mar 2024 18:00:00 GMT"
    add_feed(conn, site.add_feed("/feed.atom", "feed.atom", content_type="application/atom+xml",
                                 last_modified=stamp))
    site.add("/politics/gone.html", Route(b"busy", status=503))
    [first] = poll(conn, geoparser)
    assert first.status == "2 items, 2 new: 1 ingested, 0 skipped, 1 failed"
    # A 503 may pass: the validators are not kept, so the next poll reads the feed whole and retries the item.
    [second] = poll(conn, geoparser)
    assert [(o.url.rsplit("/", 1)[-1], o.reason) for o in second.outcomes] == [("gone.html", "unavailable")]
    site.add_page("/politics/gone.html", "gaza-aid.html")
    [third] = poll(conn, geoparser)
    assert [o.status for o in third.outcomes] == ["ingested"]
    [fourth] = poll(conn, geoparser)
    headers = [h for path, h, _at in site.log if path == "/feed.atom"][-1]
    assert headers["if-modified-since"] == stamp and fourth.status.endswith("(HTTP 304)")


def test_an_item_that_is_gone_for_good_is_not_fetched_again(site, conn, geoparser):
    add_feed(conn, site.add_feed("/feed.atom", "feed.atom", content_type="application/atom+xml"))
    [first] = poll(conn, geoparser)
    assert [o.reason for o in first.outcomes] == ["new", "http"]  # gone.html: 404
    [second] = poll(conn, geoparser)
    assert second.status == "2 items, 0 new" and site.requested("/politics/gone.html") == 1


def test_an_item_already_stored_is_not_fetched_again_when_the_feed_changes(site, conn, geoparser):
    url = site.add_feed("/feed.rss", "feed.rss")  # no validators: every poll reads the whole feed
    add_feed(conn, url)
    poll(conn, geoparser)
    before = site.requested("/news/gaza-aid.html")
    [again] = poll(conn, geoparser)
    assert again.status == "3 items, 0 new" and site.requested("/news/gaza-aid.html") == before


def test_a_feed_item_that_duplicates_a_stored_article_is_skipped(site, conn, geoparser):
    site.add_page("/copy/talks.html", "syndicated-talks.html")
    feed = site.add("/dup.rss", Route((
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Dup</title>'
        f'<item><link>{site.url("/news/karabakh-talks.html")}</link></item>'
        f'<item><link>{site.url("/copy/talks.html")}</link></item></channel></rss>').encode(),
        content_type="application/rss+xml"))
    add_feed(conn, feed)
    [result] = poll(conn, geoparser)
    assert [(o.status, o.reason) for o in result.outcomes] == [("ingested", "new"), ("skipped", "duplicate-text")]


def test_failing_feeds_are_reported_and_the_others_polled(site, conn, geoparser):
    add_feed(conn, site.url("/no-such-feed.xml"))
    add_feed(conn, site.add("/page.html", Route(b"<html><body>hi</body></html>")))
    add_feed(conn, site.add("/bomb.xml", Route(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]>'
                                               b"<rss><channel><title>&a;</title></channel></rss>",
                                               content_type="application/rss+xml")))
    add_feed(conn, site.add_feed("/feed.rss", "feed.rss"))
    results = poll(conn, geoparser)
    assert [r.failed for r in results] == [True, True, True, False]
    assert results[0].status == "HTTP 404"
    assert results[1].status.startswith("not a feed (Content-Type text/html")
    assert "declares XML entities" in results[2].status
    assert len(results[3].outcomes) == 3


def test_feed_items_reads_rss_and_atom_links(site):
    site.add_feed("/feed.rss", "feed.rss")
    title, links = feed_items(site.routes["/feed.rss"].body, site.url("/feed.rss"))
    assert title == "Fixture Wire — World" and links[0] == site.url("/news/karabakh-talks.html")
    site.add_feed("/feed.atom", "feed.atom")
    title, links = feed_items(site.routes["/feed.atom"].body, site.url("/feed.atom"))
    assert links == [site.url("/politics/springfield-council.html"), site.url("/politics/gone.html")]
    with pytest.raises(InvalidInput):
        feed_items(b"just text", "http://x.example/")


def test_add_list_remove(conn):
    feed_id = add_feed(conn, "https://wire.example/rss")
    assert add_feed(conn, "https://wire.example/rss#top") == feed_id  # the same feed
    with pytest.raises(InvalidInput):
        add_feed(conn, "javascript:alert(1)")
    assert remove_feed(conn, str(feed_id)) == "https://wire.example/rss"
    with pytest.raises(NotFound):
        remove_feed(conn, "https://wire.example/rss")


# --------------------------------------------------------------------------------------------- the commands
def test_feeds_commands(site, runner):
    url = site.add_feed("/feed.rss", "feed.rss", etag='"v1"')
    result = runner.invoke(["feeds", "add", url])
    assert result.exit_code == 0 and "Following feed 1" in result.output
    assert "never polled" in runner.invoke(["feeds", "list"]).output
    result = runner.invoke(["feeds", "poll", "--delay", "0"])
    assert result.exit_code == 0, result.output
    assert "3 items, 3 new: 3 ingested" in result.output and result.output.count("ingested http") == 3
    listed = runner.invoke(["feeds", "list"]).output
    assert "Fixture Wire" in listed and "3 articles ingested" in listed
    assert "(HTTP 304)" in runner.invoke(["feeds", "poll", "--delay", "0", "1"]).output
    assert runner.invoke(["feeds", "remove", url]).exit_code == 0
    assert "No feeds followed" in runner.invoke(["feeds", "list"]).output


def test_feeds_poll_exits_1_when_every_feed_failed(site, runner):
    runner.invoke(["feeds", "add", site.url("/missing.rss")])
    result = runner.invoke(["feeds", "poll", "--delay", "0"])
    assert result.exit_code == 1 and "no feed could be polled" in result.output


def test_feeds_remove_of_an_unknown_feed_is_one_line(runner):
    result = runner.invoke(["feeds", "remove", "42"])
    assert result.exit_code == 1 and "no feed '42'" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", ["add", "list", "remove", "poll"])
def test_every_feeds_command_has_help(runner, command):
    result = runner.invoke(["feeds", command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_feeds_poll_watch_polls_again_until_interrupted(site, data_dir):
    """A real process: two polls one --interval apart (the second a 304), then Ctrl-C ends it cleanly."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "MAPAPP_DATA": str(data_dir), "PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "mapapp", "feeds"]
    subprocess.run([*command, "add", site.add_feed("/feed.rss", "feed.rss", etag='"v1"')], env=env, check=True,
                   capture_output=True)
    process = subprocess.Popen([*command, "poll", "--watch", "--interval", "1", "--delay", "0"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        feed_lines = []
        for line in process.stdout:  # waits on the process's own output
            if line.startswith("feed 1 "):
                feed_lines.append(line.strip())
            if len(feed_lines) == 2:
                break
        process.send_signal(signal.SIGINT)
        rest = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert feed_lines[0].endswith("3 items, 3 new: 3 ingested, 0 skipped, 0 failed")
    assert feed_lines[1].endswith("not modified since the last poll (HTTP 304)")
    assert process.returncode == 0 and "Stopped." in rest
