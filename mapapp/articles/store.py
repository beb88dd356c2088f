"""Stored articles and their resolved mentions: ingest, re-resolution after gazetteer edits, seeds."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from tqdm import tqdm

from mapapp.articles.documents import MAX_FILE_BYTES, Document, iter_paths, one_line, read_document
from mapapp.articles.metadata import detect_metadata
from mapapp.articles.sentences import Sentences
from mapapp.db import PROJECT_ROOT, transaction
from mapapp.errors import MalformedFile, MapappError
from mapapp.gazetteer.names import normalise_name
from mapapp.mapview import bump_articles_version

SEEDS_DIR = PROJECT_ROOT / "seeds"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _mention_rows(text: str, mentions) -> list[tuple]:
    """Rows for the mentions table (without article_id): span, kind, place, score, sentence, alternatives."""
    sentences = Sentences(text)
    rows = []
    for mention in mentions:
        sentence_start, sentence_end = sentences.around(mention.start, mention.end)
        rows.append((
            mention.start, mention.end, mention.text, mention.kind,
            mention.place.id if mention.place is not None else None, float(mention.score or 0.0),
            sentence_start, sentence_end,
            json.dumps([[str(place_id), float(score)] for place_id, score in mention.alternatives or ()]),
        ))
    return rows


def _replace_mentions(conn: sqlite3.Connection, article_id: int, rows: list[tuple]) -> None:
    conn.execute("DELETE FROM mentions WHERE article_id = ?", (article_id,))
    conn.executemany(
        "INSERT INTO mentions (article_id, start, end, text, kind, place_id, score, sentence_start, sentence_end,"
        " alternatives) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(article_id, *row) for row in rows],
    )


def save_document(conn: sqlite3.Connection, parser, document: Document) -> int:
    """Insert or update (same key) one article and replace its mentions; returns the article id."""
    detected = detect_metadata(document.text)
    title = document.title or detected["title"] or one_line(document.path.stem)
    source = document.source or detected["source"]
    published = document.published or detected["published"]
    rows = _mention_rows(document.text, parser.parse(document.text))
    content_hash = hashlib.sha256(document.text.encode("utf-8")).hexdigest()
    with transaction(conn):
        conn.execute(
            "INSERT INTO articles (key, title, source, published, url, path, text, content_hash, ingested_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET title = excluded.title, source = excluded.source,"
            " published = excluded.published, url = excluded.url, path = excluded.path, text = excluded.text,"
            " content_hash = excluded.content_hash, ingested_at = excluded.ingested_at",
            (document.key, title, source, published, document.url, str(document.path.resolve()),
             document.text, content_hash, _now()),
        )
        article_id = conn.execute("SELECT id FROM articles WHERE key = ?", (document.key,)).fetchone()[0]
        _replace_mentions(conn, article_id, rows)
        bump_articles_version(conn)
    return article_id


def ingest_paths(conn: sqlite3.Connection, parser, paths: Iterable, *, progress: bool = True,
                 on_error: Callable[[MapappError], None] | None = None, follow_symlinks: bool = False,
                 max_bytes: int = MAX_FILE_BYTES) -> list[int]:
    """Ingest files and folders (each file in its own transaction); returns the ids of the stored articles.

    A bad file raises MalformedFile, or, when `on_error` is given, is reported to it and skipped. Symbolic
    links are refused that way (see iter_paths) unless `follow_symlinks`; files over `max_bytes` too.
    """
    files, errors = iter_paths(paths, follow_symlinks=follow_symlinks)
    ids = []
    for error in errors:
        if on_error is None:
            raise error
        on_error(error)
    for path in tqdm(files, desc="Ingesting", unit="file", disable=not progress, leave=False):
        try:
            ids.append(save_document(conn, parser, read_document(path, max_bytes=max_bytes)))
        except (MapappError, OSError) as error:
            if on_error is None:
                raise
            if isinstance(error, OSError):
                error = MalformedFile(error.strerror or str(error), path=str(path))
            on_error(error)
    return ids


def _article_ids(conn: sqlite3.Connection, article_ids: Iterable[int]) -> list[int]:
    wanted = sorted({int(article_id) for article_id in article_ids})
    return [row[0] for row in conn.execute(
        f"SELECT id FROM articles WHERE id IN ({','.join('?' * len(wanted))}) ORDER BY id", wanted)] if wanted else []


def _changes(conn: sqlite3.Connection, parser, article_id: int, gazetteer) -> tuple[int, list[tuple]]:
    """(mentions that differ, new rows) for one article re-parsed now; a span counts once."""
    text = conn.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()[0]
    mentions = parser.parse(text) if gazetteer is None else parser.parse(text, gazetteer=gazetteer)
    rows = _mention_rows(text, mentions)
    old = {(r["start"], r["end"]): (r["kind"], r["place_id"]) for r in conn.execute(
        "SELECT start, end, kind, place_id FROM mentions WHERE article_id = ?", (article_id,))}
    new = {(row[0], row[1]): (row[3], row[4]) for row in rows}
    changed = sum(1 for span in old.keys() | new.keys() if old.get(span) != new.get(span))
    return changed, rows


def reresolve(conn: sqlite3.Connection, parser, article_ids: Iterable[int], *, gazetteer=None) -> int:
    """Re-parse the given articles against the current gazetteer and store the result; mentions changed."""
    total = 0
    with transaction(conn):
        for article_id in _article_ids(conn, article_ids):
            changed, rows = _changes(conn, parser, article_id, gazetteer)
            if changed:
                _replace_mentions(conn, article_id, rows)
                total += changed
        if total:
            bump_articles_version(conn)
    return total


def preview_reresolve(conn: sqlite3.Connection, parser, article_ids: Iterable[int], *,
                      gazetteer=None) -> tuple[int, int]:
    """(mentions that would change, articles that would change) if re-resolved; writes nothing."""
    mentions = articles = 0
    for article_id in _article_ids(conn, article_ids):
        changed, _rows = _changes(conn, parser, article_id, gazetteer)
        mentions += changed
        articles += bool(changed)
    return mentions, articles


def affected_articles(conn: sqlite3.Connection, *, names: Iterable[str] = (),
                      place_ids: Iterable[str] = ()) -> list[int]:
    """Articles whose text contains any of `names` (normalised, whole words) or that mention any place id."""
    ids: set[int] = set()
    place_ids = sorted(set(place_ids))
    if place_ids:
        ids.update(row[0] for row in conn.execute(
            f"SELECT DISTINCT article_id FROM mentions WHERE place_id IN ({','.join('?' * len(place_ids))})",
            place_ids))
    keys = sorted({key for key in (normalise_name(name) for name in names) if key})
    if keys:
        # Normalised keys have single spaces; the text is normalised the same way before matching.
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(key) for key in keys) + r")(?!\w)")
        for article_id, text in conn.execute("SELECT id, text FROM articles"):
            if article_id in ids:
                continue
            text = normalise_name(text)
            # Plain substring tests first (fast); the word-bounded regex only confirms.
            if any(key in text for key in keys) and pattern.search(text):
                ids.add(article_id)
    return sorted(ids)


def load_seeds(conn: sqlite3.Connection, parser, *, progress: bool = True, folder: Path = SEEDS_DIR) -> list[int]:
    """Ingest the bundled seed articles when the database holds no articles yet."""
    if conn.execute("SELECT 1 FROM articles LIMIT 1").fetchone():
        return []
    return ingest_paths(conn, parser, [folder], progress=progress)


def article_count(conn: sqlite3.Connection) -> int:
    """How many articles are stored."""
    return conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
