"""Hostile and malformed input to the admin: a clear 4xx naming the field, never a 500, nothing stored."""
from __future__ import annotations

import errno
import json
import os
import unicodedata
from pathlib import Path

import pytest
from admin_support import HOSTILE, VILLAGE, db_path, post_form, post_json, row, rows, snapshot

SQL = "' OR 1=1 --"
BOWTIE = {"type": "Polygon", "coordinates": [[[46.0, 40.0], [46.2, 40.2], [46.2, 40.0], [46.0, 40.2], [46.0, 40.0]]]}

BAD_FIELDS = [
    ("lat", 90.000001), ("lat", -90.5), ("lon", 180.5), ("lon", -181), ("lon", 360), ("lat", "NaN"),
    ("lat", "Infinity"), ("lon", "-inf"), ("lat", "forty"), ("lat", None), ("lat", [40]), ("lat", {"v": 1}),
    ("lat", True), ("population", "1e3"), ("population", -5), ("population", "NaN"), ("population", 1e20),
    ("name", ""), ("name", "   "), ("name", "x" * 10_000), ("name", 12), ("name", "Zor\u200bvanik"),
    ("name", "Zorvanik\u202e"), ("name", "\u2066Zorvanik\u2069"), ("name", "Zor\x00vanik"),
    ("aliases", ["a" * 201]), ("aliases", "Zor\u200evanik"), ("notes", "n" * 5001), ("feature", SQL),
    ("feature", "<img src=x onerror=alert(1)>"), ("country_code", SQL), ("country_code", "QQ"), ("id", SQL),
    ("id", "no-colon"), ("id", "admin:" + "x" * 200), ("geometry", BOWTIE), ("geometry", "{not json"),
    ("geometry", {"type": "Point", "coordinates": [46, 40]}), ("geometry", {"type": "Polygon", "coordinates": []}),
    ("geometry", {"type": "Polygon", "coordinates": [[[46, 40], [47, 40], [47, 41], [46, 41]]]}),
    ("geometry", {"type": "LineString", "coordinates": [[46, 40], [200, 40]]}),
    ("geometry", {"type": "FeatureCollection", "features": []}),
]


@pytest.mark.parametrize("field, value", BAD_FIELDS, ids=lambda v: repr(v)[:30])
def test_bad_json_fields_are_refused_naming_the_field(small_app, alice, field, value):
    before = snapshot(db_path(small_app))
    response = post_json(alice, "/admin/places", {**VILLAGE, field: value})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["field"] == field and body["error"]
    assert snapshot(db_path(small_app)) == before


# A form carries only text: the JSON-only type errors (lists, booleans, a number as a name) do not apply.
@pytest.mark.parametrize("field, value", [(f, v) for f, v in BAD_FIELDS if isinstance(v, (str, int, float))
                                          and not isinstance(v, bool) and (f, v) != ("name", 12)],
                         ids=lambda v: repr(v)[:30])
def test_bad_form_fields_are_refused_naming_the_field(small_app, alice, field, value):
    before = snapshot(db_path(small_app))
    form = {**VILLAGE, "aliases": "", field: value}
    response = post_form(alice, "/admin/places", form)
    assert response.status_code == 400
    assert f'id="error-{field}"' in response.get_data(as_text=True)
    assert snapshot(db_path(small_app)) == before


@pytest.mark.parametrize("field, value", [("lat", 95), ("lon", "abc"), ("geometry", BOWTIE), ("name", "x" * 10_000),
                                          ("version", "two"), ("version", SQL), ("version", None)])
def test_bad_updates_are_refused_and_change_nothing(small_app, alice, field, value):
    before = snapshot(db_path(small_app))
    response = post_json(alice, "/admin/places/gn:174982", {"version": 1, field: value})
    assert response.status_code == 400 and response.get_json()["field"] == field
    assert snapshot(db_path(small_app)) == before


def test_self_intersection_reports_shapelys_reason(alice):
    body = post_json(alice, "/admin/places", {**VILLAGE, "geometry": BOWTIE}).get_json()
    assert body["error"].startswith("shape is not valid: Self-intersection[")


@pytest.mark.parametrize("body, content_type, status", [
    (b"{not json", "application/json", 400),
    (b"[1, 2, 3]", "application/json", 400),
    (b'"a string"', "application/json", 400),
    (b"\xff\xfe\x00", "application/json", 400),
    (b"name=Zorvanik", "text/plain", 415),
    (b"<place><name>Zorvanik</name></place>", "application/xml", 415),
    (b"", None, 415),
])
def test_malformed_bodies_and_wrong_content_types(small_app, alice, body, content_type, status):
    before = snapshot(db_path(small_app))
    headers = {"X-CSRFToken": alice.csrf}
    if content_type:
        headers["Content-Type"] = content_type
    for url in ("/admin/places", "/admin/places/gn:174982", "/admin/impact"):
        response = alice.post(url, data=body, headers={**headers, "Accept": "application/json"})
        assert response.status_code == status, (url, response.get_data(as_text=True)[:200])
        assert response.is_json and response.get_json()["error"]
    assert snapshot(db_path(small_app)) == before


def test_oversized_request_is_413(small_app, alice):
    before = snapshot(db_path(small_app))
    huge = {**VILLAGE, "notes": "x" * (3 * 1024 * 1024)}
    response = post_json(alice, "/admin/places", huge, Accept="application/json")
    assert response.status_code == 413
    form = post_form(alice, "/admin/places", {**VILLAGE, "aliases": "", "notes": "x" * (3 * 1024 * 1024)})
    assert form.status_code == 413
    assert snapshot(db_path(small_app)) == before


def test_duplicate_id_is_409(small_app, alice):
    before = snapshot(db_path(small_app))
    response = post_json(alice, "/admin/places", {**VILLAGE, "id": "gn:174982"})
    assert response.status_code == 409 and response.get_json()["field"] == "id"
    assert snapshot(db_path(small_app)) == before


def test_sql_looking_text_is_just_text(small_app, alice):
    page = alice.get("/admin/", query_string={"q": SQL, "country": SQL, "source": SQL, "feature": SQL})
    assert page.status_code == 200 and "0 place(s)" in page.get_data(as_text=True)
    assert alice.get(f"/admin/places/{SQL}").status_code == 404
    response = post_json(alice, "/admin/places", {**VILLAGE, "name": SQL, "aliases": [SQL + " 2"]})
    assert response.status_code == 201
    place_id = response.get_json()["place"]["id"]
    assert row(small_app, "SELECT name FROM places WHERE id = ?", place_id)["name"] == SQL
    assert row(small_app, "SELECT count(*) AS n FROM places")["n"] == row(
        small_app, "SELECT count(*) AS n FROM places WHERE id != ?", place_id)["n"] + 1
    listing = alice.get("/admin/", query_string={"q": SQL}, headers={"Accept": "application/json"}).get_json()
    assert [p["id"] for p in listing["places"]] == [place_id]


def test_nfd_input_is_stored_as_nfc_and_matches_the_nfc_name(small_app, alice):
    nfc = "Kəlbəcər Ağdərə"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    response = post_json(alice, "/admin/places", {**VILLAGE, "name": nfd, "aliases": [nfc]})
    place_id = response.get_json()["place"]["id"]
    stored = row(small_app, "SELECT name FROM places WHERE id = ?", place_id)["name"]
    assert stored == nfc
    # The NFC alias is the same name: not stored twice.
    assert rows(small_app, "SELECT name FROM place_names WHERE place_id = ? AND kind = 'alias'", place_id) == []


def test_rtl_text_is_stored_but_bidi_overrides_are_refused(small_app, alice):
    ok = post_json(alice, "/admin/places", {**VILLAGE, "name": "Ստեփանակերտ", "aliases": ["خانکندی"]})
    assert ok.status_code == 201
    before = snapshot(db_path(small_app))
    bad = post_json(alice, "/admin/places", {**VILLAGE, "name": "\u202eknavroZ"})
    assert bad.status_code == 400 and "U+202E" in bad.get_json()["error"]
    assert snapshot(db_path(small_app)) == before


def test_hostile_names_are_stored_literally_and_escaped_in_admin_pages(small_app, alice):
    for number, name in enumerate(HOSTILE):
        response = post_json(alice, "/admin/places", {**VILLAGE, "name": name, "id": f"admin:h{number}",
                                                      "notes": name, "aliases": [name + " alias"]})
        assert response.status_code == 201
        assert row(small_app, "SELECT name FROM places WHERE id = ?", f"admin:h{number}")["name"] == name
    pages = [alice.get("/admin/?source=curated").get_data(as_text=True)]
    for number in range(len(HOSTILE)):
        pages.append(alice.get(f"/admin/places/admin:h{number}").get_data(as_text=True))
        pages.append(alice.get(f"/admin/places/admin:h{number}/history").get_data(as_text=True))
        pages.append(alice.get(f"/admin/places/admin:h{number}/versions/1").get_data(as_text=True))
    for page in pages:
        assert "<img src=x" not in page
        assert "</script><script>alert(1)" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[1]
    # The curated-file export keeps them as literal JSON strings.
    from click.testing import CliRunner

    from mapapp.cli import main

    out = str(Path(small_app.config["DATA_DIR"]) / "curated-export.geojson")  # in the test's folder, either store
    result = CliRunner().invoke(main, ["gazetteer", "export", "--out", out, "--data", small_app.config["DATA_DIR"]])
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8") as handle:
        exported = {f["id"]: f["properties"]["name"] for f in json.load(handle)["features"]}
    assert [exported[f"admin:h{number}"] for number in range(len(HOSTILE))] == HOSTILE


def test_failure_inside_the_save_transaction_leaves_old_data(small_app, alice, monkeypatch):
    from mapapp.gazetteer import history

    before = snapshot(db_path(small_app))

    def fail(*args, **kwargs):
        raise RuntimeError("injected failure after the place row was written")

    monkeypatch.setattr(history, "append", fail)
    with pytest.raises(RuntimeError):
        post_json(alice, "/admin/places/gn:174982", {"name": "Changed", "version": 1})
    with pytest.raises(RuntimeError):
        post_json(alice, "/admin/places", VILLAGE)
    assert snapshot(db_path(small_app)) == before


def test_full_disk_during_a_save_leaves_old_data(small_app, alice, monkeypatch):
    from mapapp.gazetteer import editing

    before = snapshot(db_path(small_app))

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(editing, "insert_places", disk_full)
    with pytest.raises(OSError):
        post_json(alice, "/admin/places/gn:174982", {"name": "Changed", "version": 1})
    assert snapshot(db_path(small_app)) == before
    assert row(small_app, "SELECT name FROM places WHERE id = 'gn:174982'")["name"] == "Armenia"


@pytest.mark.parametrize("failure", ["rename", "disk full"])
def test_failed_curated_export_keeps_the_old_file_and_no_temp(small_dir, alice, tmp_path, monkeypatch, failure):
    from click.testing import CliRunner

    from mapapp.cli import main

    post_json(alice, "/admin/places", VILLAGE)
    out = tmp_path / "export" / "curated.geojson"
    out.parent.mkdir()
    out.write_text('{"type": "FeatureCollection", "features": []}\n', encoding="utf-8")
    old = out.read_bytes()
    if failure == "rename":
        def broken(src, dst):
            raise OSError(errno.EIO, "rename failed", str(dst))
        monkeypatch.setattr(os, "replace", broken)
    else:
        real_fsync = os.fsync

        def broken(fd):
            real_fsync(fd)
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(os, "fsync", broken)
    result = CliRunner().invoke(main, ["gazetteer", "export", "--out", str(out), "--data", str(small_dir)])
    monkeypatch.undo()
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert out.read_bytes() == old
    assert sorted(p.name for p in out.parent.iterdir()) == ["curated.geojson"]
    # And when nothing fails the admin's edit is in the file.
    result = CliRunner().invoke(main, ["gazetteer", "export", "--out", str(out), "--data", str(small_dir)])
    assert result.exit_code == 0, result.output
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert "admin:zorvanik" in {f["id"] for f in features}
