"""Blueprint 'api': JSON for programs — articles, places and the GeoJSON of any map view."""
from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, request, url_for

from mapapp.maps import features as map_features
from mapapp.maps.filters import MapFilters
from mapapp.db import get_db
from mapapp.errors import NotFound
from mapapp.gazetteer.place import Place
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
    } for m in db.execute(
        "SELECT m.*, p.name AS place_name FROM mentions m LEFT JOIN places p ON p.id = m.place_id"
        " WHERE m.article_id = ? ORDER BY m.start, m.place_id, m.id LIMIT ? OFFSET ?",
        (row["id"], limit, offset))]
    return jsonify({**_article_summary(row), "text": row["text"], "mentions": mentions, "offset": offset,
                    "limit": limit, "next": _next_url("api.article", offset, limit, len(mentions),
                                                      row["mention_count"], article_id=row["id"])})


@bp.get("/places/<path:place_id>")
def place(place_id: str):
    """One gazetteer place (its full record) and a page of the mentions of it, newest articles first:
    ?offset= (default 0) and ?limit= (default 500, at most 1000); mention_count and next say the rest."""
    offset, limit = _page(PLACE_MENTIONS_LIMIT, PLACE_MENTIONS_MAX)
    db = get_db()
    row = db.execute("SELECT * FROM places WHERE id = ?", (place_id,)).fetchone()
    if row is None:
        raise NotFound(f"no place with id {place_id[:60]!r}", field="place_id")
    names = [n["name"] for n in db.execute(
        "SELECT name FROM place_names WHERE place_id = ? AND name != ? ORDER BY kind, name", (row["id"], row["name"]))]
    record = Place.from_row(row, aliases=list(dict.fromkeys(names))).to_record()
    mention_count, article_count = db.execute(
        "SELECT COUNT(*), COUNT(DISTINCT article_id) FROM mentions WHERE place_id = ?", (row["id"],)).fetchone()
    mentions = [{
        "article_id": m["article_id"], "title": m["title"], "source": m["source"], "published": m["published"],
        "url": m["url"], "text": m["text"], "kind": m["kind"], "sentence": m["sentence"],
        "start": m["start"] - m["sentence_start"], "end": m["end"] - m["sentence_start"],
    } for m in map_features.place_mentions(db, row["id"], offset=offset, limit=limit)]
    return jsonify({"place": record, "mention_count": mention_count, "article_count": article_count,
                    "mentions": mentions, "offset": offset, "limit": limit,
                    "next": _next_url("api.place", offset, limit, len(mentions), mention_count,
                                      place_id=row["id"])})


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
