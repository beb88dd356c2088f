"""Blueprint 'admin' (/admin): search, edit, version and review the gazetteer; logged-in users only.

Pages are server-rendered forms (they work without JavaScript except for the map); static/admin/admin.js
adds the map editing, the live shape preview and the impact preview (JSON, same validation). Every POST
accepts a form or a JSON object and answers in kind.
"""
from __future__ import annotations

import json
import threading
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import UnsupportedMediaType

from mapapp import review
from mapapp.db import get_db, transaction
from mapapp.errors import Conflict, InvalidInput, MapappError
from mapapp.escaping import script_json
from mapapp.gazetteer import editing, history, search, validation
from mapapp.gazetteer.place import (
    country_names,
    feature_label,
    place_context,
    read_place,
    read_places,
)
from mapapp.params import MAX_ID, load_json, record_id, text_value, whole_number
from mapapp.web import auth
from mapapp.web.clients import wants_json

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(auth.login_required_here)
bp.after_request(auth.private_headers)

PAGE_SIZE = 50
# A queued re-resolution older than this (seconds) belongs to no running save: the next request finishes it.
LEFTOVER_AGE = 60
_STARTED = time.time()
_LEFTOVER_LOCK = threading.Lock()
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@bp.context_processor
def _template_helpers() -> dict:
    return {"script_json": script_json}


# --------------------------------------------------------------------------------------------- helpers
def _user() -> str:
    return g.user["username"]


def _payload() -> dict:
    """The request's fields: a JSON object or a form; anything else is refused (415)."""
    if request.is_json:
        data = load_json(request.get_data(cache=True), "body")
        if not isinstance(data, dict):
            raise InvalidInput("the request body is not a JSON object", field="body")
        return data
    if request.mimetype in FORM_TYPES:
        return {key: request.form.get(key) for key in request.form if key != "csrf_token"}
    raise UnsupportedMediaType("send a form or a JSON object (Content-Type: application/json)")


def _json_reply() -> bool:
    return request.is_json or wants_json()


def _gazetteer():
    from mapapp.gazetteer import get_gazetteer

    return get_gazetteer()


def _geoparser():
    from mapapp.geoparse import get_geoparser

    return get_geoparser()


def _names(*places) -> set[str]:
    return {name for place in places if place is not None for name in (place.name, *place.aliases)}


def _queue(conn, names, place_ids) -> int:
    """Queue the re-resolution a change causes (call inside the change's transaction); returns its id."""
    from mapapp.articles import queue_reresolution

    return queue_reresolution(conn, names=names, place_ids=place_ids)


def _reresolve(pending_id: int) -> int:
    """Re-resolve, against the just-saved gazetteer, every article the queued change may touch; mentions changed."""
    from mapapp.articles import reresolve_pending

    _pause_for_tests()
    _gazetteer().invalidate()
    return reresolve_pending(get_db(), _geoparser(), [pending_id])


def _pause_for_tests() -> None:
    """Test-only: with TEST_PAUSE_FIFO set (env MAPAPP_TEST_PAUSE_FIFO), stop between commit and re-resolution.

    The server says "paused" into the FIFO (opening it blocks until the test reads), then waits until the test
    writes to it and closes it, so that a test can kill the process at exactly this point, or let it go on.
    """
    fifo = current_app.config.get("TEST_PAUSE_FIFO")
    if not fifo:
        return
    with open(fifo, "w", encoding="utf-8") as handle:
        handle.write("paused\n")
    with open(fifo, encoding="utf-8") as handle:
        handle.read()


@bp.before_app_request
def _finish_leftovers() -> None:
    """Before each request: finish the re-resolutions a crashed save left behind.

    Only rows queued before this process started or over LEFTOVER_AGE ago: no running save owns those.
    """
    if request.endpoint in (None, "static") or (request.blueprint or "") == "assets":
        return
    if not _LEFTOVER_LOCK.acquire(blocking=False):
        return  # another thread of this process is finishing them
    try:
        from mapapp.articles import has_pending, reresolve_pending

        conn = get_db()
        cutoff = max(_STARTED, time.time() - LEFTOVER_AGE)
        if has_pending(conn, older_than=cutoff):
            _gazetteer().refresh_if_stale()
            reresolve_pending(conn, _geoparser(), older_than=cutoff)
    except Exception:  # the visitor's request must not fail for it; the queue keeps the work
        current_app.logger.exception("finishing a queued re-resolution failed; it stays queued")
    finally:
        _LEFTOVER_LOCK.release()


def _saved(place, message: str, changed: int, status: int = 200):
    if _json_reply():
        body = {"place": place.to_record() if place else None, "reresolved_mentions": changed}
        return jsonify(body), status
    flash(f"{message} {changed} mention(s) in the articles now resolve differently.")
    return redirect(url_for("admin.edit_place", place_id=place.id) if place else url_for("admin.index"))


def _form_page(place, values: dict, *, errors=None, conflict=None, status=200, new=False):
    conn = get_db()
    return render_template("admin/edit.html", place=place, values=values, errors=errors or {},
                           conflict=conflict, new=new, features=validation.feature_classes(conn),
                           record=place.to_record() if place else None), status


def _form_values(place) -> dict:
    if place is None:
        return {"name": request.args.get("name", ""), "aliases": "", "feature": "village", "country_code": "",
                "population": "", "notes": "", "lat": request.args.get("lat", ""),
                "lon": request.args.get("lon", ""), "geometry": "", "id": ""}
    rec = place.to_record()
    return {**{key: rec[key] for key in validation.EDITABLE}, "aliases": "\n".join(place.aliases),
            "country_code": place.country_code or "", "geometry": _geometry_text(place.geometry)}


def _geometry_text(geometry) -> str:
    return json.dumps(geometry) if geometry else ""


def _failed(error: MapappError, place, data: dict, *, new=False):
    """A rejected form: show it again with the errors (JSON clients get the error itself)."""
    if _json_reply() or (place is None and not new):  # JSON, or the place is gone: the error page says why
        raise error
    values = {**(_form_values(place) if place else _form_values(None)), **data}
    errors = error.detail.get("errors") or {error.field or "form": error.message}
    conflict = error.detail.get("current") if isinstance(error, Conflict) else False
    return _form_page(place, values, errors=errors, conflict=conflict, status=error.status, new=new)


# --------------------------------------------------------------------------------------------- browse
@bp.get("/")
def index():
    """Search and browse places by name/alias, feature, country and source, shown on a map."""
    conn = get_db()
    filters = {key: request.args.get(key, "").strip() for key in ("q", "feature", "country", "source")}
    page = whole_number(request.args.get("page"), "page", minimum=1, maximum=MAX_ID // PAGE_SIZE, default=1)
    places, total = search.search_places(conn, **filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    if wants_json():
        return jsonify({"places": [p.to_record() for p in places], "total": total})
    return render_template("admin/index.html", places=places, total=total, filters=filters, page=page,
                           where=place_context(conn, places), feature_label=feature_label,
                           page_size=PAGE_SIZE, features=validation.feature_classes(conn),
                           sources=search.sources(conn),
                           map_data=[_map_item(p) for p in places])


def _map_item(place) -> dict:
    return {"id": place.id, "name": place.name, "feature": place.feature, "lat": place.lat, "lon": place.lon,
            "geometry": place.geometry, "url": url_for("admin.edit_place", place_id=place.id)}


@bp.get("/places/new")
def new_place():
    """The empty place form (prefilled from ?name=, ?lat=, ?lon=, e.g. from the review queue)."""
    return _form_page(None, _form_values(None), new=True)


@bp.get("/places/<place_id>")
def edit_place(place_id: str):
    """The edit form of one place (JSON clients: its record)."""
    conn = get_db()
    place = editing.get_place(conn, place_id)
    if wants_json():
        return jsonify({"place": place.to_record()})
    return _form_page(place, _form_values(place))


# --------------------------------------------------------------------------------------------- writes
@bp.post("/places")
def create_place():
    """Create a place from a form or JSON; re-resolve the articles that name it."""
    data = _payload()
    conn = get_db()
    try:
        with transaction(conn):
            place = editing.create_place(conn, data, _user())
            pending = _queue(conn, _names(place), [place.id])
    except (InvalidInput, Conflict) as error:
        return _failed(error, None, data, new=True)
    changed = _reresolve(pending)
    return _saved(place, f"Created {place.name} ({place.id}).", changed, 201)


@bp.post("/places/<place_id>")
def update_place(place_id: str):
    """Save an edit made at `version`; 409 with the current record if someone saved first."""
    data = _payload()
    conn = get_db()
    try:
        with transaction(conn):
            before = editing.get_place(conn, place_id)
            place = editing.update_place(conn, place_id, data, data.get("version"), _user())
            pending = _queue(conn, _names(before, place), [place_id])
    except (InvalidInput, Conflict) as error:
        return _failed(error, read_place(conn, place_id), data)
    changed = _reresolve(pending)
    return _saved(place, f"Saved {place.name}, version {place.version}.", changed)


@bp.post("/places/<place_id>/delete")
def delete_place(place_id: str):
    """Delete a place seen at `version` (restorable from the deleted places list)."""
    data = _payload()
    conn = get_db()
    try:
        with transaction(conn):
            place = editing.delete_place(conn, place_id, data.get("version"), _user())
            pending = _queue(conn, _names(place), [place_id])
    except Conflict as error:
        return _failed(error, read_place(conn, place_id), {})
    changed = _reresolve(pending)
    if _json_reply():
        return jsonify({"deleted": place_id, "reresolved_mentions": changed})
    flash(f"Deleted {place.name} ({place_id}); restore it from the deleted places. "
          f"{changed} mention(s) now resolve differently.")
    return redirect(url_for("admin.deleted"))


@bp.post("/places/<place_id>/restore")
def restore_place(place_id: str):
    """Restore `version` of a place (as a new version) that the editor saw at `expected_version`."""
    data = _payload()
    conn = get_db()
    with transaction(conn):
        before = read_place(conn, place_id)
        place = editing.restore_version(conn, place_id, data.get("version"), data.get("expected_version"),
                                        _user())
        pending = _queue(conn, _names(before, place), [place_id])
    changed = _reresolve(pending)
    return _saved(place, f"Restored version {data.get('version')} of {place.name} as version "
                         f"{place.version}.", changed)


@bp.post("/impact")
def impact():
    """How many mentions in how many articles would resolve differently if this edit were saved (JSON)."""
    from mapapp.articles import affected_articles, preview_reresolve

    data = _payload()
    conn = get_db()
    place_id = text_value(data.get("place_id"), "place_id")
    before = editing.get_place(conn, place_id) if place_id else None
    if data.get("delete"):
        upserts, deleted, proposed = [], {place_id}, None
    else:
        proposed = editing.propose(conn, data, place_id)
        upserts, deleted = [proposed], set()
    ids = affected_articles(conn, names=sorted(_names(before, proposed)),
                            place_ids=[place_id] if place_id else [])
    view = _gazetteer().with_overrides(upserts, deleted)
    mentions, articles = preview_reresolve(conn, _geoparser(), ids, gazetteer=view) if ids else (0, 0)
    return jsonify({"mentions": mentions, "articles": articles, "articles_checked": len(ids)})


# --------------------------------------------------------------------------------------------- history
@bp.get("/places/<place_id>/history")
def place_history(place_id: str):
    """Every change of a place, with view, compare and restore."""
    conn = get_db()
    entries = history.history(conn, place_id)
    current = read_place(conn, place_id)
    if not entries and current is None:
        abort(404, f"no place {place_id!r}")
    if wants_json():
        return jsonify({"place_id": place_id, "history": entries})
    rows = [{**entry, "changes": history.diff(entry["before"], entry["after"])} for entry in entries]
    return render_template("admin/history.html", place_id=place_id, current=current, entries=rows,
                           versions=history.versions(conn, place_id), latest=_latest_version(conn, place_id))


def _latest_version(conn, place_id: str) -> int:
    current = read_place(conn, place_id)
    if current is not None:
        return current.version
    row = conn.execute("SELECT max(version) FROM place_history WHERE place_id = ?", (place_id,)).fetchone()
    return row[0] or 0


@bp.get("/places/<place_id>/versions/<version>")
def place_version(place_id: str, version: str):
    """One version of a place, on a map, with a restore button."""
    conn = get_db()
    rec = history.version_record(conn, place_id, record_id(version, "version", what=f"version of {place_id}"))
    if wants_json():
        return jsonify({"place": rec})
    return render_template("admin/version.html", place_id=place_id, rec=rec,
                           latest=_latest_version(conn, place_id), deleted=read_place(conn, place_id)
                           is None)


@bp.get("/places/<place_id>/compare")
def compare_versions(place_id: str):
    """The field-by-field difference between versions ?a= and ?b=."""
    conn = get_db()
    a = history.version_record(conn, place_id, request.args.get("a"))
    b = history.version_record(conn, place_id, request.args.get("b"))
    changes = history.diff(a, b)
    if wants_json():
        return jsonify({"a": a["version"], "b": b["version"],
                        "changes": [{"field": f, "a": x, "b": y} for f, x, y in changes]})
    countries = country_names(conn)
    readable = [(field, _readable(field, old, countries), _readable(field, new, countries))
                for field, old, new in changes]
    return render_template("admin/compare.html", place_id=place_id, a=a, b=b, changes=readable)


def _points(coordinates) -> int:
    if coordinates and isinstance(coordinates[0], (int, float)):
        return 1
    return sum(_points(part) for part in coordinates or [])


def _readable(field: str, value, countries: dict) -> str:
    """A stored field's value as a reader says it: no Python None, no raw JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return "(none)"
    if field == "geometry" and isinstance(value, dict):
        points = _points(value.get("coordinates")) if "coordinates" in value else 0
        return f"{value.get('type', 'shape')} with {points:,} points" if points else str(value.get("type", "shape"))
    if field == "feature":
        return feature_label(str(value))
    if field == "country_code":
        return f"{countries.get(str(value), value)} ({value})"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_readable(k, v, countries)}" for k, v in value.items())
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@bp.get("/deleted")
def deleted():
    """Deleted places, each restorable to the version it had when deleted."""
    entries = history.deleted_places(get_db())
    if wants_json():
        return jsonify({"deleted": entries})
    return render_template("admin/deleted.html", entries=entries)


# --------------------------------------------------------------------------------------------- review
@bp.get("/review")
def review_queue():
    """Mentions left unresolved or resolved with low confidence, grouped by name."""
    conn = get_db()
    threshold = current_app.config["REVIEW_SCORE_THRESHOLD"]
    groups = review.queue(conn, threshold=threshold)
    from mapapp.articles.corrections import review_items

    corrected = review_items(conn)
    if wants_json():
        return jsonify({"groups": groups, "corrected": corrected})
    # The places the queue names, in words: name, kind and where (not a bare gn:… id).
    ids = sorted({pid for group in groups for pid in group["place_ids"]})
    places = read_places(conn, ids)
    where = place_context(conn, places.values())
    named = {pid: {"name": p.name, "kind": feature_label(p.feature), "where": where.get(pid, "")}
             for pid, p in places.items()}
    return render_template("admin/review.html", groups=groups, not_places=review.not_places(conn), places=named,
                           corrected=corrected)


def _reviewed(pending, reply: dict, message):
    """Re-resolve what a review action affects, then answer: JSON with the count, or `message(count)` and back."""
    changed = _reresolve(pending)
    if _json_reply():
        return jsonify({**reply, "reresolved_mentions": changed})
    flash(message(changed))
    return redirect(url_for("admin.review_queue"))


@bp.post("/review/alias")
def review_alias():
    """Add a reviewed name as an alias of an existing place (a versioned update)."""
    data = _payload()
    conn = get_db()
    place_id = str(data.get("place_id") or "").strip()
    if not place_id:
        raise InvalidInput("choose the place this name is an alias of", field="place_id")
    with transaction(conn):
        before = editing.get_place(conn, place_id)
        version = data.get("version") or before.version
        place = editing.add_alias(conn, place_id, data.get("name"), version, _user())
        pending = _queue(conn, _names(before, place), [place_id])
    return _reviewed(pending, {"place": place.to_record()},
                     lambda changed: f"Added the alias to {place.name} (version {place.version}); "
                                     f"{changed} mention(s) changed.")


@bp.post("/review/not-place")
def review_not_place():
    """Mark a name as "not a place here" and re-resolve the articles that contain it."""
    data = _payload()
    conn = get_db()
    with transaction(conn):
        key = review.mark_not_place(conn, data.get("name"), _user())
        pending = _queue(conn, {key}, [])
    return _reviewed(pending, {"not_place": key},
                     lambda changed: f"{data.get('name')!s} is no longer read as a place; "
                                     f"{changed} mention(s) changed.")


@bp.post("/review/not-place/undo")
def review_not_place_undo():
    """Read a name marked "not a place" as a place again."""
    data = _payload()
    conn = get_db()
    with transaction(conn):
        name = review.unmark_not_place(conn, str(data.get("key") or ""))
        pending = _queue(conn, {name}, [])
    return _reviewed(pending, {"restored": name},
                     lambda changed: f"{name} is read as a place again; {changed} mention(s) changed.")


# --------------------------------------------------------------------------------------------- corrections
# Editors correct single mentions on the article page (static/map/corrections.js); the pins, their history
# and undo live in mapapp.articles.corrections.
def _queue_correction(conn, entry: dict) -> int:
    """Queue the re-resolution of a correction's article (inside the correction's transaction)."""
    place_ids = [entry["place_id"], (entry["before"] or {}).get("place_id"), (entry["after"] or {}).get("place_id")]
    return _queue(conn, {entry["text"]}, [pid for pid in place_ids if pid])


def _corrected(entry: dict, pending: int, status: int = 200):
    """Re-resolve the corrected article at once and answer: JSON with the correction, or back to the article."""
    from mapapp.articles import reresolve, reresolve_pending

    conn = get_db()
    changed = reresolve_pending(conn, _geoparser(), [pending])
    # The queued names find the article in nearly every case; re-reading it directly makes sure.
    changed += reresolve(conn, _geoparser(), [entry["article_id"]])
    if _json_reply():
        return jsonify({"correction": entry, "reresolved_mentions": changed,
                        "mention": _mention_at(conn, entry)}), status
    place = entry["place_id"] if entry["action"] == "place" and entry["undone_at"] is None else None
    return redirect(url_for("public.article", article_id=entry["article_id"], place=place))


def _mention_at(conn, entry: dict) -> dict | None:
    row = conn.execute("SELECT m.kind, m.place_id, m.score, p.name AS place_name FROM mentions m"
                       " LEFT JOIN places p ON p.id = m.place_id WHERE m.article_id = ? AND m.start = ?"
                       ' AND m."end" = ?', (entry["article_id"], entry["start"], entry["end"])).fetchone()
    return dict(row) if row is not None else None


@bp.get("/corrections/candidates")
def correction_candidates():
    """What a span of an article could mean (?article_id=&start=&end=): current place, alternatives, namesakes."""
    from mapapp.articles import corrections

    args = request.args
    return jsonify(corrections.candidates(get_db(), args.get("article_id"), args.get("start"), args.get("end")))


@bp.get("/corrections/search")
def correction_search():
    """Gazetteer search for the correction panel (?q=): places described as candidates are."""
    from mapapp.articles import corrections

    conn = get_db()
    q = text_value(request.args.get("q"), "q") or ""
    if not q:
        raise InvalidInput("type a name to search for", field="q")
    places, total = search.search_places(conn, q=q, limit=corrections.MAX_CANDIDATES)
    return jsonify({"q": q, "total": total, "places": corrections.describe_places(conn, [p.id for p in places])})


@bp.post("/corrections")
def create_correction():
    """Correct one mention: `action` place (with `place_id`) or not_place, at article_id/start/end (text checks)."""
    from mapapp.articles import corrections

    data = _payload()
    conn = get_db()
    with transaction(conn):
        entry = corrections.correct(conn, data, _user())
        pending = _queue_correction(conn, entry)
    return _corrected(entry, pending, 201)


@bp.post("/corrections/<correction_id>/undo")
def undo_correction(correction_id: str):
    """Undo a correction: the span reads as before it (an earlier correction, or the geoparser)."""
    from mapapp.articles import corrections

    _payload()
    conn = get_db()
    with transaction(conn):
        entry = corrections.undo(conn, correction_id, _user())
        pending = _queue_correction(conn, entry)
    return _corrected(entry, pending)


@bp.get("/corrections/export")
def export_corrections():
    """Every corrected article as GeoCorpora-style JSON lines (training and evaluation annotations)."""
    import io

    from mapapp.articles import corrections

    out = io.StringIO()
    corrections.write_export(get_db(), out)
    response = current_app.response_class(out.getvalue(), mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = "attachment; filename=mapapp-corrections.jsonl"
    return response


# --------------------------------------------------------------------------------------------- add articles
# Editors add articles by URL (mapapp.articles.urls): fetched politely, duplicates skipped, one result per URL.
MAX_FORM_URLS = 20  # a form's URLs are fetched while the editor waits: one host's delay each
FORM_BUDGET = 60.0  # seconds: URLs not started by then are reported as not fetched (FETCH_FORM_BUDGET)


def _fetcher():
    """The app's one Fetcher, so that its per-host delay holds across requests (FETCH_* settings)."""
    from mapapp.articles.fetch import DEFAULT_DELAY, DEFAULT_TIMEOUT, Fetcher

    fetcher = current_app.extensions.get("mapapp.fetcher")
    if fetcher is None:
        config = current_app.config
        fetcher = current_app.extensions["mapapp.fetcher"] = Fetcher(
            timeout=config.get("FETCH_TIMEOUT", DEFAULT_TIMEOUT), delay=config.get("FETCH_DELAY", DEFAULT_DELAY),
            # An editor's URL must not reach the server's own network (FETCH_ALLOW_PRIVATE=True allows it).
            allow_private=bool(config.get("FETCH_ALLOW_PRIVATE", False)),
            **({"max_bytes": config["FETCH_MAX_BYTES"]} if config.get("FETCH_MAX_BYTES") else {}))
    return fetcher


@bp.get("/articles/new")
def new_articles():
    """The "Add article" form: one or more article URLs, one a line."""
    return render_template("admin/add_articles.html", urls="", outcomes=None, error=None)


@bp.post("/articles")
def add_articles():
    """Fetch and ingest the URLs of the `urls` field (whitespace-separated); one result per URL, never a 500."""
    from mapapp.articles.near import HomeRegions, load_sources
    from mapapp.articles.urls import ingest_urls

    data = _payload()
    try:
        raw = text_value(data.get("urls"), "urls", max_length=MAX_FORM_URLS * 2100) or ""
        urls = list(dict.fromkeys(raw.split()))
        if not urls:
            raise InvalidInput("paste at least one article URL", field="urls")
        if len(urls) > MAX_FORM_URLS:
            raise InvalidInput(f"{len(urls)} URLs: at most {MAX_FORM_URLS} at a time", field="urls")
    except InvalidInput as error:
        if _json_reply():
            raise
        return render_template("admin/add_articles.html", urls=data.get("urls") if isinstance(
            data.get("urls"), str) else "", outcomes=None, error=error.message), error.status
    parser = _geoparser()
    regions = HomeRegions(parser.gazetteer, sources=load_sources(current_app.config["DATA_DIR"]))
    fetcher = _fetcher()
    try:
        outcomes = ingest_urls(get_db(), parser, urls, fetcher=fetcher, regions=regions, progress=False,
                               budget=current_app.config.get("FETCH_FORM_BUDGET", FORM_BUDGET))
    finally:
        fetcher.release()
    if _json_reply():
        return jsonify({"results": [outcome.to_dict() for outcome in outcomes]})
    return render_template("admin/add_articles.html", urls="", outcomes=outcomes, error=None)
