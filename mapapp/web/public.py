"""Blueprint 'public': the overview map, article pages, place pages and the offline basemap."""
from __future__ import annotations

from dataclasses import replace

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)

from mapapp.articles import corrections
from mapapp.db import get_db
from mapapp.errors import InvalidInput
from mapapp.gazetteer.place import country_names, feature_label
from mapapp.maps import basemap, views
from mapapp.maps.builder import (
    ALL_CONTROLS,
    DENSITY_IDS,
    DOWNLOAD_IDS,
    PANEL_IDS,
    SHARE_IDS,
    MapSpec,
    render,
)
from mapapp.params import whole_number

bp = Blueprint("public", __name__)


def base_spec(**overrides) -> MapSpec:
    """A MapSpec with this app's tiles, attribution and offline basemap."""
    config = current_app.config
    # script_root: the app may be mounted below a path prefix; every URL the map uses starts there.
    root = request.script_root
    return MapSpec(tiles_url=config.get("TILES_URL") or "", tiles_attribution=config.get("TILES_ATTRIBUTION") or "",
                   outlines_url=url_for("public.outlines"), asset_prefix=root,
                   links={"mode": "server", "base": root}, **overrides)


@bp.get("/")
def overview():
    """Every article's places on one map, with filters, layers, search, list view and share/embed."""
    spec = views.overview_spec(get_db(), request.args, base_spec(
        data_url=url_for("api.features"), embed_path=url_for("embed.overview"),
        density_url=url_for("api.density"), export_url=request.script_root + "/api/export",
        controls=ALL_CONTROLS | {"density", "downloads"}))
    return render_template("maps/overview.html", map=render(spec), ids=PANEL_IDS, share_ids=SHARE_IDS,
                           density_ids=DENSITY_IDS, download_ids=DOWNLOAD_IDS)


# The orders the article index offers: newest first, or by source (A to Z, articles without one last).
ARTICLE_ORDERS = {
    "date": "a.published IS NULL, a.published DESC, a.id DESC",
    "source": "a.source = '', lower(a.source), a.published IS NULL, a.published DESC, a.id DESC",
}
ARTICLES_PER_PAGE = 100


@bp.get("/articles")
def articles():
    """Every article, newest first or by source, with its number of places; ?sort=date|source&page=N."""
    sort = request.args.get("sort", "date")
    if sort not in ARTICLE_ORDERS:
        raise InvalidInput("sort must be 'date' or 'source'", field="sort")
    page_text = request.args.get("page", "1")
    if not (page_text.isascii() and page_text.isdigit() and 1 <= int(page_text) <= 10**9):
        raise InvalidInput("page must be a whole number from 1", field="page")
    page = int(page_text)
    db = get_db()
    total = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    rows = db.execute(
        "SELECT a.id, a.title, a.source, a.published,"
        " (SELECT COUNT(DISTINCT m.place_id) FROM mentions m WHERE m.article_id = a.id) AS place_count"
        f" FROM articles a ORDER BY {ARTICLE_ORDERS[sort]} LIMIT ? OFFSET ?",
        (ARTICLES_PER_PAGE, (page - 1) * ARTICLES_PER_PAGE)).fetchall()
    pages = max(1, -(-total // ARTICLES_PER_PAGE))
    return render_template("maps/articles.html", rows=rows, sort=sort, page=page, pages=pages, total=total)


@bp.get("/articles/<article_id>")
def article(article_id: str):
    """One article: metadata, text with its place mentions marked (a range of them from ?offset= when there are
    very many, with links to the others), and its own map."""
    db = get_db()
    view = views.load_article(db, article_id, offset=whole_number(request.args.get("offset"), "offset", default=0))
    spec = views.article_spec(db, view, request.args, base_spec(
        url_state=None, marks="#article-text", controls=frozenset({"list", "fit", "share"}),
        embed_path=url_for("embed.article", article_id=view.row["id"])))
    # Arriving from a popup (?place=...): that place's mentions are highlighted and its popup opens.
    current_place = request.args.get("place", "")[:200]
    spec.state["sel"] = current_place
    # A logged-in editor also gets the correction tools (static/map/corrections.js) and the undo list.
    editor = g.get("user") is not None
    undo = corrections.undo_targets(db, view.row["id"]) if editor else []
    response = make_response(render_template(
        "maps/article.html", article=view, current_place=current_place, map=render(spec), ids=PANEL_IDS,
        share_ids=SHARE_IDS, editor=editor, corrections=undo, download_ids=DOWNLOAD_IDS))
    if editor:  # the page holds the editor's CSRF token: never cached
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/places/<path:place_id>")
def place(place_id: str):
    """One place: on a map, its names, and the articles and sentences that mention it (newest first, a range
    from ?offset= at a time)."""
    db = get_db()
    view = views.load_place(db, place_id, offset=whole_number(request.args.get("offset"), "offset", default=0))
    spec = views.place_spec(db, view, request.args, base_spec(
        url_state=None, controls=frozenset({"fit", "share"}),
        embed_path=url_for("embed.place", place_id=view.place.id)))
    country = country_names(db).get(view.place.country_code or "") if view.place.country_code else None
    return render_template("maps/place.html", place=view, map=render(spec), ids=PANEL_IDS, share_ids=SHARE_IDS,
                           country=country, kind=feature_label(view.place.feature),
                           download_ids=DOWNLOAD_IDS)


SEARCH_PER_PAGE = 50


@bp.get("/search")
def search():
    """Full-text search of the articles (?q=, ?page=): matches with escaped snippets, their places on a map."""
    from mapapp.articles.search import search as search_articles
    from mapapp.maps.filters import MapFilters

    q = (request.args.get("q") or "").strip()
    page = whole_number(request.args.get("page"), "page", minimum=1, maximum=10**6, default=1)
    if not q:
        return render_template("maps/search.html", q="", total=0, hits=[], page=1, pages=1, map=None, ids=PANEL_IDS,
                               share_ids=SHARE_IDS)
    db = get_db()
    total, hits = search_articles(db, q, limit=SEARCH_PER_PAGE, offset=(page - 1) * SEARCH_PER_PAGE)
    # The map shows the places of every matching article, as the overview does with ?text=.
    spec = views.inline_spec(db, MapFilters(text=q), request.args, base_spec(
        url_state=None, controls=frozenset({"list", "fit", "share"}), embed_path=url_for("embed.overview")))
    spec = replace(spec, fixed_params={"text": q})
    return render_template("maps/search.html", q=q, total=total, hits=hits, page=page,
                           pages=max(1, -(-total // SEARCH_PER_PAGE)), map=render(spec), ids=PANEL_IDS,
                           share_ids=SHARE_IDS)


@bp.get("/outlines.json")
def outlines():
    """Country outlines from the gazetteer (GeoJSON), the basemap when tiles cannot load."""
    collection = basemap.country_outlines(get_db(), current_app.config["DATABASE"])
    response = jsonify(collection)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
