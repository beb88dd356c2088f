"""Editors' corrections of single mentions in an article: versioned pins that re-resolution and re-ingest keep.

A correction pins one span of one article: "this span means place P" (`place`) or "this span is not a place
here" (`not_place`). Every correction and every undo is a row of `mention_corrections` (who, when, the
mention before and after), written in the transaction that changes the mentions. The pin of a span is its
newest correction not undone; `apply_pins` lays the pins over whatever the geoparser reads, so a later
re-resolution or re-ingest keeps them (as long as the span still holds the same text).
"""
from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator

from mapapp.articles.sentences import Sentences
from mapapp.db import transaction
from mapapp.errors import InvalidInput, NotFound
from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.place import (
    admin1_name,
    country_names,
    feature_label,
    read_places,
)
from mapapp.gazetteer.records import utc_now
from mapapp.gazetteer.validation import MAX_NAME
from mapapp.maps.features import bump_articles_version
from mapapp.params import record_id, text_value, whole_number

ACTIONS = ("place", "not_place")
# A correction's span is a name: one a few words long, never a paragraph.
MAX_SPAN = MAX_NAME
PINNED_SCORE = 1.0
_WORD = re.compile(r"\w")


def _state(row) -> dict | None:
    """The part of a mention a correction changes, as stored in before/after."""
    if row is None:
        return None
    return {"kind": row["kind"], "place_id": row["place_id"], "score": row["score"]}


# A correction `c` that pins its span: the newest of that span's corrections that are not undone.
_PINNING = ("c.action IN ('place', 'not_place') AND c.undone_at IS NULL AND c.id = (SELECT max(d.id)"
            " FROM mention_corrections d WHERE d.article_id = c.article_id AND d.start = c.start"
            ' AND d."end" = c."end"' " AND d.action IN ('place', 'not_place') AND d.undone_at IS NULL)")


def pins(conn: sqlite3.Connection, article_id: int) -> list[sqlite3.Row]:
    """The article's pinned spans: per span, its newest correction that is not undone."""
    return conn.execute(f"SELECT c.* FROM mention_corrections c WHERE c.article_id = ? AND {_PINNING}"
                        " ORDER BY c.start", (article_id,)).fetchall()


def apply_pins(conn: sqlite3.Connection, article_id: int, text: str, rows: list[tuple]) -> list[tuple]:
    """Mention rows (as store._mention_rows makes them) with the article's pins laid over them.

    A `place` pin replaces the mentions its span overlaps by one mention of the pinned place (keeping the
    engine's kind and alternatives when it read that exact span); a `not_place` pin drops them. A pin whose
    span no longer holds its text (the article was edited) is skipped.
    """
    active = [pin for pin in pins(conn, article_id) if text[pin["start"]:pin["end"]] == pin["text"]]
    if not active:
        return rows
    sentences = Sentences(text)
    kept = list(rows)
    for pin in active:
        start, end = pin["start"], pin["end"]
        same = next((row for row in kept if row[0] == start and row[1] == end), None)
        kept = [row for row in kept if row[1] <= start or row[0] >= end]
        if pin["action"] == "place":
            sentence_start, sentence_end = sentences.around(start, end)
            kind = same[3] if same is not None else "place"
            alternatives = same[8] if same is not None else "[]"
            kept.append((start, end, pin["text"], kind, pin["place_id"], PINNED_SCORE, sentence_start,
                         sentence_end, alternatives))
    return sorted(kept, key=lambda row: (row[0], row[1]))


def _article(conn: sqlite3.Connection, value) -> sqlite3.Row:
    article_id = whole_number(value, "article_id", minimum=1)
    row = conn.execute("SELECT id, text FROM articles WHERE id = ?", (article_id,)).fetchone()
    if row is None:
        raise InvalidInput(f"no article with id {article_id}", field="article_id")
    return row


def _span(article: sqlite3.Row, data: dict) -> tuple[int, int, str]:
    """The (start, end, text) the client names, checked against the article's text."""
    text = article["text"]
    start = whole_number(data.get("start"), "start", maximum=len(text))
    end = whole_number(data.get("end"), "end", maximum=len(text))
    if end <= start:
        raise InvalidInput("end must be after start", field="end")
    if end - start > MAX_SPAN:
        raise InvalidInput(f"a name is at most {MAX_SPAN} characters long", field="end")
    span = text[start:end]
    given = data.get("text")
    if given is not None and given != span:
        raise InvalidInput("text does not match the article's text at start..end (reload the page)", field="text")
    if span != span.strip() or not _WORD.search(span):
        raise InvalidInput("the span must start and end with the name's letters", field="start")
    if (start > 0 and _WORD.match(text[start - 1]) and _WORD.match(text[start])) or \
            (end < len(text) and _WORD.match(text[end]) and _WORD.match(text[end - 1])):
        raise InvalidInput("the span must start and end at word boundaries", field="start")
    return start, end, span


def correct(conn: sqlite3.Connection, data: dict, user: str) -> dict:
    """Store one correction and lay it over the article's mentions (one transaction); returns its record.

    `data`: article_id, start, end, text (optional check), action (place | not_place), place_id (place).
    InvalidInput naming the field, and nothing stored, when any of it is wrong.
    """
    action = text_value(data.get("action"), "action", max_length=20)
    if action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}", field="action")
    with transaction(conn):
        article = _article(conn, data.get("article_id"))
        start, end, span = _span(article, data)
        place_id = None
        if action == "place":
            place_id = text_value(data.get("place_id"), "place_id")
            if not place_id:
                raise InvalidInput("choose the place this name means", field="place_id")
            if conn.execute("SELECT 1 FROM places WHERE id = ?", (place_id,)).fetchone() is None:
                raise InvalidInput(f"no place with id {place_id!r}", field="place_id")
        current = conn.execute("SELECT kind, place_id, score FROM mentions WHERE article_id = ? AND start = ?"
                               ' AND "end" = ?', (article["id"], start, end)).fetchone()
        if action == "not_place" and current is None:
            raise InvalidInput("no place is read at this span; nothing to mark", field="start")
        after = {"kind": current["kind"] if current else "place", "place_id": place_id,
                 "score": PINNED_SCORE} if action == "place" else None
        correction_id = conn.execute(
            'INSERT INTO mention_corrections (article_id, start, "end", text, action, place_id, "user", at, before,'
            " after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (article["id"], start, end, span, action, place_id, user, utc_now(),
             json.dumps(_state(current)), json.dumps(after))).fetchone()[0]
        _relay(conn, article["id"], article["text"])
        return record(conn, correction_id)


def undo(conn: sqlite3.Connection, correction_id, user: str) -> dict:
    """Undo a correction (recorded as its own history row); returns the undone correction's record.

    The span goes back to the correction before it, or to what the geoparser reads (the caller re-resolves).
    """
    wanted = record_id(correction_id, "correction_id", what="correction")
    with transaction(conn):
        row = conn.execute("SELECT * FROM mention_corrections WHERE id = ? AND action IN ('place', 'not_place')",
                           (wanted,)).fetchone()
        if row is None:
            raise NotFound(f"no correction with id {wanted}", field="correction_id")
        if row["undone_at"] is not None:
            raise InvalidInput(f"correction {wanted} is already undone", field="correction_id")
        now = utc_now()
        conn.execute("UPDATE mention_corrections SET undone_at = ?, undone_by = ? WHERE id = ?", (now, user, wanted))
        conn.execute(
            'INSERT INTO mention_corrections (article_id, start, "end", text, action, place_id, "user", at, before,'
            " after, undoes) VALUES (?, ?, ?, ?, 'undo', NULL, ?, ?, ?, ?, ?)",
            (row["article_id"], row["start"], row["end"], row["text"], user, now, row["after"], row["before"],
             wanted))
        text = conn.execute("SELECT text FROM articles WHERE id = ?", (row["article_id"],)).fetchone()
        if text is not None:
            _relay(conn, row["article_id"], text[0])
        return record(conn, wanted)


def _relay(conn: sqlite3.Connection, article_id: int, text: str) -> None:
    """Lay the article's pins over its stored mentions now (inside the caller's transaction)."""
    from mapapp.articles.store import (
        _replace_mentions,  # store imports this module: import at call time
    )

    columns = 'start, "end", text, kind, place_id, score, sentence_start, sentence_end, alternatives'
    rows = [tuple(row) for row in conn.execute(
        f"SELECT {columns} FROM mentions WHERE article_id = ? ORDER BY start", (article_id,))]
    new = apply_pins(conn, article_id, text, rows)
    if new != rows:
        _replace_mentions(conn, article_id, new)
        bump_articles_version(conn)


def record(conn: sqlite3.Connection, correction_id: int) -> dict:
    """One correction as JSON: span, action, place, who and when, before/after, undone."""
    row = conn.execute("SELECT * FROM mention_corrections WHERE id = ?", (correction_id,)).fetchone()
    if row is None:
        raise NotFound(f"no correction with id {correction_id}", field="correction_id")
    return _as_dict(row)


def _as_dict(row: sqlite3.Row) -> dict:
    return {"id": row["id"], "article_id": row["article_id"], "start": row["start"], "end": row["end"],
            "text": row["text"], "action": row["action"], "place_id": row["place_id"], "user": row["user"],
            "at": row["at"], "before": json.loads(row["before"]) if row["before"] else None,
            "after": json.loads(row["after"]) if row["after"] else None, "undoes": row["undoes"],
            "undone_at": row["undone_at"], "undone_by": row["undone_by"]}


# The article page lists at most this many (a page's work stays bounded whatever was stored).
HISTORY_SHOWN = 500


def history(conn: sqlite3.Connection, article_id: int, limit: int = HISTORY_SHOWN) -> list[dict]:
    """The newest `limit` corrections and undos of an article, newest first, with the chosen place's name."""
    rows = conn.execute(
        "SELECT c.*, p.name AS place_name FROM mention_corrections c LEFT JOIN places p ON p.id = c.place_id"
        " WHERE c.article_id = ? ORDER BY c.id DESC LIMIT ?", (article_id, limit)).fetchall()
    return [{**_as_dict(row), "place_name": row["place_name"]} for row in rows]


def undo_targets(conn: sqlite3.Connection, article_id: int) -> list[dict]:
    """The article's corrections that can still be undone (not undone), newest first."""
    return [entry for entry in history(conn, article_id)
            if entry["action"] in ACTIONS and entry["undone_at"] is None]


def review_items(conn: sqlite3.Connection, limit: int = 200) -> list[dict]:
    """For the review queue: names editors added that the engine missed, and spans they marked not a place."""
    rows = conn.execute(
        "SELECT c.*, a.title, p.name AS place_name FROM mention_corrections c JOIN articles a ON a.id = c.article_id"
        f" LEFT JOIN places p ON p.id = c.place_id WHERE {_PINNING}"
        # Missed: when the span was first corrected, the geoparser read no place there.
        " AND (c.action = 'not_place' OR (c.action = 'place' AND (SELECT e.before FROM mention_corrections e"
        ' WHERE e.article_id = c.article_id AND e.start = c.start AND e."end" = c."end" ORDER BY e.id LIMIT 1)'
        " = 'null')) ORDER BY c.id DESC LIMIT ?",
        (limit,)).fetchall()
    return [{**_as_dict(row), "title": row["title"], "place_name": row["place_name"],
             "key": normalise_name(row["text"]),
             "kind": "missed" if row["action"] == "place" else "not_place"} for row in rows]


def export_annotations(conn: sqlite3.Connection) -> Iterator[dict]:
    """Every corrected article as a GeoCorpora-style document: {id, text, toponyms: [{start, end, text, lat, lon}]}.

    The toponyms are all the article's resolved place mentions after the corrections (a training document
    must list every toponym), with the place's representative point.
    """
    articles = conn.execute(
        "SELECT id, key, text FROM articles WHERE id IN (SELECT article_id FROM mention_corrections) ORDER BY id")
    for article in articles:
        toponyms = [{"start": row["start"], "end": row["end"], "text": row["text"], "lat": row["lat"],
                     "lon": row["lon"]} for row in conn.execute(
            'SELECT m.start, m."end", m.text, p.lat, p.lon FROM mentions m JOIN places p ON p.id = m.place_id'
            " WHERE m.article_id = ? AND m.kind = 'place' ORDER BY m.start, " 'm."end"', (article["id"],))]
        yield {"id": f"mapapp-{article['id']}", "text": article["text"], "toponyms": toponyms}


def write_export(conn: sqlite3.Connection, handle) -> int:
    """Write export_annotations() as JSON lines to a text handle; returns the documents written."""
    count = 0
    for document in export_annotations(conn):
        handle.write(json.dumps(document, ensure_ascii=False) + "\n")
        count += 1
    return count


MAX_CANDIDATES = 12


def describe_places(conn: sqlite3.Connection, place_ids: list[str]) -> list[dict]:
    """Places in the given order, in words an editor chooses by: name, kind, country, first-level division,
    population and point (ids not in the gazetteer are left out)."""
    ids = list(dict.fromkeys(place_ids))
    if not ids:
        return []
    found = read_places(conn, ids)
    countries = country_names(conn)
    described = []
    for place_id in ids:
        place = found.get(place_id)
        if place is None:
            continue
        code = place.country_code or ""
        described.append({
            "id": place.id, "name": place.name, "kind": feature_label(place.feature),
            "country": countries.get(code, code) if code and place.feature != "country" else "",
            "admin1": admin1_name(conn, code, place.admin1) if place.feature not in ("admin1", "country") else "",
            "population": place.population, "lat": place.lat, "lon": place.lon})
    return described


def candidates(conn: sqlite3.Connection, article_value, start_value, end_value) -> dict:
    """What a span of an article could mean: its current place, the geoparser's alternatives, then the
    gazetteer's places of that name (most populous first)."""
    article = _article(conn, article_value)
    start, end, span = _span(article, {"start": start_value, "end": end_value})
    mention = conn.execute("SELECT kind, place_id, alternatives FROM mentions WHERE article_id = ? AND start = ?"
                           ' AND "end" = ?', (article["id"], start, end)).fetchone()
    ids = []
    if mention is not None:
        ids += [mention["place_id"]] if mention["place_id"] else []
        ids += [str(place_id) for place_id, _score in json.loads(mention["alternatives"] or "[]")]
    key = normalise_name(span)
    if key:
        ids += [row[0] for row in conn.execute(
            "SELECT p.id FROM place_names n JOIN places p ON p.id = n.place_id WHERE n.key = ?"
            " ORDER BY p.population DESC, p.id LIMIT ?", (key, MAX_CANDIDATES))]
    pin = next((p for p in pins(conn, article["id"]) if p["start"] == start and p["end"] == end), None)
    return {"article_id": article["id"], "start": start, "end": end, "text": span,
            "current": mention["place_id"] if mention is not None else None,
            "pinned": pin["id"] if pin is not None else None,
            "candidates": describe_places(conn, ids)[:MAX_CANDIDATES]}
