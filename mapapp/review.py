"""The review queue: place mentions left unresolved or resolved with low confidence, grouped by name."""
from __future__ import annotations

import sqlite3
from collections import OrderedDict

from mapapp.config import DEFAULTS
from mapapp.db import transaction
from mapapp.errors import InvalidInput, NotFound
from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.records import bump_version, utc_now
from mapapp.gazetteer.validation import MAX_NAME, clean_text
from mapapp.mentions import attach_sentences

# Below the configured bar a reading is worth a look (see mapapp.config).
LOW_CONFIDENCE = DEFAULTS["REVIEW_SCORE_THRESHOLD"]
EXAMPLES_PER_NAME = 5


def queue(conn: sqlite3.Connection, *, threshold: float = LOW_CONFIDENCE, limit: int = 200) -> list[dict]:
    """Groups {key, name, spellings, mentions, articles, unresolved, examples} by normalised name, biggest first."""
    not_places = {row["key"] for row in conn.execute("SELECT key FROM not_places")}
    rows = conn.execute(
        'SELECT m.id, m.article_id, m.start, m."end", m.text, m.place_id, m.score, m.sentence_start,'
        " m.sentence_end, a.title FROM mentions m JOIN articles a ON a.id = m.article_id"
        " WHERE m.kind = 'place' AND (m.place_id IS NULL OR m.score < ?)"
        " ORDER BY a.published DESC NULLS LAST, m.article_id DESC, m.start", (threshold,))
    groups: OrderedDict[str, dict] = OrderedDict()
    for row in rows:
        key = normalise_name(row["text"])
        if not key or key in not_places:
            continue
        group = groups.setdefault(key, {"key": key, "name": row["text"], "spellings": set(), "mentions": 0,
                                        "articles": set(), "unresolved": 0, "examples": [],
                                        "place_ids": set()})
        group["spellings"].add(row["text"])
        group["mentions"] += 1
        group["articles"].add(row["article_id"])
        group["unresolved"] += row["place_id"] is None
        if row["place_id"]:
            group["place_ids"].add(row["place_id"])
        if len(group["examples"]) < EXAMPLES_PER_NAME:
            start = row["start"] - row["sentence_start"]
            group["examples"].append({
                "article_id": row["article_id"], "title": row["title"], "sentence": None,
                "start": start, "end": start + (row["end"] - row["start"]), "score": row["score"],
                "place_id": row["place_id"], "sentence_start": row["sentence_start"],
                "sentence_end": row["sentence_end"]})
    ordered = sorted(groups.values(), key=lambda g: (-g["mentions"], g["key"]))[:limit]
    examples = [example for group in ordered for example in group["examples"]]
    attach_sentences(conn, examples)
    for example in examples:
        del example["sentence_start"], example["sentence_end"]
    for group in ordered:
        group["spellings"] = sorted(group["spellings"])
        group["articles"] = len(group["articles"])
        group["place_ids"] = sorted(group["place_ids"])
    return ordered


def mark_not_place(conn: sqlite3.Connection, name: str, user: str) -> str:
    """Record that `name` is not a place (the recogniser skips its key); returns the key."""
    name = clean_text(name, "name", limit=MAX_NAME, required=True)
    key = normalise_name(name)
    if not key:
        raise InvalidInput("name has no letters", field="name")
    with transaction(conn):
        conn.execute('INSERT INTO not_places (key, name, "user", at) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO '
                     'UPDATE SET name = excluded.name, "user" = excluded."user", at = excluded.at',
                     (key, name, user, utc_now()))
        bump_version(conn)
    return key


def unmark_not_place(conn: sqlite3.Connection, key: str) -> str:
    """Undo mark_not_place for a key; returns the name it had."""
    with transaction(conn):
        row = conn.execute("SELECT name FROM not_places WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise NotFound(f"{key!r} is not marked as not a place", field="key")
        conn.execute("DELETE FROM not_places WHERE key = ?", (key,))
        bump_version(conn)
    return row["name"]


def not_places(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every name marked "not a place", newest first."""
    return conn.execute("SELECT * FROM not_places ORDER BY at DESC, key").fetchall()
