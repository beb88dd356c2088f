"""The admin pages: login, search, create/edit/delete/restore, history, conflicts, impact and re-resolution."""
from __future__ import annotations

import json
import re

from admin_support import VILLAGE, db_path, make_app, make_small_data_dir, post_form, post_json, row, rows, snapshot

ARTICLE = ("Shelling near Zorvanik, a village east of Yerevan, was reported on Tuesday. "
           "Residents of Zorvanik said the road to Yerevan was closed.")


def ingest(app, tmp_path, text=ARTICLE, name="zorvanik.txt") -> int:
    """Ingest one article through the articles package with the app's own geoparser."""
    from mapapp.articles import ingest_paths
    from mapapp.db import get_db
    from mapapp.geoparse import get_geoparser

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with app.app_context():
        [article_id] = ingest_paths(get_db(), get_geoparser(), [path], progress=False)
    return article_id


def mentions_of(app, article_id):
    return {(r["text"], r["place_id"]) for r in rows(app, "SELECT text, place_id FROM mentions WHERE article_id = ?",
                                                       article_id)}


# --------------------------------------------------------------------------------------------- access
def test_admin_redirects_to_login_with_next(anon):
    response = anon.get("/admin/review?x=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/admin/review?x%3D1"


def test_json_clients_get_401(anon):
    response = anon.get("/admin/", headers={"Accept": "application/json"})
    assert response.status_code == 401 and response.is_json
    assert anon.get("/admin/review", headers={"X-Requested-With": "XMLHttpRequest"}).status_code == 401


def test_fresh_install_tells_how_to_create_an_account(tmp_path):
    app = make_app(make_small_data_dir(tmp_path / "fresh"))
    page = app.test_client().get("/auth/login").get_data(as_text=True)
    assert "mapapp admin create-user NAME" in page
    assert row(app, "SELECT count(*) AS n FROM users")["n"] == 0


def test_login_page_hides_the_hint_once_an_account_exists(anon):
    assert "create-user" not in anon.get("/auth/login").get_data(as_text=True)


def test_login_then_logout_ends_the_session_on_the_server(small_app, alice):
    assert alice.get("/admin/").status_code == 200
    assert row(small_app, "SELECT count(*) AS n FROM user_sessions")["n"] == 1
    response = post_form(alice, "/auth/logout", {})
    assert response.status_code == 302
    assert row(small_app, "SELECT count(*) AS n FROM user_sessions")["n"] == 0
    assert alice.get("/admin/").status_code == 302


# --------------------------------------------------------------------------------------------- browse
def test_search_lists_places_and_their_map_data(alice):
    page = alice.get("/admin/?q=erevan").get_data(as_text=True)
    assert 'data-place-id="gn:616052"' in page
    data = json.loads(re.search(r'id="admin-data">(.*?)</script>', page, re.S).group(1))
    assert [p["id"] for p in data["places"]] == ["gn:616052"]
    listing = alice.get("/admin/?feature=country", headers={"Accept": "application/json"}).get_json()
    assert {p["id"] for p in listing["places"]} == {"gn:174982", "gn:587116"} and listing["total"] == 2


def test_edit_page_shows_the_place_and_its_version(alice):
    page = alice.get("/admin/places/gn:174982").get_data(as_text=True)
    assert 'name="version" value="1"' in page and 'value="Armenia"' in page
    assert alice.get("/admin/places/gn:0").status_code == 404


def test_new_place_form_is_prefilled_from_the_query(alice):
    page = alice.get("/admin/places/new?name=Zorvanik&lat=39.9&lon=46.6").get_data(as_text=True)
    assert 'value="Zorvanik"' in page and 'value="39.9"' in page


# --------------------------------------------------------------------------------------------- writes
def test_create_by_form_stores_the_place_and_its_history(small_app, alice):
    form = {**VILLAGE, "aliases": "Zorvanikh\nZorvanik"}
    response = post_form(alice, "/admin/places", form)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/places/admin:zorvanik"
    stored = row(small_app, "SELECT * FROM places WHERE id = 'admin:zorvanik'")
    assert (stored["name"], stored["lat"], stored["lon"], stored["version"], stored["source"], stored["updated_by"]) \
        == ("Zorvanik", 39.95, 46.62, 1, "admin", "alice")
    assert [r["name"] for r in rows(small_app, "SELECT name FROM place_names WHERE place_id = 'admin:zorvanik' "
                                               "AND kind = 'alias'")] == ["Zorvanikh"]
    history = rows(small_app, "SELECT * FROM place_history WHERE place_id = 'admin:zorvanik'")
    assert [(h["action"], h["user"], h["version"]) for h in history] == [("create", "alice", 1)]
    assert json.loads(history[0]["after"])["aliases"] == ["Zorvanikh"]
    assert "Created Zorvanik" in alice.get(response.headers["Location"]).get_data(as_text=True)


def test_create_by_json_answers_201_with_the_record(small_app, alice):
    response = post_json(alice, "/admin/places", {**VILLAGE, "id": "admin:zv"})
    assert response.status_code == 201
    assert response.get_json()["place"]["id"] == "admin:zv"
    assert row(small_app, "SELECT name FROM places WHERE id = 'admin:zv'")["name"] == "Zorvanik"


def test_invalid_form_is_shown_again_with_field_errors_and_nothing_stored(small_app, alice):
    before = snapshot(db_path(small_app))
    response = post_form(alice, "/admin/places", {**VILLAGE, "lat": "91", "name": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="error-lat"' in page and "lat must be within [-90, 90]" in page
    assert 'id="error-name"' in page and "name is required" in page
    assert 'value="46.62"' in page  # the editor's other values are kept
    assert snapshot(db_path(small_app)) == before


def test_update_delete_restore_cycle(small_app, alice):
    post_json(alice, "/admin/places", VILLAGE)
    assert post_json(alice, "/admin/places/admin:zorvanik", {"population": 500, "version": 1}).status_code == 200
    response = post_form(alice, "/admin/places/admin:zorvanik/delete", {"version": 2})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/deleted"
    assert row(small_app, "SELECT * FROM places WHERE id = 'admin:zorvanik'") is None
    deleted_page = alice.get("/admin/deleted").get_data(as_text=True)
    assert 'data-place-id="admin:zorvanik"' in deleted_page
    response = post_form(alice, "/admin/places/admin:zorvanik/restore", {"version": 2, "expected_version": 2})
    assert response.status_code == 302
    stored = row(small_app, "SELECT * FROM places WHERE id = 'admin:zorvanik'")
    assert (stored["population"], stored["version"]) == (500, 3)
    actions = [r["action"] for r in rows(small_app, "SELECT action FROM place_history "
                                                    "WHERE place_id = 'admin:zorvanik' ORDER BY id")]
    assert actions == ["create", "update", "delete", "restore"]


def test_history_page_compare_and_version_view(alice):
    post_json(alice, "/admin/places", VILLAGE)
    post_json(alice, "/admin/places/admin:zorvanik", {"name": "Zorvanik Nor", "version": 1})
    page = alice.get("/admin/places/admin:zorvanik/history").get_data(as_text=True)
    assert page.count("<tr data-version=") == 2 and "Undo: restore version 1" in page
    diff = alice.get("/admin/places/admin:zorvanik/compare?a=1&b=2",
                     headers={"Accept": "application/json"}).get_json()
    assert {"field": "name", "a": "Zorvanik", "b": "Zorvanik Nor"} in diff["changes"]
    html = alice.get("/admin/places/admin:zorvanik/compare?a=1&b=2").get_data(as_text=True)
    assert 'data-field="name"' in html
    version = alice.get("/admin/places/admin:zorvanik/versions/1").get_data(as_text=True)
    assert "Zorvanik" in version and "Restore this version" in version
    assert alice.get("/admin/places/admin:zorvanik/versions/9").status_code == 404
    assert alice.get("/admin/places/admin:zorvanik/compare?a=1&b=x").status_code == 400


def test_two_editors_save_the_same_version_one_gets_409(small_app, alice, bob):
    post_json(alice, "/admin/places", VILLAGE)
    # Both open version 1 of the form.
    for client in (alice, bob):
        assert 'name="version" value="1"' in client.get("/admin/places/admin:zorvanik").get_data(as_text=True)
    first = post_form(alice, "/admin/places/admin:zorvanik", {**VILLAGE, "aliases": "", "population": "600",
                                                              "version": "1"})
    assert first.status_code == 302
    second = post_json(bob, "/admin/places/admin:zorvanik", {**VILLAGE, "population": 700, "version": 1})
    assert second.status_code == 409
    body = second.get_json()
    assert body["field"] == "version" and body["current"]["population"] == 600 and body["current"]["version"] == 2
    third = post_form(bob, "/admin/places/admin:zorvanik", {**VILLAGE, "aliases": "", "population": "800",
                                                            "version": "1"})
    assert third.status_code == 409 and 'id="conflict"' in third.get_data(as_text=True)
    # The re-shown form still carries version 1: saving it again cannot overwrite alice's edit.
    assert 'name="version" value="1"' in third.get_data(as_text=True)
    assert row(small_app, "SELECT population FROM places WHERE id = 'admin:zorvanik'")["population"] == 600
    history = rows(small_app, "SELECT action, \"user\", version FROM place_history WHERE place_id = 'admin:zorvanik' "
                              "ORDER BY id")
    assert [tuple(h) for h in history] == [("create", "alice", 1), ("update", "alice", 2)]


def test_restore_with_a_stale_expected_version_is_refused(small_app, alice):
    post_json(alice, "/admin/places", VILLAGE)
    post_json(alice, "/admin/places/admin:zorvanik", {"population": 1, "version": 1})
    before = snapshot(db_path(small_app))
    response = post_json(alice, "/admin/places/admin:zorvanik/restore", {"version": 1, "expected_version": 1})
    assert response.status_code == 409 and response.get_json()["current"]["version"] == 2
    assert snapshot(db_path(small_app)) == before


def test_admin_headers(alice):
    for url in ("/admin/", "/admin/places/new", "/admin/review", "/admin/deleted", "/auth/login"):
        response = alice.get(url)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


# --------------------------------------------------------------------------------------------- impact
def test_impact_preview_counts_without_writing_then_save_reresolves(small_app, alice, tmp_path):
    article_id = ingest(small_app, tmp_path)
    assert not any(text == "Zorvanik" for text, _ in mentions_of(small_app, article_id))
    before = snapshot(db_path(small_app))
    preview = post_json(alice, "/admin/impact", VILLAGE)
    assert preview.status_code == 200
    predicted = preview.get_json()
    assert predicted["articles"] == 1 and predicted["articles_checked"] == 1 and predicted["mentions"] >= 1
    assert snapshot(db_path(small_app)) == before
    saved = post_json(alice, "/admin/places", VILLAGE)
    # What the preview announced is what the save changed.
    assert saved.get_json()["reresolved_mentions"] == predicted["mentions"]
    resolved = rows(small_app, "SELECT text FROM mentions WHERE article_id = ? AND place_id = 'admin:zorvanik'",
                    article_id)
    assert len(resolved) == predicted["mentions"] and {r["text"] for r in resolved} == {"Zorvanik"}


def test_impact_preview_of_an_invalid_edit_names_the_field(small_app, alice):
    response = post_json(alice, "/admin/impact", {**VILLAGE, "lon": 200})
    assert response.status_code == 400 and response.get_json()["field"] == "lon"


def test_deleting_a_place_reresolves_its_mentions(small_app, alice, tmp_path):
    post_json(alice, "/admin/places", VILLAGE)
    article_id = ingest(small_app, tmp_path)
    assert ("Zorvanik", "admin:zorvanik") in mentions_of(small_app, article_id)
    impact = post_json(alice, "/admin/impact", {"place_id": "admin:zorvanik", "delete": True}).get_json()
    resolved = len(rows(small_app, "SELECT 1 FROM mentions WHERE place_id = 'admin:zorvanik'"))
    assert impact["articles"] == 1 and impact["mentions"] == resolved >= 1
    post_form(alice, "/admin/places/admin:zorvanik/delete", {"version": 1})
    assert all(place != "admin:zorvanik" for _, place in mentions_of(small_app, article_id))


def test_new_place_appears_in_the_map_api(small_app, alice, tmp_path):
    article_id = ingest(small_app, tmp_path)
    post_json(alice, "/admin/places", VILLAGE)
    collection = alice.get(f"/api/features?article={article_id}").get_json()
    ids = {feature["id"] for feature in collection["features"]}
    assert "admin:zorvanik" in ids


def test_simultaneous_saves_of_one_version_let_exactly_one_win(small_app, alice, bob):
    import threading

    post_json(alice, "/admin/places", VILLAGE)
    barrier = threading.Barrier(2)
    statuses = {}

    def save(client, name, population):
        barrier.wait()
        statuses[name] = post_json(client, "/admin/places/admin:zorvanik",
                                   {"population": population, "version": 1}).status_code

    threads = [threading.Thread(target=save, args=(alice, "alice", 111)),
               threading.Thread(target=save, args=(bob, "bob", 222))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses.values()) == [200, 409]
    winner = next(name for name, status in statuses.items() if status == 200)
    stored = row(small_app, "SELECT population, version FROM places WHERE id = 'admin:zorvanik'")
    assert tuple(stored) == ({"alice": 111, "bob": 222}[winner], 2)
    history = rows(small_app, 'SELECT action, "user" FROM place_history'
                              " WHERE place_id = 'admin:zorvanik' ORDER BY id")
    assert [tuple(h) for h in history] == [("create", "alice"), ("update", winner)]


def test_saving_a_place_someone_else_deleted_is_409_not_500(small_app, alice, bob):
    post_json(alice, "/admin/places", VILLAGE)
    post_form(bob, "/admin/places/admin:zorvanik/delete", {"version": 1})
    before = snapshot(db_path(small_app))
    form = post_form(alice, "/admin/places/admin:zorvanik", {**VILLAGE, "aliases": "", "version": "1"})
    assert form.status_code == 404 and "no place" in form.get_data(as_text=True)
    delete = post_form(alice, "/admin/places/admin:zorvanik/delete", {"version": 1})
    assert delete.status_code == 404
    restore = post_form(alice, "/admin/places/admin:zorvanik/restore", {"version": 1, "expected_version": 0})
    assert restore.status_code == 400
    stale = post_form(alice, "/admin/places/admin:zorvanik/restore", {"version": 1, "expected_version": 2})
    assert stale.status_code == 409 and "deleted by someone else" in stale.get_data(as_text=True)
    assert snapshot(db_path(small_app)) == before
