"""Blueprint 'embed': the same map views without site chrome, for <iframe>s on other sites."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from mapapp.db import get_db
from mapapp.maps import views
from mapapp.maps.builder import ALL_CONTROLS, DENSITY_IDS, PANEL_IDS, render
from mapapp.web.public import base_spec

bp = Blueprint("embed", __name__, url_prefix="/embed")

# Links inside a frame open the full site in a new tab instead of replacing the embedding page's frame.
FRAME_LINKS = {"link_target": "_blank"}


@bp.get("/")
def overview():
    """The overview map with the URL's filters and view; `view=density` (with `by`, `count`, `step`, `at`) opens
    the density view, as on the overview."""
    spec = views.overview_spec(get_db(), request.args, base_spec(
        data_url=url_for("api.features"), density_url=url_for("api.density"),
        controls=ALL_CONTROLS | {"density"}, **FRAME_LINKS))
    return render_template("maps/embed.html", map=render(spec), ids=PANEL_IDS, title="Map of places in the news",
                           panel=True, density_ids=DENSITY_IDS)


@bp.get("/articles/<article_id>")
def article(article_id: str):
    """One article's places."""
    db = get_db()
    view = views.load_article(db, article_id, limit=0)  # the embed shows the map only, not the marked text
    spec = views.article_spec(db, view, request.args, base_spec(
        url_state=None, controls=frozenset({"list", "fit"}), **FRAME_LINKS))
    return render_template("maps/embed.html", map=render(spec), ids=PANEL_IDS, title=view.row["title"] or "Article",
                           panel=False)


@bp.get("/places/<path:place_id>")
def place(place_id: str):
    """One place and the articles that mention it."""
    db = get_db()
    view = views.load_place(db, place_id)
    spec = views.place_spec(db, view, request.args, base_spec(
        url_state=None, controls=frozenset({"fit"}), **FRAME_LINKS))
    return render_template("maps/embed.html", map=render(spec), ids=PANEL_IDS, title=view.place.name, panel=False)
