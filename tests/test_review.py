"""The review queue: grouping of unresolved/low-confidence mentions and its three actions."""
from __future__ import annotations

import pytest
from admin_support import db_path, post_form, post_json, row, rows, snapshot

from mapapp.db import connect
from mapapp.review import mark_not_place, queue, unmark_not_place

TEXT = ("Troops entered Hayastan on Monday. Later, hayastan officials met in Erevan. "
        "The mayor of Yerevan spoke.")


def ingest(app, tmp_path) -> int:
    from mapapp.articles import ingest_paths
    from mapapp.db import get_db
    from mapapp.geoparse import get_geoparser

    path = tmp_path / "hayastan.txt"
    path.write_text(TEXT, encoding="utf-8")
    with app.app_context():
        [article_id] = ingest_paths(get_db(), get_geoparser(), [path], progress=False)
    return article_id


def add_mentions(app, article_id):
    """Mentions as a recogniser that also reports unknown names would store them."""
    conn = connect(db_path(app))
    spans = [("Hayastan", None, 0.0, 0), ("hayastan", None, 0.0, 1), ("Erevan", "gn:616052", 0.3, 1)]
    first_end = TEXT.index(".") + 1
    for text, place_id, score, sentence in spans:
        start = TEXT.index(text, first_end if sentence else 0)
        s_start, s_end = (0, first_end) if sentence == 0 else (first_end + 1, TEXT.index(".", first_end) + 1)
        conn.execute('INSERT INTO mentions (article_id, start, "end", text, kind, place_id, score, sentence_start,'
                     " sentence_end) VALUES (?, ?, ?, ?, 'place', ?, ?, ?, ?)",
                     (article_id, start, start + len(text), text, place_id, score, s_start, s_end))
    conn.close()


def test_queue_groups_by_normalised_name_with_sentences(small_app, tmp_path):
    article_id = ingest(small_app, tmp_path)
    add_mentions(small_app, article_id)
    conn = connect(db_path(small_app))
    groups = {g["key"]: g for g in queue(conn)}
    assert set(groups) >= {"hayastan", "erevan"} and "yerevan" not in groups
    hayastan = groups["hayastan"]
    assert hayastan["mentions"] == 2 and hayastan["unresolved"] == 2 and hayastan["articles"] == 1
    assert hayastan["spellings"] == ["Hayastan", "hayastan"]
    example = hayastan["examples"][0]
    assert example["sentence"][example["start"]:example["end"]].lower() == "hayastan"
    assert groups["erevan"]["place_ids"] == ["gn:616052"]


def test_review_page_lists_groups_and_the_new_place_link(small_app, alice, tmp_path):
    add_mentions(small_app, ingest(small_app, tmp_path))
    page = alice.get("/admin/review").get_data(as_text=True)
    assert 'data-key="hayastan"' in page and "<mark>Hayastan</mark>" in page
    assert 'href="/admin/places/new?name=Hayastan"' in page


def test_add_as_alias_is_versioned_and_reresolves(small_app, alice, tmp_path):
    article_id = ingest(small_app, tmp_path)
    response = post_form(alice, "/admin/review/alias", {"name": "Hayastan", "place_id": "gn:174982"})
    assert response.status_code == 302
    armenia = row(small_app, "SELECT version FROM places WHERE id = 'gn:174982'")
    assert armenia["version"] == 2
    history = rows(small_app, "SELECT action, \"user\" FROM place_history WHERE place_id = 'gn:174982'")
    assert [tuple(h) for h in history] == [("alias", "alice")]
    assert row(small_app, "SELECT 1 AS x FROM place_names WHERE place_id = 'gn:174982' AND key = 'hayastan'")
    resolved = rows(small_app, "SELECT text, place_id FROM mentions WHERE article_id = ? AND lower(text) = "
                               "'hayastan'", article_id)
    assert resolved and all(r["place_id"] == "gn:174982" for r in resolved)


def test_alias_of_an_unknown_place_is_404_and_changes_nothing(small_app, alice):
    before = snapshot(db_path(small_app))
    assert post_json(alice, "/admin/review/alias", {"name": "Hayastan", "place_id": "gn:0"}).status_code == 404
    assert post_json(alice, "/admin/review/alias", {"name": "Hayastan"}).status_code == 400
    assert snapshot(db_path(small_app)) == before


def test_not_a_place_is_recorded_reresolved_and_undoable(small_app, alice, tmp_path):
    article_id = ingest(small_app, tmp_path)
    assert row(small_app, "SELECT count(*) AS n FROM mentions WHERE article_id = ? AND text = 'Yerevan'",
               article_id)["n"] == 1
    version = int(row(small_app, "SELECT value FROM meta WHERE key = 'gazetteer_version'")["value"])
    response = post_form(alice, "/admin/review/not-place", {"name": "Yerevan"})
    assert response.status_code == 302
    marked = row(small_app, "SELECT * FROM not_places")
    assert (marked["key"], marked["name"], marked["user"]) == ("yerevan", "Yerevan", "alice")
    assert int(row(small_app, "SELECT value FROM meta WHERE key = 'gazetteer_version'")["value"]) == version + 1
    assert row(small_app, "SELECT count(*) AS n FROM mentions WHERE article_id = ? AND text = 'Yerevan'",
               article_id)["n"] == 0
    assert 'id="not-places"' in alice.get("/admin/review").get_data(as_text=True)
    post_form(alice, "/admin/review/not-place/undo", {"key": "yerevan"})
    assert row(small_app, "SELECT count(*) AS n FROM not_places")["n"] == 0
    assert row(small_app, "SELECT count(*) AS n FROM mentions WHERE article_id = ? AND text = 'Yerevan'",
               article_id)["n"] == 1


def test_not_place_key_is_hidden_from_the_queue(small_app, tmp_path):
    add_mentions(small_app, ingest(small_app, tmp_path))
    conn = connect(db_path(small_app))
    mark_not_place(conn, "HAYASTAN", "alice")
    assert "hayastan" not in {g["key"] for g in queue(conn)}
    assert unmark_not_place(conn, "hayastan") == "HAYASTAN"


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "Hay\u202eastan", "..."])
def test_bad_not_place_names_are_refused(small_app, alice, name):
    before = snapshot(db_path(small_app))
    response = post_json(alice, "/admin/review/not-place", {"name": name})
    assert response.status_code == 400 and response.get_json()["field"] == "name"
    assert snapshot(db_path(small_app)) == before
