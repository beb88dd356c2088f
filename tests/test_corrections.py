"""Corrections of single mentions on the article page: choose another place, "not a place here", "this is a
place"; versioned, undoable, kept by re-resolution and re-ingest, refused to strangers, exported as annotations."""
# ruff: noqa: F811  (the admin fixtures are imported by name, as in test_review.py, and pytest passes them in)
from __future__ import annotations

import json

import pytest
from admin_support import db_path, post_form, post_json, row, rows, snapshot

from mapapp.db import connect

TEXT = ("Shelling near Karabakh was reported on Monday. Officials in Yerevan said the road to Parukh "
        "was closed. Residents of Zorvanik fled to Armenia.")


def ingest(app, tmp_path, text=TEXT) -> int:
    from mapapp.articles import ingest_paths
    from mapapp.db import get_db
    from mapapp.geoparse import get_geoparser

    path = tmp_path / "karabakh.txt"
    path.write_text(text, encoding="utf-8")
    with app.app_context():
        [article_id] = ingest_paths(get_db(), get_geoparser(), [path], progress=False)
    return article_id


def span(name: str, text: str = TEXT) -> dict:
    start = text.index(name)
    return {"start": start, "end": start + len(name), "text": name}


def mention(app, article_id, name):
    at = span(name)
    return row(app, "SELECT * FROM mentions WHERE article_id = ? AND start = ? AND \"end\" = ?", article_id,
               at["start"], at["end"])


def reresolve_all(app) -> None:
    """A gazetteer-wide re-resolution of every article, as after any admin edit."""
    from mapapp.articles import reresolve
    from mapapp.db import get_db
    from mapapp.geoparse import get_geoparser

    with app.app_context():
        conn = get_db()
        reresolve(conn, get_geoparser(), [r[0] for r in conn.execute("SELECT id FROM articles")])


@pytest.fixture
def article(small_app, tmp_path):
    article_id = ingest(small_app, tmp_path)
    assert mention(small_app, article_id, "Karabakh")["place_id"] == "cur:nagorno-karabakh"
    assert mention(small_app, article_id, "Parukh")["place_id"] == "cur:parukh"
    assert mention(small_app, article_id, "Zorvanik") is None
    return article_id


def test_choose_another_candidate_pins_the_span_with_history(small_app, alice, article):
    answer = post_json(alice, "/admin/corrections", {"article_id": article, "action": "place",
                                                     "place_id": "cur:kalbajar-district", **span("Karabakh")})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["mention"]["place_id"] == "cur:kalbajar-district"
    assert body["correction"]["before"]["place_id"] == "cur:nagorno-karabakh"
    assert body["correction"]["after"]["place_id"] == "cur:kalbajar-district"
    stored = mention(small_app, article, "Karabakh")
    assert (stored["place_id"], stored["score"]) == ("cur:kalbajar-district", 1.0)
    history = rows(small_app, "SELECT * FROM mention_corrections WHERE article_id = ?", article)
    assert [(h["action"], h["user"], h["place_id"]) for h in history] == [("place", "alice", "cur:kalbajar-district")]
    assert history[0]["at"]
    # The change and its re-resolution debt were one transaction, and the debt is paid.
    assert rows(small_app, "SELECT * FROM pending_reresolution") == []
    # The article page shows the new place on the mark.
    page = alice.get(f"/articles/{article}")
    assert 'data-place-id="cur:kalbajar-district"' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"  # it holds the editor's CSRF token


def test_candidates_describe_each_place(small_app, alice, article):
    at = span("Karabakh")
    answer = alice.get(f"/admin/corrections/candidates?article_id={article}&start={at['start']}&end={at['end']}",
                       headers={"Accept": "application/json"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["current"] == "cur:nagorno-karabakh" and body["text"] == "Karabakh"
    first = body["candidates"][0]
    assert first["id"] == "cur:nagorno-karabakh"
    assert first["country"] == "Azerbaijan"  # the country's name, not AZ
    assert {"admin1", "population", "lat", "lon", "kind"} <= first.keys()
    found = alice.get("/admin/corrections/search?q=Yere", headers={"Accept": "application/json"}).get_json()
    assert [p["id"] for p in found["places"]] == ["gn:616052"]
    assert found["places"][0]["country"] == "Armenia"


def test_not_a_place_here_drops_the_mention_and_feeds_the_review_queue(small_app, alice, article):
    answer = post_json(alice, "/admin/corrections", {"article_id": article, "action": "not_place",
                                                     **span("Parukh")})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["mention"] is None
    assert mention(small_app, article, "Parukh") is None
    review = alice.get("/admin/review").get_data(as_text=True)
    item = review.split('data-kind="not_place"', 1)[1].split("</li>", 1)[0]
    assert "<strong>Parukh</strong>" in item


def test_this_is_a_place_adds_a_missed_name_and_feeds_the_review_queue(small_app, alice, article):
    answer = post_json(alice, "/admin/corrections", {"article_id": article, "action": "place",
                                                     "place_id": "cur:khramort", **span("Zorvanik")})
    assert answer.status_code == 201, answer.get_json()
    stored = mention(small_app, article, "Zorvanik")
    assert stored["place_id"] == "cur:khramort" and stored["kind"] == "place"
    assert stored["sentence_start"] <= stored["start"] < stored["end"] <= stored["sentence_end"]
    assert answer.get_json()["correction"]["before"] is None
    review = alice.get("/admin/review").get_data(as_text=True)
    item = review.split('data-kind="missed"', 1)[1].split("</li>", 1)[0]
    assert "<strong>Zorvanik</strong>" in item and "Khramort" in item


def test_corrections_survive_re_resolution_and_re_ingest(small_app, alice, article, tmp_path):
    for body in ({"action": "place", "place_id": "cur:kalbajar-district", **span("Karabakh")},
                 {"action": "not_place", **span("Parukh")},
                 {"action": "place", "place_id": "cur:khramort", **span("Zorvanik")}):
        assert post_json(alice, "/admin/corrections", {"article_id": article, **body}).status_code == 201
    reresolve_all(small_app)
    assert mention(small_app, article, "Karabakh")["place_id"] == "cur:kalbajar-district"
    assert mention(small_app, article, "Parukh") is None
    assert mention(small_app, article, "Zorvanik")["place_id"] == "cur:khramort"
    # An admin edit elsewhere re-resolves the article through the queue: the pins hold.
    answer = post_json(alice, "/admin/places", {"name": "Karabakh Village", "feature": "village", "lat": 40.0,
                                                "lon": 46.5, "country_code": "AZ", "aliases": ["Parukh"]})
    assert answer.status_code == 201, answer.get_json()
    assert mention(small_app, article, "Parukh") is None
    assert mention(small_app, article, "Karabakh")["place_id"] == "cur:kalbajar-district"
    # Re-ingesting the same file keeps them too.
    assert ingest(small_app, tmp_path) == article
    assert mention(small_app, article, "Zorvanik")["place_id"] == "cur:khramort"
    assert mention(small_app, article, "Parukh") is None


def test_undo_restores_the_engines_reading_and_is_recorded(small_app, alice, article):
    made = post_json(alice, "/admin/corrections", {"article_id": article, "action": "place",
                                                   "place_id": "cur:kalbajar-district", **span("Karabakh")})
    correction_id = made.get_json()["correction"]["id"]
    undone = post_json(alice, f"/admin/corrections/{correction_id}/undo", {})
    assert undone.status_code == 200, undone.get_json()
    assert undone.get_json()["mention"]["place_id"] == "cur:nagorno-karabakh"
    assert mention(small_app, article, "Karabakh")["place_id"] == "cur:nagorno-karabakh"
    history = rows(small_app, "SELECT * FROM mention_corrections ORDER BY id")
    assert [h["action"] for h in history] == ["place", "undo"]
    assert history[0]["undone_by"] == "alice" and history[1]["undoes"] == correction_id
    reresolve_all(small_app)
    assert mention(small_app, article, "Karabakh")["place_id"] == "cur:nagorno-karabakh"
    # A second undo of the same correction is refused, naming it.
    again = post_json(alice, f"/admin/corrections/{correction_id}/undo", {})
    assert again.status_code == 400 and "correction_id" in again.get_data(as_text=True)


def test_undo_from_the_article_page_form(small_app, alice, article):
    made = post_json(alice, "/admin/corrections", {"article_id": article, "action": "not_place", **span("Parukh")})
    correction_id = made.get_json()["correction"]["id"]
    page = alice.get(f"/articles/{article}").get_data(as_text=True)
    assert f'action="/admin/corrections/{correction_id}/undo"' in page
    answer = post_form(alice, f"/admin/corrections/{correction_id}/undo", {})
    assert answer.status_code == 302 and f"/articles/{article}" in answer.headers["Location"]
    assert mention(small_app, article, "Parukh")["place_id"] == "cur:parukh"


@pytest.mark.parametrize(("body", "field"), [
    ({"action": "place", "place_id": "cur:nowhere"}, "place_id"),
    ({"action": "place"}, "place_id"),
    ({"action": "rename", "place_id": "cur:khramort"}, "action"),
    ({"action": "place", "place_id": "cur:khramort", "text": "Armenia"}, "text"),
    ({"action": "place", "place_id": "cur:khramort", "start": "x"}, "start"),
    ({"action": "place", "place_id": "cur:khramort", "end": 10 ** 9}, "end"),
    ({"action": "place", "place_id": "cur:khramort", "start": 3, "end": 2, "text": None}, "end"),
    ({"action": "place", "place_id": "cur:khramort", "start": 1, "end": 5, "text": "hell"}, "start"),
    ({"action": "place", "place_id": "cur:khramort", "article_id": 999}, "article_id"),
    ({"action": "place", "place_id": "cur:khramort", "article_id": True}, "article_id"),
    ({"action": "not_place", "start": 0, "end": 8, "text": "Shelling"}, "start"),
])
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(small_app, alice, article, body, field):
    before = snapshot(db_path(small_app))
    answer = post_json(alice, "/admin/corrections", {"article_id": article, **span("Zorvanik"), **body})
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)
    assert field in json.dumps(answer.get_json())
    assert snapshot(db_path(small_app)) == before


def test_strangers_and_forged_requests_are_refused(small_app, anon, alice, article):
    before = snapshot(db_path(small_app))
    body = {"article_id": article, "action": "not_place", **span("Parukh")}
    assert anon.post("/admin/corrections", json=body).status_code in (400, 401, 403)  # no session, no token
    assert anon.get(f"/admin/corrections/candidates?article_id={article}&start=0&end=4",
                    headers={"Accept": "application/json"}).status_code == 401
    assert anon.get("/admin/corrections/export").status_code == 302  # to the login page
    assert alice.post("/admin/corrections", json=body).status_code == 400  # CSRF token missing
    forged = post_json(alice, "/admin/corrections", body, Origin="http://evil.example")
    assert forged.status_code == 403
    assert snapshot(db_path(small_app)) == before
    # A reader who is not logged in sees no editing UI on the article page.
    page = anon.get(f"/articles/{article}").get_data(as_text=True)
    assert "corrections.js" not in page and "correction-config" not in page and "csrf" not in page


def test_export_is_geocorpora_json_lines_readable_by_the_evaluator(small_app, alice, article, tmp_path):
    from mapapp.geoparse.evaluate import load_geocorpora

    post_json(alice, "/admin/corrections", {"article_id": article, "action": "place",
                                            "place_id": "cur:khramort", **span("Zorvanik")})
    post_json(alice, "/admin/corrections", {"article_id": article, "action": "not_place", **span("Parukh")})
    answer = alice.get("/admin/corrections/export")
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    [document] = [json.loads(line) for line in answer.get_data(as_text=True).splitlines()]
    assert set(document) == {"id", "text", "toponyms"} and document["text"] == TEXT
    names = [t["text"] for t in document["toponyms"]]
    assert "Zorvanik" in names and "Parukh" not in names and "Karabakh" in names
    for toponym in document["toponyms"]:
        assert set(toponym) == {"start", "end", "text", "lat", "lon"}
        assert TEXT[toponym["start"]:toponym["end"]] == toponym["text"]
    path = tmp_path / "corrections.jsonl"
    path.write_text(answer.get_data(as_text=True), encoding="utf-8")
    corpus = load_geocorpora(path)
    assert len(corpus.documents) == 1


def test_cli_export_writes_the_same_file(small_app, small_dir, alice, article, tmp_path):
    from click.testing import CliRunner

    from mapapp.cli import main

    post_json(alice, "/admin/corrections", {"article_id": article, "action": "not_place", **span("Parukh")})
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["corrections", "export", "--data", str(small_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == alice.get("/admin/corrections/export").get_data(as_text=True)
    assert "1 corrected article" in result.output
    help_text = CliRunner().invoke(main, ["corrections", "export", "--help"]).output
    assert "--out" in help_text
    bad = CliRunner().invoke(main, ["corrections", "export", "--data", str(small_dir), "--out",
                                    str(tmp_path / "missing" / "x.jsonl")])
    assert bad.exit_code != 0 and len(bad.output.strip().splitlines()) == 1


def test_pins_apply_only_while_the_span_holds_its_text(small_app, alice, article, tmp_path):
    post_json(alice, "/admin/corrections", {"article_id": article, "action": "place",
                                            "place_id": "cur:khramort", **span("Zorvanik")})
    changed = TEXT.replace("Residents of Zorvanik", "Residents of Korvanik")
    assert ingest(small_app, tmp_path, changed) == article
    conn = connect(db_path(small_app))
    try:
        assert conn.execute("SELECT COUNT(*) FROM mentions WHERE article_id = ? AND place_id = 'cur:khramort'",
                            (article,)).fetchone()[0] == 0
    finally:
        conn.close()


def test_a_later_correction_of_the_same_span_replaces_the_earlier_in_the_queue_and_its_undo_restores_it(
        small_app, alice, article):
    post_json(alice, "/admin/corrections", {"article_id": article, "action": "place",
                                           "place_id": "cur:khramort", **span("Zorvanik")})
    second = post_json(alice, "/admin/corrections", {"article_id": article, "action": "place",
                                                     "place_id": "gn:616052", **span("Zorvanik")})
    assert mention(small_app, article, "Zorvanik")["place_id"] == "gn:616052"
    # The second saw the first's pin as its "before".
    assert second.get_json()["correction"]["before"]["place_id"] == "cur:khramort"
    queued = alice.get("/admin/review", headers={"Accept": "application/json"}).get_json()["corrected"]
    # One entry for the span: the name the geoparser missed, now read as the second choice.
    assert [(item["id"], item["kind"], item["place_id"]) for item in queued] == [
        (second.get_json()["correction"]["id"], "missed", "gn:616052")]
    post_json(alice, f"/admin/corrections/{second.get_json()['correction']['id']}/undo", {})
    assert mention(small_app, article, "Zorvanik")["place_id"] == "cur:khramort"
