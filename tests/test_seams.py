"""The seams between library, CLI and web: the library loads no Flask, the CLI has no import cycle, errors are
framework-free and mapped to HTTP by the web package, and settings come from mapapp.config."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mapapp import config, errors
from mapapp.web import create_app

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          check=False)


@pytest.mark.parametrize("module", ["mapapp.geoparse", "mapapp.gazetteer", "mapapp.gazetteer.store",
                                    "mapapp.articles", "mapapp.db", "mapapp.errors", "mapapp"])
def test_the_library_imports_without_flask(module):
    result = _python(f"import {module}, sys; assert 'flask' not in sys.modules, sorted(sys.modules)")
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_geocoder_runs_without_flask(data_dir):
    code = (f"import sys; from mapapp.gazetteer import Gazetteer; "
            f"place = Gazetteer({str(data_dir / 'mapapp.sqlite3')!r}).geocode('Yerevan'); "
            f"assert place is not None and 'flask' not in sys.modules")
    result = _python(code)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_errors_module_imports_only_the_standard_library():
    code = ("import sys; before = set(sys.modules); import mapapp.errors; "
            "new = {m.split('.')[0] for m in set(sys.modules) - before} - {'mapapp'}; "
            "assert new <= set(sys.stdlib_module_names), new")
    result = _python(code)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("module", ["mapapp.accounts", "mapapp.articles.cli", "mapapp.gazetteer.cli",
                                    "mapapp.geoparse.cli", "mapapp.maps.cli", "mapapp.web.cli"])
def test_each_subcommand_module_imports_first_without_a_cycle(module):
    result = _python(f"import {module}; import mapapp.cli as cli; assert 'db' in cli.main.commands; "
                     "assert all(cli.main.get_command(None, name) for name in cli.SUBCOMMANDS)")
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_shared_cli_options_import_no_command_module():
    result = _python("import sys, mapapp.cli_options; "
                     "assert not [m for m in sys.modules if m.endswith('.cli') or m == 'mapapp.accounts']")
    assert result.returncode == 0, result.stderr[-2000:]


def test_nothing_raises_the_bare_base_error():
    bare = [f"{path.relative_to(ROOT)}:{number}" for path in sorted((ROOT / "mapapp").rglob("*.py"))
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r"raise MapappError\(", line)]
    assert bare == []


@pytest.mark.parametrize("error, status", [
    (errors.InvalidInput("bad n", field="n"), 400),
    (errors.InvalidPlace("name is required", field="name"), 400),
    (errors.InvalidGeometry("not a shape", field="geometry"), 400),
    (errors.InputTooLarge("too big"), 413),
    (errors.NotFound("no place x"), 404),
    (errors.Conflict("stale version"), 409),
    (errors.GazetteerMissing("no gazetteer"), 503),
    (errors.MissingDependency("needs spaCy"), 503),
])
def test_the_web_package_maps_each_error_to_its_status(tmp_path, error, status):
    app = create_app(tmp_path, {"TESTING": True, "SECRET_KEY": "t", "LOAD_SEEDS": False})

    @app.get("/api/raise-for-test")
    def _raise():
        raise error

    response = app.test_client().get("/api/raise-for-test")
    assert response.status_code == status
    assert response.get_json()["error"] == error.message
    page = app.test_client().get("/api/raise-for-test", headers={"Accept": "text/html"})
    assert page.status_code == status


def test_a_bad_name_or_population_in_a_curated_feature_is_an_invalid_place():
    from mapapp.gazetteer.curated import feature_to_place

    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [44.5, 40.2]},
               "properties": {"id": "cur:x", "name": "X"}}
    for props, field in [({"name": ""}, "name"), ({"population": -1}, "population"), ({"aliases": "Y"}, "aliases")]:
        with pytest.raises(errors.InvalidPlace) as caught:
            feature_to_place({**feature, "properties": {**feature["properties"], **props}})
        assert caught.value.field == field and not isinstance(caught.value, errors.InvalidGeometry)


def test_create_app_takes_its_data_folder_and_defaults_from_config(tmp_path, monkeypatch):
    monkeypatch.setenv("MAPAPP_DATA", str(tmp_path / "not-this-one"))
    app = create_app(tmp_path / "data", {"TESTING": True})
    assert app.config["DATA_DIR"] == str((tmp_path / "data").resolve())
    assert app.config["DATABASE"] == str((tmp_path / "data" / "mapapp.sqlite3").resolve())
    for key, value in config.DEFAULTS.items():
        assert app.config[key] == value, key
    assert app.config["SECRET_KEY"] == (tmp_path / "data" / "secret_key").read_text().strip()
    with pytest.raises(TypeError, match="data_dir"):
        create_app(config={"DATA_DIR": str(tmp_path)})


def test_the_data_folder_config_file_then_the_environment_override_the_defaults(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("TILES_URL = 'https://tiles.example/{z}/{x}/{y}.png'\n"
                                        "EMBED_FRAME_ANCESTORS = 'https://file.example'\n", encoding="utf-8")
    monkeypatch.setenv("MAPAPP_EMBED_FRAME_ANCESTORS", "https://env.example")
    monkeypatch.setenv("MAPAPP_LOGIN_FAILURE_LIMIT", "3")
    app = create_app(tmp_path)
    assert app.config["TILES_URL"] == "https://tiles.example/{z}/{x}/{y}.png"
    assert app.config["EMBED_FRAME_ANCESTORS"] == "https://env.example"
    assert app.config["LOGIN_FAILURE_LIMIT"] == 3
    assert app.config["SESSION_MAX_AGE"] == config.DEFAULTS["SESSION_MAX_AGE"]
