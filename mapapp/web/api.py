"""Blueprint 'api': JSON for programs — articles, places and the GeoJSON of any map view."""
from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, request, stream_with_context, url_for

from mapapp.db import get_db
from mapapp.errors import NotFound
from mapapp.gazetteer.place import read_place
from mapapp.maps import downloads
from mapapp.maps import features as map_features
from mapapp.maps.density import DensityQuery
from mapapp.maps.density import density as region_density
from mapapp.maps.filters import MapFilters
from mapapp.mentions import article_mentions, place_mentions
from mapapp.params import MAX_ID, record_id, whole_number

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_LIMIT = 10_000
# Mentions of one article or place come a page at a time (?offset=&limit=, with "next"): one article
# repeating a name 270,000 times made a 70 MB response that tied up the server for every visitor.
ARTICLE_MENTIONS_LIMIT, ARTICLE_MENTIONS_MAX = 1000, 5000
PLACE_MENTIONS_LIMIT, PLACE_MENTIONS_MAX = 500, 1000


def _int_arg(name: str, default: int, maximum: int) -> int:
    return whole_number(request.args.get(name), name, minimum=0, maximum=maximum, default=default)


def _page(default: int, maximum: int) -> tuple[int, int]:
    """(offset, limit) of a paged list from ?offset= and ?limit=."""
    return _int_arg("offset", 0, MAX_ID), _int_arg("limit", default, maximum)


def _next_url(endpoint: str, offset: int, limit: int, shown: int, total: int, **values) -> str | None:
    """The URL of the next page, or None when this page is the last."""
    if not shown or offset + shown >= total:
        return None
    return url_for(endpoint, offset=offset + shown, limit=limit, **values)


def _article_summary(row) -> dict:
    return {"id": row["id"], "title": row["title"], "source": row["source"], "published": row["published"],
            "url": row["url"], "mention_count": row["mention_count"]}


@bp.get("/articles")
def articles():
    """Every article (newest first): id, title, source, published, url, mention_count; ?limit=&offset=."""
    limit = _int_arg("limit", MAX_LIMIT, MAX_LIMIT)
    offset = _int_arg("offset", 0, MAX_ID)
    db = get_db()
    rows = db.execute(
        "SELECT a.id, a.title, a.source, a.published, a.url,"
        " (SELECT COUNT(*) FROM mentions m WHERE m.article_id = a.id) AS mention_count"
        " FROM articles a ORDER BY a.published IS NULL, a.published DESC, a.id DESC LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()
    total = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    return jsonify({"articles": [_article_summary(row) for row in rows], "total": total})


@bp.get("/articles/<article_id>")
def article(article_id: str):
    """One article with its text and a page of its mentions in text order (span, kind, place, score, sentence
    bounds): ?offset= (default 0) and ?limit= (default 1000, at most 5000); mention_count and next say the rest."""
    offset, limit = _page(ARTICLE_MENTIONS_LIMIT, ARTICLE_MENTIONS_MAX)
    db = get_db()
    row = db.execute(
        "SELECT a.*, (SELECT COUNT(*) FROM mentions m WHERE m.article_id = a.id) AS mention_count"
        " FROM articles a WHERE a.id = ?", (record_id(article_id, "article_id"),)).fetchone()
    if row is None:
        raise NotFound(f"no article with id {article_id}", field="article_id")
    mentions = [{
        "id": m["id"], "start": m["start"], "end": m["end"], "text": m["text"], "kind": m["kind"],
        "place_id": m["place_id"], "score": m["score"], "place_name": m["place_name"],
        "sentence_start": m["sentence_start"], "sentence_end": m["sentence_end"],
        "alternatives": json.loads(m["alternatives"]),
    } for m in article_mentions(db, row["id"], resolved_only=False, offset=offset, limit=limit)]
    return jsonify({**_article_summary(row), "text": row["text"], "mentions": mentions, "offset": offset,
                    "limit": limit, "next": _next_url("api.article", offset, limit, len(mentions),
                                                      row["mention_count"], article_id=row["id"])})


@bp.get("/places/<path:place_id>")
def place(place_id: str):
    """One gazetteer place (its full record) and a page of the mentions of it, newest articles first:
    ?offset= (default 0) and ?limit= (default 500, at most 1000); mention_count and next say the rest."""
    offset, limit = _page(PLACE_MENTIONS_LIMIT, PLACE_MENTIONS_MAX)
    db = get_db()
    found = read_place(db, place_id)
    if found is None:
        raise NotFound(f"no place with id {place_id[:60]!r}", field="place_id")
    mention_count, article_count = db.execute(
        "SELECT COUNT(*), COUNT(DISTINCT article_id) FROM mentions WHERE place_id = ?", (found.id,)).fetchone()
    mentions = [{
        "article_id": m["article_id"], "title": m["title"], "source": m["source"], "published": m["published"],
        "url": m["url"], "text": m["text"], "kind": m["kind"], "sentence": m["sentence"],
        "start": m["start"] - m["sentence_start"], "end": m["end"] - m["sentence_start"],
    } for m in place_mentions(db, found.id, offset=offset, limit=limit)]
    return jsonify({"place": found.to_record(), "mention_count": mention_count, "article_count": article_count,
                    "mentions": mentions, "offset": offset, "limit": limit,
                    "next": _next_url("api.place", offset, limit, len(mentions), mention_count,
                                      place_id=found.id)})


@bp.get("/search")
def search():
    """Full-text search of the articles (?q=, same syntax as /search; ?offset=&limit=, at most 500): best first,
    each with its snippet as text and the [start, end] ranges of the matched words in it."""
    from mapapp.articles.search import search as search_articles

    offset, limit = _page(50, 500)
    total, hits = search_articles(get_db(), request.args.get("q") or "", limit=limit, offset=offset)
    return jsonify({"q": request.args.get("q"), "total": total, "articles": [hit.to_dict() for hit in hits],
                    "offset": offset, "limit": limit,
                    "next": _next_url("api.search", offset, limit, len(hits), total, q=request.args.get("q"))})


@bp.get("/features")
def features():
    """GeoJSON FeatureCollection of the map view the query names (source, from, to, article, place, feature, q);
    `zoom` (0-19) serves shapes at the detail that zoom shows."""
    filters = MapFilters.from_args(request.args)
    zoom = request.args.get("zoom")
    zoom = whole_number(zoom, "zoom", maximum=19) if zoom not in (None, "") else None
    body = map_features.feature_collection_json(get_db(), filters, zoom=zoom)
    return Response(body, mimetype="application/geo+json")


@bp.get("/facets")
def facets():
    """The values the filter controls can offer: sources, date range, feature types."""
    return jsonify(map_features.facets(get_db()))


def _encoded(chunks, filters: MapFilters):
    # Runs while the response streams: the request's own connection (get_db) is open again inside it.
    for chunk in chunks(get_db(), filters):
        yield chunk.encode("utf-8")


@bp.get("/export.<fmt>")
def export(fmt: str):
    """The map view the query names (the /api/features filters) as a file: geojson, csv, kml or gpkg."""
    if fmt not in downloads.FORMATS:
        raise NotFound(f"no export format {fmt[:20]!r} (geojson, csv, kml, gpkg)", field="format")
    filters = MapFilters.from_args(request.args)
    db = get_db()
    filters.check(db)  # before the first byte: a bad id is a 400, not a broken download
    kind = downloads.FORMATS[fmt]
    if fmt == "gpkg":  # an SQLite file: whole, once written
        body = downloads.gpkg_bytes(db, filters)
    else:  # streamed: the first bytes leave before the view is read (GeoJSON: the map's cached view)
        chunks = downloads.cached_geojson_chunks if fmt == "geojson" else downloads.CHUNKS[fmt]
        body = stream_with_context(_encoded(chunks, filters))
    response = Response(body, mimetype=kind.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="mapapp-view.{kind.extension}"'
    return response


@bp.get("/density")
def density():
    """Articles or mentions per region under the /api/features filters: ?by=country|admin1,
    ?count=articles|mentions, ?step=week|month for the timeline; a GeoJSON FeatureCollection of the regions."""
    filters = MapFilters.from_args(request.args)
    query = DensityQuery.from_args(request.args)
    return Response(json.dumps(region_density(get_db(), filters, query), ensure_ascii=False,
                               separators=(",", ":")), mimetype="application/geo+json")
