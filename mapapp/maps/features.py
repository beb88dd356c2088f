"""Map features: the GeoJSON and facets that a set of map filters selects (mentions are read by mapapp.mentions)."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

from mapapp.cache import lru, memoize
from mapapp.db import dialect, identity
from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.place import country_names, feature_label
from mapapp.maps.filters import UNDATED_SQL, UNKNOWN_SOURCE, MapFilters, like_pattern
from mapapp.mentions import attach_sentences

MENTIONS_PER_PLACE = 10  # newest mentions listed in a place's popup


def _matched_names(conn: sqlite3.Connection, place_ids: list[str], q: str) -> dict[str, str]:
    """Per place, the name or alias that the search `q` matched: an exact name first, then a prefix, then any."""
    key = normalise_name(q)
    best: dict[str, tuple] = {}
    for start in range(0, len(place_ids), 500):
        chunk = place_ids[start:start + 500]
        for row in conn.execute(
                f"SELECT n.place_id, n.name, n.key, n.name = p.name AS main FROM place_names n"
                f" JOIN places p ON p.id = n.place_id WHERE n.place_id IN ({','.join('?' * len(chunk))})"
                " AND n.key LIKE ? ESCAPE '\\'", [*chunk, like_pattern(key)]):
            rank = (row["key"] != key, not row["key"].startswith(key), not row["main"], len(row["name"]), row["name"])
            if row["place_id"] not in best or rank < best[row["place_id"]][0]:
                best[row["place_id"]] = (rank, row["name"])
    return {place_id: name for place_id, (_rank, name) in best.items()}


def hidden_undated(conn: sqlite3.Connection, filters: MapFilters) -> int:
    """How many articles with no date the date range of `filters` hides (0 without a range or with `undated`)."""
    if filters.undated or not (filters.date_from or filters.date_to):
        return 0
    undated = replace(filters, date_from=None, date_to=None)
    where, params = undated.where(dialect(conn))
    return conn.execute(f"SELECT COUNT(DISTINCT m.article_id) FROM {undated.joins(articles=True)}"
                        f" WHERE {where} AND {UNDATED_SQL}", params).fetchone()[0]


FULL_DETAIL_ZOOM = 12  # from this zoom on, shapes are served as stored


def zoom_tolerance(zoom: int | None) -> float:
    """Simplification tolerance in degrees for a map zoom: half a screen pixel at the equator; 0 (as stored)
    for no zoom or FULL_DETAIL_ZOOM and above."""
    if zoom is None or zoom >= FULL_DETAIL_ZOOM:
        return 0.0
    return 360.0 / (256 * 2 ** zoom) / 2


def detail_zoom(map_zoom: float) -> int:
    """The `zoom` a map at `map_zoom` asks /api/features for: the even level of its pair (4 for 4 and 5, ...),
    so shapes are at most a pixel off and zooming in asks again every second level; FULL_DETAIL_ZOOM at most.
    static/map/data.js (detailFor) applies the same rule."""
    return min(FULL_DETAIL_ZOOM, max(0, 2 * (int(map_zoom) // 2)))


@memoize("feature geometry")
def _geometry(place_id: str, version: int, geometry: str | None, lat: float, lon: float,
              tolerance: float = 0.0) -> dict:
    # Keyed by version: an admin edit bumps it, so a stale shape is never served.
    if not geometry:
        return {"type": "Point", "coordinates": [lon, lat]}
    if not tolerance:
        return json.loads(geometry)
    import math

    import shapely
    from shapely.geometry import mapping

    # Display only: containment and reverse() use the stored shape. Topology is kept by the simplification;
    # positions keep the decimals the tolerance needs (float noise would make the text longer, not shorter),
    # snapped to that grid so the shape stays valid: an islet that collapses on it (under a pixel) is left out.
    geom = shapely.from_geojson(geometry)
    simple = geom.simplify(tolerance, preserve_topology=True)
    simple = simple if not simple.is_empty else geom
    digits = max(0, min(5, math.ceil(-math.log10(tolerance / 4))))
    snapped = shapely.set_precision(simple, 10.0 ** -digits)
    # A shape smaller than the grid keeps its simplified positions rather than vanish.
    return mapping(snapped if not snapped.is_empty else simple)


# NULLS LAST, spelled out: SQLite sorts NULL first, PostgreSQL last, so both stores order alike.
_NEWEST_FIRST = "a.published DESC NULLS LAST, a.id DESC, m.start"


def _top_mention_ids(filters: MapFilters, dialect_name: str) -> tuple[str, list]:
    """SQL selecting the ids of each place's newest MENTIONS_PER_PLACE mentions under `filters`, and its parameters."""
    where, params = filters.where(dialect_name)
    if filters.sources or filters.date_from or filters.date_to or filters.articles:
        # Few of each place's mentions pass: rank only those (one sort over the matching rows).
        sql = (f"SELECT id FROM (SELECT m.id,"
               f" ROW_NUMBER() OVER (PARTITION BY m.place_id ORDER BY {_NEWEST_FIRST}) AS rank"
               f" FROM {filters.joins(articles=True)} WHERE {where}) AS ranked WHERE rank <= {MENTIONS_PER_PLACE}")
        return sql, params
    # Every mention of a chosen place passes (feature, q and place filters choose places, not mentions):
    # per place, a LIMITed sort keeps only the top few instead of sorting every mention (about three times
    # faster for the unfiltered view).
    kind, kind_params = MapFilters(demonyms=filters.demonyms).where(dialect_name)
    chosen = f"SELECT DISTINCT m.place_id FROM {filters.joins()} WHERE {where}"
    if dialect_name == "postgresql":
        # PostgreSQL runs the correlated IN (... LIMIT) below once per (place, mention) pair, minutes at 100,000
        # mentions; one window sort over the chosen places' mentions selects the same rows.
        sql = (f"SELECT id FROM (SELECT m.id, ROW_NUMBER() OVER (PARTITION BY m.place_id ORDER BY {_NEWEST_FIRST})"
               " AS rank FROM mentions m JOIN articles a ON a.id = m.article_id"
               f" WHERE m.place_id IN ({chosen}) AND {kind}) AS ranked WHERE rank <= {MENTIONS_PER_PLACE}")
        return sql, params + kind_params
    sql = (f"SELECT x.id FROM ({chosen}) AS c"
           " JOIN mentions x ON x.id IN (SELECT m.id FROM mentions m JOIN articles a ON a.id = m.article_id"
           f" WHERE m.place_id = c.place_id AND {kind} ORDER BY {_NEWEST_FIRST} LIMIT {MENTIONS_PER_PLACE})")
    return sql, params + kind_params


def _top_mentions(conn: sqlite3.Connection, filters: MapFilters) -> dict[str, list[dict]]:
    """The newest MENTIONS_PER_PLACE mentions of each place, with their article and sentence."""
    ids, params = _top_mention_ids(filters, dialect(conn))
    rows = [dict(row) for row in conn.execute(
        'SELECT m.place_id, m.article_id, m.id AS mention_id, m.start, m."end", m.text, m.sentence_start,'
        " m.sentence_end, a.title, a.source, a.published, a.url"
        # Choose over the covering indexes only, then read the few winning rows in full.
        f" FROM mentions m JOIN articles a ON a.id = m.article_id WHERE m.id IN ({ids})"
        f" ORDER BY m.place_id, {_NEWEST_FIRST}",
        params,
    )]
    attach_sentences(conn, rows)
    mentions: dict[str, list[dict]] = {}
    for row in rows:
        mentions.setdefault(row["place_id"], []).append({
            "article_id": row["article_id"], "mention_id": row["mention_id"],
            "title": row["title"], "source": row["source"],
            "published": row["published"], "url": row["url"], "text": row["text"], "sentence": row["sentence"],
            "start": row["start"] - row["sentence_start"], "end": row["end"] - row["sentence_start"],
        })
    return mentions


def feature_collection(conn: sqlite3.Connection, filters: MapFilters, *, zoom: int | None = None) -> dict:
    """A GeoJSON FeatureCollection with one Feature per place mentioned under `filters` (see common contract);
    with `zoom`, shapes are simplified to what that zoom can show (zoom_tolerance)."""
    tolerance = zoom_tolerance(zoom)
    filters.check(conn)
    where, params = filters.where(dialect(conn))
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
        "geometry": _geometry(row["id"], row["version"], row["geometry"], row["lat"], row["lon"], tolerance),
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
                 " ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)")


_views = lru("map views")  # the GeoJSON and facets bytes, shared by both functions below


# once: a page's preload and its script ask for the same first view together; it is computed once.
@memoize(_views, key=lambda conn, filters, zoom=None: (identity(conn), data_version(conn), filters,
                                                       zoom_tolerance(zoom)), once=True)
def feature_collection_json(conn: sqlite3.Connection, filters: MapFilters, *, zoom: int | None = None) -> bytes:
    """feature_collection() as compact UTF-8 JSON, cached until the articles or the gazetteer change."""
    return json.dumps(feature_collection(conn, filters, zoom=zoom), ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def facets(conn: sqlite3.Connection) -> dict:
    """What the filter controls can offer: sources, the date range, feature types present, article count."""
    return json.loads(_facets_json(conn))  # a fresh copy: callers may change it


@memoize(_views, key=lambda conn: ("facets", identity(conn), data_version(conn)), once=True)
def _facets_json(conn: sqlite3.Connection) -> bytes:
    return json.dumps(_facets(conn)).encode("utf-8")


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
