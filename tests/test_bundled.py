"""mapapp.bundled: the app's shipped files (static/, gazetteer/, seeds/) found from the checkout, and what
pyproject.toml puts in the wheel; a missing curated file or seed folder is an error, never a silent skip."""
from __future__ import annotations

from pathlib import Path

import pytest

from mapapp import bundled, create_app
from mapapp.db import DATABASE_NAME, connect
from mapapp.errors import BundledFileMissing, MapappError

ROOT = Path(__file__).resolve().parent.parent


def test_the_checkout_folders_are_found():
    assert bundled.checkout_root() == ROOT
    assert bundled.folder("static") == ROOT / "static"
    assert bundled.folder("gazetteer") == ROOT / "gazetteer"
    assert bundled.folder("seeds") == ROOT / "seeds"
    assert bundled.path("gazetteer", "curated.geojson").is_file()
    assert len(sorted(bundled.folder("seeds").glob("*.txt"))) == 5


def test_the_app_serves_static_files_from_the_bundled_folder(tmp_path):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "SECRET_KEY": "t", "LOAD_SEEDS": False})
    assert Path(app.static_folder) == bundled.folder("static")
    response = app.test_client().get("/static/map/mapapp.js")
    assert response.status_code == 200
    assert response.data == (ROOT / "static" / "map" / "mapapp.js").read_bytes()


def test_the_wheel_layout_maps_every_bundled_folder_and_every_subpackage():
    """pyproject.toml lists packages by hand (find cannot map folders): it must name every code subpackage,
    and map each checkout folder to the package folder mapapp.bundled looks for."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    code = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "mapapp").rglob("__init__.py")}
    mapped = {f"mapapp.{inside}": outside for outside, inside in bundled.FOLDERS.items()}
    assert set(config["packages"]) == code | set(mapped)
    assert config["package-dir"] == mapped
    assert set(mapped) <= set(config["package-data"])


def test_a_missing_curated_file_is_an_error_before_anything_is_written(tmp_path):
    from mapapp.gazetteer.build import build

    missing = tmp_path / "gone" / "curated.geojson"
    with pytest.raises(BundledFileMissing) as raised:
        build(tmp_path / "data" / DATABASE_NAME, progress=False, curated=(bundled.path("gazetteer",
                                                                          "physical.geojson"), missing))
    assert isinstance(raised.value, MapappError)
    assert str(missing) in raised.value.message and "curated gazetteer file" in raised.value.message
    assert not (tmp_path / "data").exists()


def test_a_missing_seed_folder_is_an_error(tmp_path, geoparser):
    from mapapp.articles import load_seeds

    conn = connect(tmp_path / DATABASE_NAME)
    with pytest.raises(BundledFileMissing, match="seed article folder"):
        load_seeds(conn, geoparser, progress=False, folder=tmp_path / "no-seeds")
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
    conn.close()


def test_a_missing_bundled_folder_names_where_the_package_keeps_it(monkeypatch, tmp_path):
    """Neither the package's copy nor a checkout: the path returned is the package's, for the error message."""
    monkeypatch.setattr(bundled, "checkout_root", lambda: None)
    where = bundled.folder("gazetteer")
    assert where.parts[-2:] == ("mapapp", "gazetteer_data")
    with pytest.raises(BundledFileMissing, match="gazetteer_data"):
        bundled.require(where / "curated.geojson", "curated gazetteer file")


def test_a_missing_name_table_file_is_an_error_before_anything_is_written(tmp_path, monkeypatch):
    from mapapp.gazetteer import build as gazetteer_build

    missing = tmp_path / "gone" / "names.json"
    monkeypatch.setattr(gazetteer_build, "NAMES_FILE", missing)
    gazetteer_build.name_tables.cache_clear()
    try:
        with pytest.raises(BundledFileMissing) as raised:
            gazetteer_build.build(tmp_path / "data" / DATABASE_NAME, progress=False)
    finally:
        gazetteer_build.name_tables.cache_clear()  # the next build reads the real file again
    assert str(missing) in raised.value.message and "gazetteer name tables" in raised.value.message
    assert not (tmp_path / "data").exists()
