"""Full-text search of the articles (SQLite FTS5 over titles and texts, kept in step by triggers: see
mapapp/migrations/0002_web_articles.sql; on PostgreSQL the tsvector column articles.search, queried with the
same expression turned into a tsquery by tsquery()).

What a reader types is turned into an FTS5 query that cannot be a syntax error for ordinary input: words
match as words (case and accents aside), a word ending in * as a prefix, "quoted words" as a phrase, and
OR / NOT / AND / NEAR and parentheses keep their FTS5 meaning. Anything else (hyphens, colons, apostrophes)
is quoted, so "Nagorno-Karabakh" is a phrase, not a column filter. What still does not parse (an unbalanced
parenthesis, a NOT with nothing before it) is an InvalidInput naming the parameter, never a database error.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from mapapp.db import dialect, transaction
from mapapp.errors import InvalidInput

MAX_QUERY = 200
SNIPPET_WORDS = 24
# Marks around the matched words in a snippet. Control characters never reach a stored text (ingest drops them,
# mapapp.escaping.strip_invisible), so they cannot be forged by an article; the page escapes the rest.
_HIT_START, _HIT_END = "\x02", "\x03"
_TOKEN = re.compile(r'"[^"]*"|\(|\)|[^\s()"]+|"')
_OPERATORS = {"AND", "OR", "NOT"}
_BAREWORD = re.compile(r"^\w+\*?$")


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fts_query(text: str, field: str = "q") -> str:
    """The FTS5 MATCH expression for what a reader typed; InvalidInput (naming `field`) when empty or too long."""
    text = (text or "").strip()
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"'{field}' is longer than {MAX_QUERY} characters", field=field)
    if "\x00" in text:
        raise InvalidInput(f"'{field}' contains a NUL character", field=field)
    parts = []
    for token in _TOKEN.findall(text):
        if token in ("(", ")") or token in _OPERATORS or re.fullmatch(r"NEAR(/\d+)?", token):
            parts.append(token)
        elif token.startswith('"') and token.endswith('"') and len(token) > 1:
            parts.append(token if token.strip('"').strip() else "")
        elif _BAREWORD.match(token) and not token.startswith("_"):
            parts.append(token)
        else:
            star = token.endswith("*") and len(token) > 1
            parts.append(_quoted(token[:-1] if star else token) + ("*" if star else ""))
    query = " ".join(part for part in parts if part)
    if not query:
        raise InvalidInput(f"'{field}' has no words to search for", field=field)
    return query


def tsquery(expression: str) -> str:
    """PostgreSQL's tsquery for an fts_query() expression: words and prefixes as lexemes, a phrase as words
    that follow each other (<->), AND/OR/NOT and parentheses as &, | and & !; NEAR as &. Case folds as the
    'simple' configuration does; a word is a run of letters and digits, as FTS5's tokenizer sees one."""
    parts, previous = [], None
    for token in _TOKEN.findall(expression):
        if token == ")" or token in ("AND", "OR") or token == "NOT" or re.fullmatch(r"NEAR(/\d+)?", token):
            operator = {"AND": "&", "OR": "|", "NOT": "& !", ")": ")"}.get(token, "&")
            parts.append(operator)
            previous = "operand" if token == ")" else "operator"
            continue
        if previous == "operand":  # two operands side by side: FTS5's implicit AND
            parts.append("&")
        if token == "(":
            parts.append("(")
            previous = "operator"
            continue
        star = token.endswith("*")
        words = [w.lower() for w in re.findall(r"\w+", token.rstrip("*"))] or ["_"]
        lexemes = ["'" + w.replace("'", "''") + "'" for w in words]
        if star:
            lexemes[-1] += ":*"
        parts.append("(" + " <-> ".join(lexemes) + ")")
        previous = "operand"
    return " ".join(parts)


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"'{field}' is not a search this understands ({message}); put words in double "
                        "quotes to search for them as written", field=field)


def check_query(conn: sqlite3.Connection, text: str, field: str = "q") -> str:
    """fts_query(text), run once: InvalidInput naming `field` when the store cannot parse it."""
    query = fts_query(text, field)
    if dialect(conn) == "postgresql":
        import psycopg

        try:
            with transaction(conn, immediate=False):  # a failed statement must not spoil an outer one
                conn.execute("SELECT to_tsquery('simple', ?)", (tsquery(query),)).fetchall()
        except psycopg.errors.SyntaxError as error:
            raise _invalid(field, str(error).splitlines()[0]) from None
        return query
    try:
        conn.execute("SELECT 1 FROM articles_fts WHERE articles_fts MATCH ? LIMIT 1", (query,)).fetchall()
    except sqlite3.OperationalError as error:
        raise _invalid(field, str(error).removeprefix("fts5: ")) from None
    return query


def matching_articles_sql(dialect_name: str = "sqlite") -> str:
    """SQL (one ? for the query_parameter) selecting the ids of the matching articles, for use in `IN (...)`."""
    if dialect_name == "postgresql":
        return "SELECT id FROM articles WHERE search @@ to_tsquery('simple', ?)"
    return "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?"


def query_parameter(expression: str, dialect_name: str = "sqlite") -> str:
    """The parameter matching_articles_sql() takes for an fts_query() expression, in the store's dialect."""
    return tsquery(expression) if dialect_name == "postgresql" else expression


@dataclass(frozen=True)
class Hit:
    """One matching article: its row fields and a snippet as (text, matched) pieces, for escaping by the page."""

    id: int
    title: str
    source: str
    published: str | None
    pieces: tuple[tuple[str, bool], ...]
    place_count: int

    def to_dict(self) -> dict:
        """The hit as JSON: the snippet as plain text plus [start, end] ranges of the matched words."""
        text, ranges = "", []
        for piece, matched in self.pieces:
            if matched:
                ranges.append([len(text), len(text) + len(piece)])
            text += piece
        return {"id": self.id, "title": self.title, "source": self.source, "published": self.published,
                "snippet": text, "matches": ranges, "place_count": self.place_count}


def snippet_pieces(snippet: str) -> tuple[tuple[str, bool], ...]:
    """A marked snippet cut into (text, matched) pieces."""
    pieces, matched = [], False
    for part in re.split(f"([{_HIT_START}{_HIT_END}])", snippet or ""):
        if part == _HIT_START:
            matched = True
        elif part == _HIT_END:
            matched = False
        elif part:
            pieces.append((part, matched))
    return tuple(pieces)


def search(conn: sqlite3.Connection, text: str, *, limit: int = 50, offset: int = 0,
           field: str = "q") -> tuple[int, list[Hit]]:
    """(how many articles match, the `limit` best from `offset`), best first (bm25, titles weigh double)."""
    query = check_query(conn, text, field)
    if dialect(conn) == "postgresql":
        rows = _search_postgresql(conn, tsquery(query), limit, offset)
        total = conn.execute("SELECT COUNT(*) FROM articles WHERE search @@ to_tsquery('simple', ?)",
                             (tsquery(query),)).fetchone()[0]
        return total, [Hit(r["id"], r["title"], r["source"], r["published"], snippet_pieces(r["snippet"]),
                           r["place_count"]) for r in rows]
    total = conn.execute("SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH ?", (query,)).fetchone()[0]
    rows = conn.execute(
        "SELECT a.id, a.title, a.source, a.published,"
        f" snippet(articles_fts, 1, ?, ?, '…', {SNIPPET_WORDS}) AS snippet,"
        " (SELECT COUNT(DISTINCT m.place_id) FROM mentions m WHERE m.article_id = a.id) AS place_count"
        " FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid"
        " WHERE articles_fts MATCH ? ORDER BY bm25(articles_fts, 2.0, 1.0), a.id LIMIT ? OFFSET ?",
        (_HIT_START, _HIT_END, query, limit, offset)).fetchall()
    return total, [Hit(r["id"], r["title"], r["source"], r["published"], snippet_pieces(r["snippet"]),
                       r["place_count"]) for r in rows]


def _search_postgresql(conn, query: str, limit: int, offset: int) -> list:
    # ts_rank with the title's weight (A) above the text's (B), as bm25 weighs titles double in SQLite;
    # ts_headline marks the matched words as FTS5's snippet() does.
    options = f"StartSel={_HIT_START}, StopSel={_HIT_END}, MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}," \
              " FragmentDelimiter=…, MaxFragments=1"
    return conn.execute(
        "SELECT a.id, a.title, a.source, a.published, ts_headline('simple', a.text, q, ?) AS snippet,"
        " (SELECT COUNT(DISTINCT m.place_id) FROM mentions m WHERE m.article_id = a.id) AS place_count"
        " FROM articles a, to_tsquery('simple', ?) AS q WHERE a.search @@ q"
        " ORDER BY ts_rank(a.search, q) DESC, a.id LIMIT ? OFFSET ?", (options, query, limit, offset)).fetchall()
