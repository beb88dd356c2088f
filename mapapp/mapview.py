"""Map views: the filters a page, embed, export or API request names, and the GeoJSON they produce."""
from __future__ import annotations

import datetime as dt
import functools
import json
import re
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

from mapapp.errors import InvalidInput
from mapapp.gazetteer.names import normalise_name
from mapapp.params import whole_number

MENTIONS_PER_PLACE = 10
MAX_VALUES = 100  # per repeatable parameter
MAX_TEXT = 200
# Reserved `source` values: the articles with no source recorded, and "no source chosen" (matches nothing).
UNKNOWN_SOURCE = "(unknown)"
NO_SOURCE = "(none)"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}


def _values(args, name: str) -> list[str]:
    """Every value of `name` in a MultiDict (request.args) or a plain dict of str / list values."""
    if hasattr(args, "getlist"):
        values = args.getlist(name)
    else:
        value = args.get(name)
        values = [] if value is None else list(value) if isinstance(value, (list, tuple, set)) else [value]
    if len(values) > MAX_VALUES:
        raise InvalidInput(f"too many '{name}' values (at most {MAX_VALUES})", field=name)
    return [str(value) for value in values]


def _text(value: str, name: str) -> str:
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"'{name}' is longer than {MAX_TEXT} characters", field=name)
    if "\x00" in value:
        raise InvalidInput(f"'{name}' contains a NUL character", field=name)
    return value


def _single(args, name: str) -> str | None:
    values = [value for value in _values(args, name) if value.strip()]
    if len(values) > 1:
        raise InvalidInput(f"'{name}' may be given only once", field=name)
    return _text(values[0], name) if values else None


def _date(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        if _ISO_DATE.match(value):
            return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise InvalidInput(f"'{name}' must be a date YYYY-MM-DD, not {value[:40]!r}", field=name)


@dataclass(frozen=True)
class MapFilters:
    """Which mentions a map view shows; every field empty means everything."""

    sources: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    articles: tuple[int, ...] = ()
    place: str | None = None
    features: tuple[str, ...] = ()
    q: str = ""
    demonyms: bool = False
    undated: bool = False  # with a date range: keep the articles that have no date too

    @classmethod
    def from_args(cls, args) -> MapFilters:
        """Validate query parameters (source, from, to, article, place, feature, q, demonyms); InvalidInput names the bad one."""
        date_from = _date(_single(args, "from"), "from")
        date_to = _date(_single(args, "to"), "to")
        if date_from and date_to and date_from > date_to:
            raise InvalidInput(f"'from' ({date_from}) is after 'to' ({date_to})", field="from")
        demonyms = (_single(args, "demonyms") or "").lower()
        if demonyms not in _TRUE | _FALSE:
            raise InvalidInput("'demonyms' must be 1 or 0", field="demonyms")
        undated = (_single(args, "undated") or "").lower()
        if undated not in _TRUE | _FALSE:
            raise InvalidInput("'undated' must be 1 or 0", field="undated")
        return cls(
            sources=tuple(dict.fromkeys(_text(v, "source") for v in _values(args, "source") if v.strip())),
            date_from=date_from,
            date_to=date_to,
            articles=tuple(sorted({whole_number(v, "article", minimum=1) for v in _values(args, "article")
                                   if v.strip()})),
            place=_single(args, "place"),
            features=tuple(dict.fromkeys(_text(v, "feature") for v in _values(args, "feature") if v.strip())),
            q=_single(args, "q") or "",
            demonyms=demonyms in _TRUE,
            undated=undated in _TRUE,
        )

    def to_args(self) -> list[tuple[str, str]]:
        """The query parameters that reproduce these filters (for share/embed URLs)."""
        pairs = [("source", s) for s in self.sources]
        pairs += [(name, value) for name, value in (("from", self.date_from), ("to", self.date_to)) if value]
        pairs += [("article", str(a)) for a in self.articles]
        pairs += [("place", self.place)] if self.place else []
        pairs += [("feature", f) for f in self.features]
        pairs += [("q", self.q)] if self.q else []
        pairs += [("demonyms", "1")] if self.demonyms else []
        pairs += [("undated", "1")] if self.undated else []
        return pairs

    def check(self, conn: sqlite3.Connection) -> None:
        """Raise InvalidInput when an article id, place id or feature type names nothing stored."""
        if self.articles:
            found = {row[0] for row in conn.execute(
                f"SELECT id FROM articles WHERE id IN ({','.join('?' * len(self.articles))})", self.articles)}
            missing = [a for a in self.articles if a not in found]
            if missing:
                raise InvalidInput(f"no article with id {missing[0]}", field="article")
        if self.place and not conn.execute("SELECT 1 FROM places WHERE id = ?", (self.place,)).fetchone():
            raise InvalidInput(f"no place with id {self.place[:60]!r}", field="place")
        if self.features:
            known = {row[0] for row in conn.execute("SELECT DISTINCT feature FROM places")}
            unknown = [f for f in self.features if f not in known]
            if unknown:
                raise InvalidInput(f"unknown feature type {unknown[0][:40]!r}", field="feature")

    def where(self) -> tuple[str, list]:
        """SQL condition over mentions m and articles a, and its parameters."""
        clauses, params = ["m.place_id IS NOT NULL"], []
        if not self.demonyms:
            clauses.append("m.kind = 'place'")
        if self.sources:
            # An article without a source has source ''; NO_SOURCE alone (every source unchecked) matches nothing.
            sources = ["" if s == UNKNOWN_SOURCE else s for s in self.sources if s != NO_SOURCE]
            clauses.append(f"a.source IN ({','.join('?' * len(sources))})" if sources else "0")
            params.extend(sources)
        if self.articles:
            clauses.append(f"m.article_id IN ({','.join('?' * len(self.articles))})")
            params.extend(self.articles)
        dates = []
        if self.date_from:
            dates.append("a.published >= ?")
            params.append(self.date_from)
        if self.date_to:
            dates.append("a.published <= ?")
            params.append(self.date_to)
        if dates:
            dated = " AND ".join(dates)
            clauses.append(f"({dated} OR {_UNDATED})" if self.undated else dated)
        if self.place:
            clauses.append("m.place_id = ?")
            params.append(self.place)
        # Feature and name filters choose places: test each mentioned place once, not once per mention.
        chosen, chosen_params = [], []
        if self.features:
            chosen.append(f"p.feature IN ({','.join('?' * len(self.features))})")
            chosen_params.extend(self.features)
        if self.q:
            chosen.append("(p.name LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM place_names n"
                          " WHERE n.place_id = p.id AND n.key LIKE ? ESCAPE '\\'))")
            chosen_params.extend([_like(self.q), _like(normalise_name(self.q))])
        if chosen:
            clauses.append("m.place_id IN (SELECT p.id FROM places p WHERE p.id IN (SELECT place_id FROM mentions)"
                           f" AND {' AND '.join(chosen)})")
            params.extend(chosen_params)
        return " AND ".join(clauses), params

    def joins(self, *, articles: bool = False) -> str:
        """The FROM clause where() needs: mentions m, plus articles a when asked or filtered on."""
        if articles or self.sources or self.date_from or self.date_to:
            return "mentions m JOIN articles a ON a.id = m.article_id"
        return "mentions m"


def _matched_names(conn: sqlite3.Connection, place_ids: list[str], q: str) -> dict[str, str]:
    """Per place, the name or alias that the search `q` matched: an exact name first, then a prefix, then any."""
    key = normalise_name(q)
    best: dict[str, tuple] = {}
    for start in range(0, len(place_ids), 500):
        chunk = place_ids[start:start + 500]
        for row in conn.execute(
                f"SELECT n.place_id, n.name, n.key, n.name = p.name AS main FROM place_names n"
                f" JOIN places p ON p.id = n.place_id WHERE n.place_id IN ({','.join('?' * len(chunk))})"
                " AND n.key LIKE ? ESCAPE '\\'", [*chunk, _like(key)]):
            rank = (row["key"] != key, not row["key"].startswith(key), not row["main"], len(row["name"]), row["name"])
            if row["place_id"] not in best or rank < best[row["place_id"]][0]:
                best[row["place_id"]] = (rank, row["name"])
    return {place_id: name for place_id, (_rank, name) in best.items()}


_UNDATED = "COALESCE(a.published, '') = ''"


def hidden_undated(conn: sqlite3.Connection, filters: MapFilters) -> int:
    """How many articles with no date the date range of `filters` hides (0 without a range or with `undated`)."""
    if filters.undated or not (filters.date_from or filters.date_to):
        return 0
    undated = replace(filters, date_from=None, date_to=None)
    where, params = undated.where()
    return conn.execute(f"SELECT COUNT(DISTINCT m.article_id) FROM {undated.joins(articles=True)}"
                        f" WHERE {where} AND {_UNDATED}", params).fetchone()[0]


def _like(text: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


@functools.lru_cache(maxsize=8192)
def _geometry(place_id: str, version: int, geometry: str | None, lat: float, lon: float) -> dict:
    # Keyed by version: an admin edit bumps it, so a stale shape is never served.
    return json.loads(geometry) if geometry else {"type": "Point", "coordinates": [lon, lat]}


# Feature types in plain words for readers (the gazetteer keeps GeoNames' codes).
FEATURE_LABELS = {"admin1": "province or state", "admin2": "county or district"}


def feature_label(feature: str | None) -> str:
    """The feature type in plain words: "province or state" for admin1; other types are words already."""
    return FEATURE_LABELS.get(feature or "", feature or "place")


def country_names(conn: sqlite3.Connection) -> dict[str, str]:
    """ISO country code -> the country's name in the gazetteer (the most populous place of that code wins)."""
    names: dict[str, str] = {}
    for code, name in conn.execute(
            "SELECT country_code, name FROM places WHERE feature = 'country' AND COALESCE(country_code, '') != ''"
            " ORDER BY population IS NULL, population DESC"):
        names.setdefault(code, name)
    return names


def admin1_name(conn: sqlite3.Connection, country_code: str, admin1: str) -> str:
    """The name of a country's first-level division (province or state) by its code; "" when unknown."""
    if not admin1:
        return ""
    row = conn.execute("SELECT name FROM places WHERE feature = 'admin1' AND country_code = ? AND admin1 = ?"
                       " LIMIT 1", (country_code, admin1)).fetchone()
    return row[0] if row else ""


def place_context(conn: sqlite3.Connection, places) -> dict[str, str]:
    """Per place id, where it is in words: "Sangamon County, Illinois, United States" (county, state, country)."""
    countries = country_names(conn)
    context = {}
    for place in places:
        parts = []
        code = place.country_code or ""
        if place.admin2 and place.feature not in ("admin2", "admin1", "country"):
            row = conn.execute("SELECT name FROM places WHERE feature = 'admin2' AND country_code = ? AND admin1 = ?"
                               " AND admin2 = ? LIMIT 1", (code, place.admin1, place.admin2)).fetchone()
            parts += [row[0]] if row else []
        if place.admin1 and place.feature not in ("admin1", "country"):
            parts += [name for name in (admin1_name(conn, code, place.admin1),) if name]
        if code and place.feature != "country":
            parts.append(countries.get(code, code))
        context[place.id] = ", ".join(parts)
    return context


_NEWEST_FIRST = "a.published DESC, a.id DESC, m.start"


def _top_mention_ids(filters: MapFilters) -> tuple[str, list]:
    """SQL selecting the ids of each place's newest MENTIONS_PER_PLACE mentions under `filters`, and its parameters."""
    where, params = filters.where()
    if filters.sources or filters.date_from or filters.date_to or filters.articles:
        # Few of each place's mentions pass: rank only those (one sort over the matching rows).
        return (f"SELECT id FROM (SELECT m.id,"
                f" ROW_NUMBER() OVER (PARTITION BY m.place_id ORDER BY {_NEWEST_FIRST}) AS rank"
                f" FROM {filters.joins(articles=True)} WHERE {where}) WHERE rank <= {MENTIONS_PER_PLACE}", params)
    # Every mention of a chosen place passes (feature, q and place filters choose places, not mentions):
    # per place, a LIMITed sort keeps only the top few instead of sorting every mention (about three times
    # faster for the unfiltered view).
    kind, kind_params = MapFilters(demonyms=filters.demonyms).where()
    return (f"SELECT x.id FROM (SELECT DISTINCT m.place_id FROM {filters.joins()} WHERE {where}) AS c"
            " JOIN mentions x ON x.id IN (SELECT m.id FROM mentions m JOIN articles a ON a.id = m.article_id"
            f" WHERE m.place_id = c.place_id AND {kind} ORDER BY {_NEWEST_FIRST} LIMIT {MENTIONS_PER_PLACE})",
            params + kind_params)


def _attach_sentences(conn: sqlite3.Connection, items: list[dict]) -> None:
    """Set each mention's "sentence" (its sentence_start..sentence_end) from its article's text.

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


def _top_mentions(conn: sqlite3.Connection, filters: MapFilters) -> dict[str, list[dict]]:
    """The newest MENTIONS_PER_PLACE mentions of each place, with their article and sentence."""
    ids, params = _top_mention_ids(filters)
    rows = [dict(row) for row in conn.execute(
        "SELECT m.place_id, m.article_id, m.id AS mention_id, m.start, m.end, m.text, m.sentence_start,"
        " m.sentence_end, a.title, a.source, a.published, a.url"
        # Choose over the covering indexes only, then read the few winning rows in full.
        f" FROM mentions m JOIN articles a ON a.id = m.article_id WHERE m.id IN ({ids})"
        f" ORDER BY m.place_id, {_NEWEST_FIRST}",
        params,
    )]
    _attach_sentences(conn, rows)
    mentions: dict[str, list[dict]] = {}
    for row in rows:
        mentions.setdefault(row["place_id"], []).append({
            "article_id": row["article_id"], "mention_id": row["mention_id"],
            "title": row["title"], "source": row["source"],
            "published": row["published"], "url": row["url"], "text": row["text"], "sentence": row["sentence"],
            "start": row["start"] - row["sentence_start"], "end": row["end"] - row["sentence_start"],
        })
    return mentions


def place_mentions(conn: sqlite3.Connection, place_id: str, *, offset: int, limit: int) -> list[dict]:
    """A page of the mentions of one place, newest articles first, each with its article and its sentence."""
    rows = [dict(row) for row in conn.execute(
        "SELECT m.id, m.article_id, m.start, m.end, m.text, m.kind, m.sentence_start, m.sentence_end,"
        " a.title, a.source, a.published, a.url FROM mentions m JOIN articles a ON a.id = m.article_id"
        " WHERE m.place_id = ? ORDER BY a.published IS NULL, a.published DESC, a.id DESC, m.start, m.id"
        " LIMIT ? OFFSET ?", (place_id, limit, offset))]
    _attach_sentences(conn, rows)
    return rows


def feature_collection(conn: sqlite3.Connection, filters: MapFilters) -> dict:
    """A GeoJSON FeatureCollection with one Feature per place mentioned under `filters` (see common contract)."""
    filters.check(conn)
    where, params = filters.where()
    # Aggregate over the covering indexes first; read each place row (its shape can be large) only once.
    places = conn.execute(
        "SELECT p.id, p.name, p.feature, p.country_code, p.approximate, p.lat, p.lon, p.geometry, p.version,"
        " c.mention_count, c.article_count"
        " FROM (SELECT m.place_id, COUNT(*) AS mention_count, COUNT(DISTINCT m.article_id) AS article_count"
        f"   FROM {filters.joins()} WHERE {where} GROUP BY m.place_id) AS c"
        " JOIN places p ON p.id = c.place_id ORDER BY c.mention_count DESC, p.name",
        params,
    ).fetchall()
    mentions = _top_mentions(conn, filters) if places else {}
    countries = country_names(conn) if places else {}
    features = [{
        "type": "Feature",
        "id": row["id"],
        "geometry": _geometry(row["id"], row["version"], row["geometry"], row["lat"], row["lon"]),
        "properties": {
            "place_id": row["id"], "name": row["name"], "feature": row["feature"],
            "country_code": row["country_code"], "approximate": bool(row["approximate"]),
            "feature_label": feature_label(row["feature"]), "country": countries.get(row["country_code"] or ""),
            "mention_count": row["mention_count"], "article_count": row["article_count"],
            "mentions": mentions.get(row["id"], []),
        },
    } for row in places]
    if filters.q and features:
        matched = _matched_names(conn, [f["id"] for f in features], filters.q)
        for feature in features:
            feature["properties"]["matched_name"] = matched.get(feature["id"], feature["properties"]["name"])
    collection = {"type": "FeatureCollection", "features": features}
    if filters.date_from or filters.date_to:
        # A foreign member (RFC 7946 §6.1): the map says what its date range leaves out.
        collection["hidden_undated"] = hidden_undated(conn, filters)
    return collection


def data_version(conn: sqlite3.Connection) -> tuple:
    """What a cached view depends on: meta articles/gazetteer versions (bumped by every write) and the last ids."""
    return tuple(conn.execute(
        "SELECT (SELECT value FROM meta WHERE key = 'articles_version'),"
        " (SELECT value FROM meta WHERE key = 'gazetteer_version'),"
        # Rows written straight into the tables (tests, bulk loads) change the last ids even without a bump.
        " (SELECT MAX(id) FROM articles), (SELECT MAX(id) FROM mentions)").fetchone())


def bump_articles_version(conn: sqlite3.Connection) -> None:
    """Mark the articles/mentions as changed (call inside the writing transaction); invalidates cached views."""
    conn.execute("INSERT INTO meta (key, value) VALUES ('articles_version', '1')"
                 " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")


class _ByteBudgetCache:
    """A small thread-safe LRU of serialised views, bounded by total size rather than entry count."""

    def __init__(self, budget: int):
        self.budget = budget
        self._items: OrderedDict = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value: bytes) -> None:
        if len(value) > self.budget // 4:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._size += len(value)
            while self._size > self.budget:
                _key, old = self._items.popitem(last=False)
                self._size -= len(old)


_views = _ByteBudgetCache(64 * 1024 * 1024)


def _database_file(conn: sqlite3.Connection) -> str:
    return conn.execute("PRAGMA database_list").fetchone()[2]


def feature_collection_json(conn: sqlite3.Connection, filters: MapFilters) -> bytes:
    """feature_collection() as compact UTF-8 JSON, cached until the articles or the gazetteer change."""
    key = (_database_file(conn), data_version(conn), filters)
    body = _views.get(key)
    if body is None:
        body = json.dumps(feature_collection(conn, filters), ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
        _views.put(key, body)
    return body


def facets(conn: sqlite3.Connection) -> dict:
    """What the filter controls can offer: sources, the date range, feature types present, article count."""
    key = ("facets", _database_file(conn), data_version(conn))
    cached = _views.get(key)
    if cached is None:
        cached = json.dumps(_facets(conn)).encode("utf-8")
        _views.put(key, cached)
    return json.loads(cached)  # a fresh copy: callers may change it


def _facets(conn: sqlite3.Connection) -> dict:
    sources = [{"name": row[0], "articles": row[1]} for row in conn.execute(
        "SELECT source, COUNT(*) FROM articles WHERE source != '' GROUP BY source ORDER BY source")]
    unsourced = conn.execute("SELECT COUNT(*) FROM articles WHERE source = ''").fetchone()[0]
    if unsourced:
        sources.append({"name": UNKNOWN_SOURCE, "articles": unsourced, "unknown": True})
    first, last, total, undated = conn.execute(
        "SELECT MIN(published), MAX(published), COUNT(*), COUNT(*) - COUNT(published) FROM articles").fetchone()
    features = [{"name": row[0], "places": row[1]} for row in conn.execute(
        "SELECT p.feature, COUNT(*) FROM places p WHERE p.id IN (SELECT DISTINCT place_id FROM mentions)"
        " GROUP BY p.feature ORDER BY p.feature")]
    return {"sources": sources, "dates": {"min": first, "max": last}, "features": features,
            "article_count": total, "undated_count": undated}
