"""Mentions with their sentences: the one way to quote a stored mention in its context."""
from __future__ import annotations

import sqlite3


def attach_sentences(conn: sqlite3.Connection, items: list[dict]) -> None:
    """Set each mention's "sentence" (its sentence_start..sentence_end) from its article's text: maps, the API,
    place pages and the review queue all quote mentions through this.

    Each article's text is read once: SQL substr() loads the whole text for every mention it cuts, so one
    article of 5 MB named in a page of 500 mentions read 2.5 GB.
    """
    by_article: dict[int, list[dict]] = {}
    for item in items:
        by_article.setdefault(item["article_id"], []).append(item)
    ids = sorted(by_article)
    for first in range(0, len(ids), 500):  # a cursor yields one text at a time: memory stays one article's
        chunk = ids[first:first + 500]
        for article_id, text in conn.execute(
                f"SELECT id, text FROM articles WHERE id IN ({','.join('?' * len(chunk))})", chunk):
            for item in by_article[article_id]:
                item["sentence"] = text[item["sentence_start"]:item["sentence_end"]]
