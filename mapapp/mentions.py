"""Reading stored mentions: an article's in text order, a place's newest first, each quoted in its sentence."""
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


def article_mentions(conn: sqlite3.Connection, article_id: int, *, resolved_only: bool, offset: int = 0,
                     limit: int | None = None) -> list[sqlite3.Row]:
    """A range of one article's mentions in text order, with their place's name and feature (`resolved_only`:
    just those resolved to a place); paged in the order of the index mentions_article_start."""
    join = "JOIN" if resolved_only else "LEFT JOIN"
    # "All" as the largest LIMIT both stores take: SQLite reads LIMIT -1 as no bound, PostgreSQL refuses it.
    return conn.execute(
        "SELECT m.*, p.name AS place_name, p.feature AS place_feature"
        f" FROM mentions m {join} places p ON p.id = m.place_id WHERE m.article_id = ?"
        " ORDER BY m.start, m.place_id, m.id LIMIT ? OFFSET ?",
        (article_id, 2**63 - 1 if limit is None else limit, offset)).fetchall()


def place_mentions(conn: sqlite3.Connection, place_id: str, *, offset: int, limit: int) -> list[dict]:
    """A page of the mentions of one place, newest articles first, each with its article and its sentence."""
    rows = [dict(row) for row in conn.execute(
        'SELECT m.id, m.article_id, m.start, m."end", m.text, m.kind, m.sentence_start, m.sentence_end,'
        " a.title, a.source, a.published, a.url FROM mentions m JOIN articles a ON a.id = m.article_id"
        " WHERE m.place_id = ? ORDER BY a.published IS NULL, a.published DESC, a.id DESC, m.start, m.id"
        " LIMIT ? OFFSET ?", (place_id, limit, offset))]
    attach_sentences(conn, rows)
    return rows
