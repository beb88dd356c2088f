"""The article in a news page: main text and metadata from HTML, with trafilatura, never over the network."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import trafilatura
from trafilatura.settings import use_config

from mapapp.articles.documents import check_date, check_url, html_document
from mapapp.errors import MalformedFile

# trafilatura reports pages it cannot use as warnings and errors; such a page is read by the plain reader
# instead, so the messages would only be noise on the command line.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

# Dates come only from the page's markup (meta tags, JSON-LD, <time>, the URL), not from guessing in the text
# ("Copyright 2023"), and the latest acceptable date is fixed so the answer never depends on today's clock.
_DATE_PARAMS = {"extensive_search": False, "original_date": True, "max_date": "2099-12-31"}
# lxml parses <template> content as ordinary children; a browser never shows it.
_PRUNE = ["//template"]


@dataclass(frozen=True)
class Extracted:
    """What a news page says it is: its text and metadata ("" where it says nothing usable).

    `published` is an ISO date YYYY-MM-DD and `url` an http(s) URL: the page's own claims are checked, and
    one that does not parse (a javascript: link, "soon") is dropped rather than trusted.
    """

    text: str
    title: str = ""
    author: str = ""
    publisher: str = ""
    published: str = ""
    url: str = ""


@lru_cache(maxsize=1)
def _config():
    """trafilatura's settings, with the signal-based extraction timeout off: ingest runs in server threads."""
    config = use_config()
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return config


def _main_text(found) -> str:
    """trafilatura's text, one paragraph per line, as paragraphs separated by blank lines like the other readers."""
    return "\n\n".join(line.strip() for line in (found.text or "").split("\n") if line.strip())


def _checked(check, value: str) -> str:
    try:
        return check(value) if value else ""
    except MalformedFile:
        return ""


def extract_article(html: str, url: str | None = None) -> Extracted:
    """The article in `html`: main text without menus, footers, comments, related links or cookie banners.

    Metadata comes from the page (og: tags, JSON-LD NewsArticle, <meta>, <link rel=canonical>, <time>);
    `url` (where the page came from, if known) stands in for a page that names no URL of its own. Nothing is
    fetched. When the page holds too little text for trafilatura to tell the article from the rest (under its
    MIN_EXTRACTED_SIZE), the whole visible text is kept instead, as the plain reader sees it.
    """
    config = _config()
    found = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=True, deduplicate=False,
        date_extraction_params=dict(_DATE_PARAMS), prune_xpath=_PRUNE, config=config)
    text = _main_text(found) if found is not None else ""
    if len(text) < config.getint("DEFAULT", "MIN_EXTRACTED_SIZE"):
        text = ""
    plain_text, plain = html_document(html)
    title = (found and found.title or "").strip() or plain.get("title", "")
    if not text:
        text = plain_text
    elif title and not text.startswith(title):
        # The headline names places too, and the other readers keep it as the first line.
        text = f"{title}\n\n{text}"
    return Extracted(
        text=text, title=title, author=(found and found.author or "").strip(),
        publisher=(found and found.sitename or "").strip() or plain.get("source", ""),
        published=_checked(check_date, (found and found.date or "").strip() or plain.get("published", "")),
        url=_checked(check_url, (found and found.url or "").strip() or plain.get("url", "") or (url or "")),
    )
