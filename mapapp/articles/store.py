"""Stored articles and their resolved mentions: ingest, re-resolution after gazetteer edits, seeds."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from mapapp import bundled
from mapapp.articles.corrections import apply_pins
from mapapp.articles.documents import MAX_FILE_BYTES, Document, iter_paths, one_line, read_document
from mapapp.articles.fingerprint import fingerprint
from mapapp.articles.metadata import detect_metadata
from mapapp.articles.near import HomeRegions
from mapapp.articles.sentences import Sentences
from mapapp.db import dialect, transaction
from mapapp.errors import InputTooLarge, MalformedFile, MapappError, NotFound
from mapapp.gazetteer.names import normalise_name
from mapapp.maps.features import bump_articles_version

SEEDS_DIR = bundled.folder("seeds")
# Real news names tens of places, a long report a few hundred; a file past this is refused whole (nothing
# stored): one 5 MB file repeating a sentence gave 272,357 mentions and pages of 50-70 MB.
MAX_MENTIONS_PER_ARTICLE = 5000


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
        'INSERT INTO mentions (article_id, start, "end", text, kind, place_id, score, sentence_start, sentence_end,'
        " alternatives) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(article_id, *row) for row in rows],
    )


@dataclass
class PreparedArticle:
    """One article read and geoparsed, ready to store: what `write_articles` needs, and nothing of a connection.

    Plain data, so that a Dask worker can make it and the one writing process store it (mapapp.articles.batch).
    """

    key: str
    title: str
    source: str
    published: str | None
    url: str | None
    path: str | None  # None for a fetched page (its address is fetched_url)
    text: str
    content_hash: str
    near_id: str | None
    rows: list[tuple]
    author: str = ""
    fetched_url: str | None = None
    fingerprint: int | None = None  # simhash of the text (mapapp.articles.fingerprint), for near-duplicates
    words: str | None = None  # the text's words for article_words, computed where it is parsed (a worker)


def prepare_document(parser, document: Document, *, max_mentions: int = MAX_MENTIONS_PER_ARTICLE,
                     regions: HomeRegions | None = None) -> PreparedArticle:
    """Detect the metadata of `document`, choose its home region and geoparse it; writes nothing.

    InputTooLarge (naming the file and the limit) when it has more than `max_mentions` place mentions.
    """
    detected = detect_metadata(document.text)
    title = document.title or detected["title"] or one_line(document.path.stem)
    source = document.source or detected["source"]
    published = document.published or detected["published"]
    near = (regions or HomeRegions(parser.gazetteer)).for_document(document, source=source)
    mentions = parser.parse(document.text, near=near)
    if len(mentions) > max_mentions:
        raise InputTooLarge(f"{document.path}: {len(mentions)} place mentions, more than the {max_mentions} an "
                            "article may have (raise the limit with --max-mentions)", field="max_mentions")
    return PreparedArticle(
        key=document.key, title=title, source=source, published=published, url=document.url,
        # A fetched page has no file: its address is fetched_url.
        path=None if document.fetched_url else str(document.path.resolve()), text=document.text,
        content_hash=hashlib.sha256(document.text.encode("utf-8")).hexdigest(),
        near_id=near.id if near is not None else None, rows=_mention_rows(document.text, mentions),
        author=document.author, fetched_url=document.fetched_url, fingerprint=fingerprint(document.text),
        # Everything derived from the text is computed here, so that workers do it, not the one writer.
        words=_words(document.text))


def write_articles(conn: sqlite3.Connection, articles: list[PreparedArticle]) -> list[int]:
    """Insert or update (same key) each article and replace its mentions, all in one transaction; their ids.

    A re-ingest is an update, never a second copy, so writing the same articles again adds nothing.
    """
    ids = []
    with transaction(conn):
        for article in articles:
            article_id = conn.execute(
                "INSERT INTO articles (key, title, source, published, url, path, text, content_hash, ingested_at,"
                " near, author, fetched_url, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET title = excluded.title, source = excluded.source,"
                " published = excluded.published, url = excluded.url, path = excluded.path, text = excluded.text,"
                " content_hash = excluded.content_hash, ingested_at = excluded.ingested_at, near = excluded.near,"
                " author = excluded.author, fetched_url = excluded.fetched_url, fingerprint = excluded.fingerprint"
                " RETURNING id",
                (article.key, article.title, article.source, article.published, article.url, article.path,
                 article.text, article.content_hash, _now(), article.near_id, article.author, article.fetched_url,
                 article.fingerprint),
            ).fetchone()[0]
            _index_words(conn, article_id, article.text, article.words)
            # An editor's corrections of a re-ingested article stay where its text still matches them.
            _replace_mentions(conn, article_id, apply_pins(conn, article_id, article.text, article.rows))
            ids.append(article_id)
        if articles:
            bump_articles_version(conn)
    return ids


def save_document(conn: sqlite3.Connection, parser, document: Document, *,
                  max_mentions: int = MAX_MENTIONS_PER_ARTICLE, regions: HomeRegions | None = None) -> int:
    """Insert or update (same key) one article and replace its mentions; returns the article id.

    InputTooLarge (naming the file and the limit, nothing stored) when it has more than `max_mentions`.
    The article's home region (`regions`, default: its front matter only) is stored with it, so that
    re-resolutions after gazetteer edits keep it.
    """
    prepared = prepare_document(parser, document, max_mentions=max_mentions, regions=regions)
    return write_articles(conn, [prepared])[0]


def _read_and_parse(parser, regions, path: Path, max_bytes: int, max_mentions: int) -> tuple:
    """(PreparedArticle, None) or (None, error) for one file; what an ingest worker sends back."""
    try:
        document = read_document(path, max_bytes=max_bytes)
        return prepare_document(parser, document, max_mentions=max_mentions, regions=regions), None
    except MapappError as error:
        return None, error
    except OSError as error:
        return None, MalformedFile(error.strerror or str(error), path=str(path))


def _parsed_files(parser, files: list, regions: HomeRegions | None, jobs: int, max_bytes: int, max_mentions: int):
    """_read_and_parse of each file, in order: here, or in `jobs` worker processes (the writer stays here)."""
    tasks = [(path, max_bytes, max_mentions) for path in files]
    if jobs <= 1 or len(files) <= 1:
        regions = regions or HomeRegions(parser.gazetteer)
        yield from (_read_and_parse(parser, regions, *task) for task in tasks)
        return
    from mapapp.geoparse import workers

    # The workers resolve the same home regions from their ids (already checked here).
    near = regions.default.id if regions is not None and regions.default is not None else None
    sources = {source: place.id for source, place in regions.sources.items()} if regions is not None else {}
    with workers.parse_pool(parser.gazetteer.path, jobs=min(jobs, len(files)), ner=parser.ner, near=near,
                            sources=sources) as pool:
        yield from workers.run(pool, _read_and_parse, tasks, jobs)


def ingest_paths(conn: sqlite3.Connection, parser, paths: Iterable, *, progress: bool = True,
                 on_error: Callable[[MapappError], None] | None = None, follow_symlinks: bool = False,
                 max_bytes: int = MAX_FILE_BYTES, max_mentions: int = MAX_MENTIONS_PER_ARTICLE,
                 regions: HomeRegions | None = None, jobs: int = 1) -> list[int]:
    """Ingest files and folders (each file in its own transaction); returns the ids of the stored articles.

    `regions` gives each article its home region (see mapapp.articles.near; default: front matter only).
    With `jobs` > 1 the files are read and parsed in that many worker processes, and stored here, in order.

    A bad file (or one with more than `max_mentions` mentions) raises MalformedFile / InputTooLarge, or, when
    `on_error` is given, is reported to it and skipped. Symbolic links are refused that way (see iter_paths)
    unless `follow_symlinks`; files over `max_bytes` too.
    """
    # A re-resolution left over by a crash is finished first: new articles must not join a stale gazetteer view.
    reresolve_pending(conn, parser)
    files, errors = iter_paths(paths, follow_symlinks=follow_symlinks)
    ids = []
    for error in errors:
        if on_error is None:
            raise error
        on_error(error)
    files = list(files)
    results = _parsed_files(parser, files, regions, jobs, max_bytes, max_mentions)
    for prepared, error in tqdm(results, total=len(files), desc="Ingesting", unit="file", disable=not progress,
                                leave=False):
        if error is None:
            try:
                ids.extend(write_articles(conn, [prepared]))
                continue
            except MapappError as raised:
                error = raised
        if on_error is None:
            raise error
        on_error(error)
    return ids


def _article_ids(conn: sqlite3.Connection, article_ids: Iterable[int]) -> list[int]:
    wanted = sorted({int(article_id) for article_id in article_ids})
    return [row[0] for row in conn.execute(
        f"SELECT id FROM articles WHERE id IN ({','.join('?' * len(wanted))}) ORDER BY id", wanted)] if wanted else []


def _changes(conn: sqlite3.Connection, parser, article_id: int, gazetteer) -> tuple[int, list[tuple]]:
    """(mentions that differ, new rows) for one article re-parsed now; a span counts once."""
    text, near_id = conn.execute("SELECT text, near FROM articles WHERE id = ?", (article_id,)).fetchone()
    near = None
    if near_id:
        try:
            near = (gazetteer or parser.gazetteer).get(near_id)
        except NotFound:
            pass  # its home region was deleted since: the article falls back to the focus it implies itself
    mentions = parser.parse(text, near=near) if gazetteer is None else parser.parse(text, gazetteer=gazetteer,
                                                                                    near=near)
    # Editors' corrections pin their spans: the re-parse never undoes them.
    rows = apply_pins(conn, article_id, text, _mention_rows(text, mentions))
    old = {(r["start"], r["end"]): (r["kind"], r["place_id"]) for r in conn.execute(
        'SELECT start, "end", kind, place_id FROM mentions WHERE article_id = ?', (article_id,))}
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


def queue_reresolution(conn: sqlite3.Connection, *, names: Iterable[str] = (),
                       place_ids: Iterable[str] = ()) -> int:
    """Record that the articles naming `names` or mentioning `place_ids` must be re-resolved; returns its id.

    Call it inside the transaction of the gazetteer change, so that the change and the debt are stored
    together: reresolve_pending() pays it, after a crash at the next start, ingest or request.
    """
    with transaction(conn):
        return conn.execute(
            "INSERT INTO pending_reresolution (names, place_ids, at) VALUES (?, ?, ?) RETURNING id",
            (json.dumps(sorted({str(name) for name in names}), ensure_ascii=False),
             json.dumps(sorted({str(pid) for pid in place_ids})), time.time())).fetchone()[0]


def reresolve_pending(conn: sqlite3.Connection, parser, ids: Iterable[int] | None = None, *,
                      older_than: float | None = None) -> int:
    """Re-resolve the articles that queued re-resolutions name and delete those rows, in one transaction.

    `ids` limits it to those rows, `older_than` (unix time) to rows queued before then; default: all.
    Returns the mentions changed (0 when nothing was pending, e.g. another process finished it first).
    """
    where, params = [], []
    if ids is not None:
        ids = sorted({int(i) for i in ids})
        if not ids:
            return 0
        where.append(f"id IN ({','.join('?' * len(ids))})")
        params += ids
    if older_than is not None:
        where.append("at < ?")
        params.append(older_than)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    with transaction(conn):
        # Read inside the write transaction: a row seen here is one no other connection is finishing now.
        rows = conn.execute(f"SELECT id, names, place_ids FROM pending_reresolution {clause}", params).fetchall()
        if not rows:
            return 0
        names = {name for row in rows for name in json.loads(row["names"])}
        place_ids = {pid for row in rows for pid in json.loads(row["place_ids"])}
        article_ids = affected_articles(conn, names=names, place_ids=place_ids)
        changed = reresolve(conn, parser, article_ids) if article_ids else 0
        conn.executemany("DELETE FROM pending_reresolution WHERE id = ?", [(row["id"],) for row in rows])
    return changed


def has_pending(conn: sqlite3.Connection, *, older_than: float | None = None) -> bool:
    """True when some re-resolution is queued (before `older_than`, unix time, if given)."""
    return conn.execute("SELECT EXISTS (SELECT 1 FROM pending_reresolution WHERE at < ?)",
                        (older_than if older_than is not None else float("inf"),)).fetchone()[0] == 1


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
        candidates = sorted(set(_articles_with_words(conn, keys)) - ids)
        for start in range(0, len(candidates), 500):
            chunk = candidates[start:start + 500]
            for article_id, text in conn.execute(
                    f"SELECT id, text FROM articles WHERE id IN ({','.join('?' * len(chunk))})", chunk):
                text = normalise_name(text)
                # Plain substring tests first (fast); the word-bounded regex only confirms.
                if any(key in text for key in keys) and pattern.search(text):
                    ids.add(article_id)
    return sorted(ids)


# A word as the whole-word match above sees one: a run of \w in the normalised text.
_WORD = re.compile(r"\w+")


def _words(text: str) -> str:
    """The distinct words of `text` normalised as names are, space-separated: what article_words holds.

    The table's `ascii` tokenizer splits only at ASCII characters other than letters and digits, and a word
    here holds none of them (normalise_name turns "_" into a space and folds case): one word, one token.
    Sorted, so that every process (a worker's set order follows its own hash seed) writes the same row.
    """
    return " ".join(sorted(set(_WORD.findall(normalise_name(text)))))


def _index_words(conn: sqlite3.Connection, article_id: int, text: str, words: str | None = None) -> None:
    """(Re)write the article's entry in article_words (call inside the transaction that writes its text);
    `words`: _words(text) when already known."""
    _write_words(conn, [(article_id, _words(text) if words is None else words)], replace=True)


def _write_words(conn, entries: list[tuple[int, str]], *, replace: bool = False) -> None:
    # One row per article: an FTS5 row in SQLite (rowid = the article's id), an array of words in PostgreSQL.
    postgres = dialect(conn) == "postgresql"
    if replace:
        conn.executemany("DELETE FROM article_words WHERE article_id = ?" if postgres else
                         "DELETE FROM article_words WHERE rowid = ?", [(article_id,) for article_id, _ in entries])
    if postgres:
        conn.executemany("INSERT INTO article_words (article_id, words) VALUES (?, ?)",
                         [(article_id, words.split()) for article_id, words in entries])
    else:
        conn.executemany("INSERT INTO article_words (rowid, words) VALUES (?, ?)", entries)


def _articles_with_words(conn: sqlite3.Connection, keys: list[str]) -> list[int]:
    """Ids of the articles holding every word of at least one of `keys`: all that the whole-word match of
    a key can find (each run of word characters of a key it finds is a whole word of the text)."""
    groups = []
    for key in keys:
        words = sorted(set(_WORD.findall(key)))
        if not words:  # a key of punctuation only: no word to look up, every article is a candidate
            return [row[0] for row in conn.execute("SELECT id FROM articles")]
        groups.append(words)
    _index_unindexed(conn)
    if dialect(conn) == "postgresql":
        found: set[int] = set()
        for words in groups:  # the articles holding every word of the group (the GIN index answers @>)
            found.update(row[0] for row in conn.execute(
                "SELECT article_id FROM article_words WHERE words @> ?::text[]", (words,)))
        return sorted(found)
    match = " OR ".join("(" + " AND ".join(f'"{word}"' for word in words) + ")" for words in groups)
    return [row[0] for row in conn.execute("SELECT rowid FROM article_words WHERE article_words MATCH ?", (match,))]


def _index_unindexed(conn: sqlite3.Connection) -> None:
    # Articles written straight into the table (bulk loads, tests, databases from before the index) or whose
    # text changed since (the triggers drop their rows): index them now, once.
    indexed = ("SELECT article_id FROM article_words" if dialect(conn) == "postgresql"
               else "SELECT rowid FROM article_words")
    missing = f"SELECT id, text FROM articles WHERE id NOT IN ({indexed})"
    if conn.execute(f"SELECT EXISTS ({missing})").fetchone()[0]:
        with transaction(conn):
            _write_words(conn, [(article_id, _words(text)) for article_id, text in conn.execute(missing).fetchall()])


def load_seeds(conn: sqlite3.Connection, parser, *, progress: bool = True, folder: Path = SEEDS_DIR) -> list[int]:
    """Ingest the bundled seed articles when the database holds no articles yet."""
    if conn.execute("SELECT 1 FROM articles LIMIT 1").fetchone():
        return []
    return ingest_paths(conn, parser, [bundled.require(folder, "seed article folder")], progress=progress)


def article_count(conn: sqlite3.Connection) -> int:
    """How many articles are stored."""
    return conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
