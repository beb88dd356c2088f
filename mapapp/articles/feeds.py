"""Followed RSS and Atom feeds: add, list, remove, and poll them with conditional requests.

A poll asks each feed for what changed since its last answer (If-None-Match with the stored ETag,
If-Modified-Since with the stored Last-Modified; a 304 costs nothing more), reads the items with feedparser,
and ingests the links no earlier poll dealt with (mapapp.articles.urls). The validators are stored only after
the items are dealt with, so a poll that stops half-way is repeated in full next time. An item that failed
in a way that may pass (a timeout, a refused connection, HTTP 429 or 5xx) is retried by the next poll, which
then reads the whole feed again; one that cannot pass (404, not HTML, too large, robots.txt) is not.
"""
from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from tqdm import tqdm

from mapapp.articles.fetch import (
    FEED_TYPES,
    PASSING_REASONS,
    Fetcher,
    FetchError,
    web_url,
)
from mapapp.articles.store import reresolve_pending
from mapapp.articles.urls import FAILED, INGESTED, Outcome, ingest_url
from mapapp.db import transaction
from mapapp.errors import InvalidInput, NotFound

# Feeds never need entity declarations; refusing them keeps entity-expansion bombs and external entities away
# from the XML parser whatever its version.
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class FeedPoll:
    """What one poll of one feed did: `status` is one line; `outcomes` one per new item."""

    feed_id: int
    url: str
    status: str
    outcomes: list[Outcome] = field(default_factory=list)
    failed: bool = False


def add_feed(conn: sqlite3.Connection, url: str, title: str = "") -> int:
    """Follow the feed at `url` (http or https); its id (the same id when it is followed already)."""
    try:
        url = web_url(url)
    except FetchError:
        raise InvalidInput(f"{url[:200]!r} is not an http(s) URL", field="url") from None
    with transaction(conn):
        conn.execute("INSERT INTO feeds (url, title, added_at) VALUES (?, ?, ?) ON CONFLICT(url) DO NOTHING",
                     (url, title, _now()))
        return conn.execute("SELECT id FROM feeds WHERE url = ?", (url,)).fetchone()[0]


def list_feeds(conn: sqlite3.Connection) -> list[dict]:
    """Every followed feed with its last poll and how many of its items were ingested."""
    rows = conn.execute(
        "SELECT f.*, (SELECT COUNT(*) FROM feed_items i WHERE i.feed_id = f.id AND i.outcome = 'ingested')"
        " AS ingested FROM feeds f ORDER BY f.id").fetchall()
    return [dict(row) for row in rows]


def find_feed(conn: sqlite3.Connection, id_or_url: str) -> sqlite3.Row:
    """The feed with this id or URL; NotFound otherwise."""
    value = id_or_url.strip()
    row = conn.execute("SELECT * FROM feeds WHERE id = ?", (int(value),)).fetchone() if value.isdigit() and \
        len(value) < 19 else None
    if row is None:
        try:
            row = conn.execute("SELECT * FROM feeds WHERE url = ?", (web_url(value),)).fetchone()
        except FetchError:
            row = None
    if row is None:
        raise NotFound(f"no feed {value[:200]!r} (mapapp feeds list shows them)", field="feed")
    return row


def remove_feed(conn: sqlite3.Connection, id_or_url: str) -> str:
    """Stop following a feed (its ingested articles stay); returns its URL."""
    row = find_feed(conn, id_or_url)
    with transaction(conn):
        conn.execute("DELETE FROM feeds WHERE id = ?", (row["id"],))
    return row["url"]


def feed_items(body: bytes, url: str) -> tuple[str, list[str]]:
    """(title, item links in feed order) of an RSS or Atom document; InvalidInput when it is not a feed."""
    import feedparser  # imported here: only polling needs it

    if _ENTITY_DECLARATION.search(body):
        raise InvalidInput("the feed declares XML entities, which feeds never need; refused", field="url")
    parsed = feedparser.parse(body, response_headers={"content-location": url, "content-type": "application/xml"},
                              sanitize_html=False, resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        raise InvalidInput("not an RSS or Atom feed", field="url")
    links = []
    for entry in parsed.entries:
        link = entry.get("link") or (entry.get("id") if str(entry.get("id", "")).startswith("http") else "")
        if link:
            links.append(link)
    return " ".join(str(parsed.feed.get("title", "")).split())[:300], list(dict.fromkeys(links))


def _seen(conn: sqlite3.Connection, feed_id: int, links: list[str]) -> set[str]:
    seen = set()
    for start in range(0, len(links), 500):
        chunk = links[start:start + 500]
        seen.update(row[0] for row in conn.execute(
            f"SELECT link FROM feed_items WHERE feed_id = ? AND link IN ({','.join('?' * len(chunk))})",
            [feed_id, *chunk]))
    return seen


def _record(conn, feed_id: int, status: str, *, title: str | None = None, etag=None, last_modified=None,
            validators: bool = False) -> None:
    with transaction(conn):
        conn.execute("UPDATE feeds SET polled_at = ?, status = ?, title = COALESCE(NULLIF(?, ''), title)"
                     " WHERE id = ?", (_now(), status[:500], title or "", feed_id))
        if validators:
            conn.execute("UPDATE feeds SET etag = ?, last_modified = ? WHERE id = ?", (etag, last_modified, feed_id))


def poll_feeds(conn: sqlite3.Connection, parser, *, fetcher: Fetcher, feeds: list[str] | None = None,
               regions=None, max_mentions: int | None = None, progress: bool = True,
               on_outcome: Callable[[Outcome], None] | None = None,
               on_feed: Callable[[FeedPoll], None] | None = None) -> list[FeedPoll]:
    """Poll the given feeds (ids or URLs; default all) and ingest their new items; one FeedPoll per feed.

    Two progress bars, each with its real total: the feeds fetched, then the new items of all of them.
    """
    reresolve_pending(conn, parser)  # as ingest_paths: new articles must not join a stale gazetteer view
    rows = [find_feed(conn, value) for value in feeds] if feeds else conn.execute(
        "SELECT * FROM feeds ORDER BY id").fetchall()
    polls: list[FeedPoll] = []
    pending: list[tuple[FeedPoll, dict, list[str]]] = []
    for row in tqdm(rows, desc="Polling feeds", unit="feed", disable=not progress, leave=False):
        poll = FeedPoll(row["id"], row["url"], "")
        polls.append(poll)
        try:
            response = fetcher.get(row["url"], accept=FEED_TYPES, etag=row["etag"],
                                   last_modified=row["last_modified"])
            if response.not_modified:
                poll.status = "not modified since the last poll (HTTP 304)"
                _record(conn, row["id"], poll.status)
                continue
            title, links = feed_items(response.body, response.url)
        except (FetchError, InvalidInput) as error:
            poll.status, poll.failed = error.message.removeprefix(f"{row['url']}: "), True
            _record(conn, row["id"], poll.status)
            continue
        new = [link for link in links if link not in _seen(conn, row["id"], links)]
        validators = {"title": title, "etag": response.headers.get("etag"),
                      "last_modified": response.headers.get("last-modified")}
        poll.status = f"{len(links)} item{'s' * (len(links) != 1)}, {len(new)} new"
        pending.append((poll, validators, new))
    total = sum(len(new) for _poll, _validators, new in pending)
    limit = {} if max_mentions is None else {"max_mentions": max_mentions}
    with tqdm(total=total, desc="Ingesting items", unit="page", disable=not progress or not total,
              leave=False) as bar:
        for poll, validators, new in pending:
            for link in new:
                outcome = ingest_url(conn, parser, link, fetcher=fetcher, regions=regions, **limit)
                poll.outcomes.append(outcome)
                if outcome.reason not in PASSING_REASONS:  # a timeout or a 503 is retried by the next poll
                    with transaction(conn):
                        conn.execute("INSERT INTO feed_items (feed_id, link, outcome, article_id, seen_at)"
                                     " VALUES (?, ?, ?, ?, ?) ON CONFLICT (feed_id, link) DO UPDATE SET"
                                     " outcome = excluded.outcome, article_id = excluded.article_id,"
                                     " seen_at = excluded.seen_at",
                                     (poll.feed_id, link, outcome.status, outcome.article_id, _now()))
                if on_outcome is not None:
                    on_outcome(outcome)
                bar.update(1)
            ingested = sum(o.status == INGESTED for o in poll.outcomes)
            failed = sum(o.status == FAILED for o in poll.outcomes)
            if new:
                poll.status += f": {ingested} ingested, {len(new) - ingested - failed} skipped, {failed} failed"
            # After an item failed in a way that may pass, the feed is fetched whole next time (no validators:
            # a 304 would hide the item from its retry).
            if any(o.reason in PASSING_REASONS for o in poll.outcomes):
                validators.update(etag=None, last_modified=None)
            _record(conn, poll.feed_id, poll.status, validators=True, **validators)
    for poll in polls:
        if on_feed is not None:
            on_feed(poll)
    return polls
