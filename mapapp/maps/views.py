"""The map views pages, embeds and exports share: the overview, one article, one place."""
from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field, replace

from mapapp.coords import check_lat_lon
from mapapp.errors import InvalidInput, NotFound
from mapapp.gazetteer.place import Place, read_place
from mapapp.maps.builder import MapSpec
from mapapp.maps.density import next_period, period_sql
from mapapp.maps.features import facets, feature_collection_json
from mapapp.maps.filters import MapFilters
from mapapp.mentions import article_mentions, place_mentions
from mapapp.params import record_id

PLACE_MENTIONS_SHOWN = 500
# An article page highlights at most this many mentions and links to the next range ("show more"): one
# article repeating a name 270,000 times made a 50 MB page that tied up the server for everyone.
ARTICLE_MENTIONS_SHOWN = 1000


def map_view(args) -> dict | None:
    """The view in the URL (lat, lon, zoom), checked; None when the URL names none."""
    values = {name: (args.get(name) or "").strip() for name in ("lat", "lon", "zoom")}
    if not any(values.values()):
        return None
    lat, lon = check_lat_lon(values["lat"], values["lon"])
    try:
        zoom = float(values["zoom"])
    except ValueError:
        zoom = math.nan
    if not (math.isfinite(zoom) and 0 <= zoom <= 19):
        raise InvalidInput("zoom must be a number from 0 to 19", field="zoom")
    return {"lat": lat, "lon": lon, "zoom": zoom}


def client_state(filters: MapFilters, args) -> dict:
    """The filter and layer state the browser starts from."""
    selected = (args.get("sel") or "").strip()
    if len(selected) > 200:
        raise InvalidInput("sel is longer than 200 characters", field="sel")
    return {"source": list(filters.sources), "from": filters.date_from or "", "to": filters.date_to or "",
            "feature": list(filters.features), "article": [str(a) for a in filters.articles], "sel": selected,
            "undated": filters.undated}


def control_facets(conn: sqlite3.Connection) -> dict:
    """What the filter controls offer (sources, feature types, date range) in the shape mapapp.js reads."""
    found = facets(conn)
    return {"sources": [s["name"] for s in found["sources"]], "features": [f["name"] for f in found["features"]],
            "min_date": (found["dates"]["min"] or "")[:10], "max_date": (found["dates"]["max"] or "")[:10]}


def overview_spec(conn: sqlite3.Connection, args, base: MapSpec) -> MapSpec:
    """Every article's places, fetched from the API; sources and dates go to the server, layers stay local."""
    filters = MapFilters.from_args(args)
    filters.check(conn)
    fixed = {"place": filters.place, "q": filters.q or None, "demonyms": "1" if filters.demonyms else None,
             "text": filters.text or None}
    return replace(base, data_url=base.data_url or "/api/features",
                   fixed_params={k: v for k, v in fixed.items() if v},
                   state=client_state(filters, args), view=map_view(args), facets=control_facets(conn))


def inline_spec(conn: sqlite3.Connection, filters: MapFilters, args, base: MapSpec) -> MapSpec:
    """A view whose data travels inside the page (exports, small views); its controls filter in the browser."""
    # From the views cache (until the data changes): the map of one huge article costs its whole mention list.
    data = json.loads(feature_collection_json(conn, filters))
    state = client_state(MapFilters(sources=filters.sources, date_from=filters.date_from,
                                    date_to=filters.date_to, undated=filters.undated), args)
    return replace(base, data=data, data_url=None, state=state, view=map_view(args))


@dataclass
class ArticleView:
    """One article: its row, one range of its resolved mentions (from `offset`, ordered by position), the
    text cut into plain and marked pieces, and the article's total mentions and places (counted, not listed)."""

    row: sqlite3.Row
    mentions: list[sqlite3.Row]
    pieces: list[tuple[str, sqlite3.Row | None]] = field(default_factory=list)
    mention_total: int = 0
    place_total: int = 0
    offset: int = 0
    limit: int | None = ARTICLE_MENTIONS_SHOWN

    @property
    def next_offset(self) -> int | None:
        """Where the next range of mentions starts, or None when this range is the last."""
        end = self.offset + len(self.mentions)
        return end if self.mentions and end < self.mention_total else None


def text_pieces(text: str, mentions) -> list[tuple[str, object]]:
    """`text` cut at the mentions' offsets: (plain, None) and (mention text, mention); overlaps are skipped."""
    pieces, at = [], 0
    for mention in sorted(mentions, key=lambda m: (m["start"], -m["end"])):
        start, end = mention["start"], mention["end"]
        if start < at or end > len(text) or start >= end:
            continue
        if start > at:
            pieces.append((text[at:start], None))
        pieces.append((text[start:end], mention))
        at = end
    if at < len(text):
        pieces.append((text[at:], None))
    return pieces


def load_article(conn: sqlite3.Connection, value, *, offset: int = 0,
                 limit: int | None = ARTICLE_MENTIONS_SHOWN) -> ArticleView:
    """The article with id `value` and up to `limit` of its resolved mentions from `offset` (None: all of
    them); NotFound when there is no such article."""
    wanted = record_id(value, "article_id")
    row = conn.execute("SELECT * FROM articles WHERE id = ?", (wanted,)).fetchone()
    if row is None:
        raise NotFound(f"no article with id {wanted}", field="article_id")
    # Counted and paged in the order of the index mentions_article_start: the cost is the page's, not the article's.
    mention_total, place_total = conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT place_id) FROM mentions WHERE article_id = ? AND place_id IS NOT NULL",
        (row["id"],)).fetchone()
    mentions = article_mentions(conn, row["id"], resolved_only=True, offset=offset, limit=limit)
    return ArticleView(row, mentions, text_pieces(row["text"], mentions), mention_total, place_total, offset,
                       limit)


def article_spec(conn: sqlite3.Connection, article: ArticleView, args, base: MapSpec) -> MapSpec:
    """The article's own map: every place it names (demonyms too, so each highlighted name has a shape)."""
    return inline_spec(conn, MapFilters(articles=(article.row["id"],), demonyms=True), args, base)


@dataclass
class PlaceView:
    """One place: the record, its names, and the mentions of it (newest articles first)."""

    place: Place
    names: list[dict]  # {"name", "kind"} of each of its names, by kind then name
    mentions: list[dict]
    mention_total: int
    offset: int = 0
    limit: int = PLACE_MENTIONS_SHOWN
    timeline: Timeline | None = None

    @property
    def next_offset(self) -> int | None:
        """Where the next (older) range of mentions starts, or None when this range is the last."""
        end = self.offset + len(self.mentions)
        return end if self.mentions and end < self.mention_total else None


TIMELINE_WEEKS = 104  # the place page's chart: at most the last two years of weeks with mentions


@dataclass
class Timeline:
    """Mentions of one place per week (Monday first), every week from the first to the last shown, and how many
    mentions have no date or fall before the weeks shown."""

    weeks: list[tuple[str, int]]
    undated: int = 0
    earlier: int = 0

    @property
    def peak(self) -> int:
        """The largest weekly count (0 without weeks)."""
        return max((n for _week, n in self.weeks), default=0)

    @property
    def total(self) -> int:
        """Mentions in the weeks shown."""
        return sum(n for _week, n in self.weeks)


def place_timeline(conn: sqlite3.Connection, place_id: str, *, weeks: int = TIMELINE_WEEKS) -> Timeline:
    """The weekly counts of mentions of `place_id` (the week of each article's published date)."""
    rows = conn.execute(
        f"SELECT {period_sql(conn, 'week')} AS week, COUNT(*) FROM mentions m JOIN articles a ON a.id = m.article_id"
        " WHERE m.place_id = ? GROUP BY week", (place_id,)).fetchall()
    counts = {week: n for week, n in rows if week}
    undated = sum(n for week, n in rows if not week)
    if not counts:
        return Timeline([], undated)
    series, start = [], min(counts)
    while start <= max(counts):
        series.append((start, counts.get(start, 0)))
        start = next_period(start, "week")
    shown = series[-weeks:]
    return Timeline(shown, undated, sum(n for _week, n in series[:-weeks]) if len(series) > weeks else 0)


def load_place(conn: sqlite3.Connection, place_id: str, *, offset: int = 0,
               limit: int = PLACE_MENTIONS_SHOWN) -> PlaceView:
    """The place with id `place_id`, its names and `limit` of its mentions from `offset` (newest articles
    first) with their sentences; NotFound when unknown."""
    place = read_place(conn, place_id)
    if place is None:
        raise NotFound(f"no place with id {place_id[:80]!r}")
    names = [{"name": name, "kind": kind} for name, kind in place.all_names()]
    total = conn.execute("SELECT COUNT(*) FROM mentions WHERE place_id = ?", (place_id,)).fetchone()[0]
    mentions = []
    for m in place_mentions(conn, place_id, offset=offset, limit=limit):
        sentence, start, end = m["sentence"] or "", m["start"] - m["sentence_start"], m["end"] - m["sentence_start"]
        ok = 0 <= start < end <= len(sentence)
        mentions.append({**dict(m), "before": sentence[:start] if ok else sentence,
                         "name": sentence[start:end] if ok else "", "after": sentence[end:] if ok else ""})
    return PlaceView(place, names, mentions, total, offset, limit, place_timeline(conn, place_id))


def place_spec(conn: sqlite3.Connection, view: PlaceView, args, base: MapSpec) -> MapSpec:
    """The place on its own map (its shape or point), with its mentions in the popup."""
    spec = inline_spec(conn, MapFilters(place=view.place.id, demonyms=True), args, base)
    if not spec.data["features"]:
        place = view.place
        spec.data["features"].append({
            "type": "Feature", "id": place.id, "geometry": place.point_geometry(),
            "properties": {"place_id": place.id, "name": place.name, "feature": place.feature,
                           "country_code": place.country_code, "approximate": place.approximate,
                           "mention_count": 0, "article_count": 0, "mentions": []}})
    return spec
