"""Articles from the web: fetch each URL, read it as an .html file is read, skip duplicates, store the rest.

A URL's outcome is one of "ingested", "skipped" (a duplicate: the same address or canonical URL as a stored
article, or the same text, word for word or nearly) or "failed" (the fetch or the page failed; `reason` names
the class). One URL's failure never stops the others.
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from tqdm import tqdm

from mapapp.articles.documents import page_document
from mapapp.articles.fetch import Fetcher, FetchError, web_url
from mapapp.articles.fingerprint import NEAR_BITS, distance, fingerprint
from mapapp.articles.near import HomeRegions
from mapapp.articles.store import (
    MAX_MENTIONS_PER_ARTICLE,
    reresolve_pending,
    save_document,
)
from mapapp.errors import InputTooLarge, MalformedFile

INGESTED, SKIPPED, FAILED = "ingested", "skipped", "failed"


@dataclass(frozen=True)
class Outcome:
    """What became of one URL: its status, a one-line message, the article (stored or duplicated)."""

    url: str
    status: str  # ingested, skipped, failed
    reason: str  # ingested: "new"; skipped: duplicate-url, duplicate-canonical, duplicate-text; failed: FetchError
    message: str
    article_id: int | None = None
    title: str = ""

    def line(self) -> str:
        """The outcome as one line for a terminal or a log: `status  url: message`."""
        return f"{self.status:<8} {self.url}: {self.message}"

    def to_dict(self) -> dict:
        """The outcome as JSON for the admin."""
        return {"url": self.url, "status": self.status, "reason": self.reason, "message": self.message,
                "article_id": self.article_id, "title": self.title}


def _stored_at(conn: sqlite3.Connection, url: str) -> sqlite3.Row | None:
    """The article stored under `url`: its key, the URL it names, or the address it was fetched from."""
    return conn.execute("SELECT id, title FROM articles WHERE key = ? OR url = ? OR fetched_url = ? ORDER BY id"
                        " LIMIT 1", (url, url, url)).fetchone()


def same_text(conn: sqlite3.Connection, text_fingerprint: int) -> tuple[int, str, int] | None:
    """(id, title, bits apart) of the stored article whose text is nearest `text_fingerprint`, if a duplicate."""
    best = None
    for row in conn.execute("SELECT id, title, fingerprint FROM articles WHERE fingerprint IS NOT NULL"):
        bits = distance(row["fingerprint"], text_fingerprint)
        if bits <= NEAR_BITS and (best is None or bits < best[2]):
            best = (row["id"], row["title"], bits)
    return best


def _name(url: str) -> str:
    """A file-like name for a page (its last path segment, else its host): the title of last resort."""
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    return (segments[-1] if segments else parts.hostname or "page")[:200]


def _canonical(url: str | None, fallback: str) -> str:
    try:
        return web_url(url) if url else fallback
    except FetchError:
        return fallback  # a canonical link that is not an http(s) URL says nothing


def ingest_url(conn: sqlite3.Connection, parser, url: str, *, fetcher: Fetcher, regions: HomeRegions | None = None,
               max_mentions: int = MAX_MENTIONS_PER_ARTICLE) -> Outcome:
    """Fetch one article page and store it unless it is a duplicate; never raises for a bad URL or page."""
    raw = url.strip()
    try:
        url = web_url(raw)
    except FetchError as error:
        return Outcome(raw[:500], FAILED, error.reason, "not an http(s) URL")
    known = _stored_at(conn, url)
    if known is not None:
        return Outcome(url, SKIPPED, "duplicate-url", f"already ingested as article {known['id']}", known["id"],
                       known["title"])
    try:
        response = fetcher.get(url)
        document = page_document(response.text(), url=response.url, name=_name(response.url))
    except FetchError as error:
        return Outcome(url, FAILED, error.reason, error.message.removeprefix(f"{error.url}: "))
    except MalformedFile:
        return Outcome(url, FAILED, "no-text", "the page holds no text to read")
    document.url = _canonical(document.url, web_url(response.url))
    if response.url != url:
        # Redirected: the address given is known too (a second ingest of it is a duplicate without a fetch).
        document.fetched_url = web_url(response.url)
    for candidate in dict.fromkeys((document.url, document.fetched_url)):
        known = _stored_at(conn, candidate)
        if known is not None:
            return Outcome(url, SKIPPED, "duplicate-canonical",
                           f"same canonical URL as article {known['id']} ({candidate})", known["id"], known["title"])
    nearest = same_text(conn, fingerprint(document.text))
    if nearest is not None:
        article_id, title, bits = nearest
        how = "the same text" if bits == 0 else f"nearly the same text ({bits} of 64 fingerprint bits differ)"
        return Outcome(url, SKIPPED, "duplicate-text", f"{how} as article {article_id}", article_id, title)
    try:
        article_id = save_document(conn, parser, document, max_mentions=max_mentions, regions=regions)
    except InputTooLarge as error:
        return Outcome(url, FAILED, "too-many-mentions", error.message.split(": ", 1)[-1])
    title = conn.execute("SELECT title FROM articles WHERE id = ?", (article_id,)).fetchone()[0]
    return Outcome(url, INGESTED, "new", f"article {article_id}, {title!r}", article_id, title)


def ingest_urls(conn: sqlite3.Connection, parser, urls: Iterable[str], *, fetcher: Fetcher,
                regions: HomeRegions | None = None, max_mentions: int = MAX_MENTIONS_PER_ARTICLE,
                progress: bool = True, on_outcome: Callable[[Outcome], None] | None = None,
                budget: float | None = None) -> list[Outcome]:
    """Ingest article URLs one after another (a progress bar counts them); one Outcome per URL, in order.

    With `budget` (seconds), a URL not started within it (the first always is) is not fetched: it fails with
    reason "budget" (the admin form answers while the editor waits).
    """
    urls = list(urls)
    started = time.monotonic()
    reresolve_pending(conn, parser)  # as ingest_paths: new articles must not join a stale gazetteer view
    outcomes = []
    for url in tqdm(urls, desc="Fetching", unit="page", disable=not progress, leave=False):
        if budget is not None and outcomes and time.monotonic() - started > budget:
            outcome = Outcome(url.strip()[:500], FAILED, "budget",
                              f"not fetched: the {budget:g} s this request may take were used up; send it again")
        else:
            outcome = ingest_url(conn, parser, url, fetcher=fetcher, regions=regions, max_mentions=max_mentions)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


def failed_completely(outcomes: list[Outcome]) -> bool:
    """The exit rule of `mapapp ingest URL...`: True when some URL failed and none was ingested."""
    return any(o.status == FAILED for o in outcomes) and not any(o.status == INGESTED for o in outcomes)
