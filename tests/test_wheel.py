"""A built wheel carries the app: installed into a fresh virtualenv outside the checkout, it builds the
gazetteer from its own curated files and serves the seed map with its own browser code."""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from mapapp.gazetteer.curated import read_features

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
# Never part of a build: caches (the test gazetteer alone is hundreds of MB), local state, earlier builds.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", ".pytest_cache", ".hypothesis", ".ruff_cache", "__pycache__",
                                    "build", "dist", "*.egg-info", "instance", "out", "node_modules")


def run(args, **kwargs) -> subprocess.CompletedProcess:
    """Run a command to completion; fail the test with its output when it fails."""
    done = subprocess.run(args, check=False, capture_output=True, text=True, timeout=900, **kwargs)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]} {done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The wheel built from a copy of the checkout, installed alone into a fresh venv outside the checkout.

    The venv has no system site-packages; mapapp's dependencies come from the test environment's
    site-packages through a .pth line appended after the venv's own (so no download, and mapapp itself
    can only be the wheel's: the test environment's editable mapapp is a finder its .pth would install,
    and .pth files inside an appended folder are not processed).
    """
    work = tmp_path_factory.mktemp("wheel")
    source, dist, venv, elsewhere = work / "src", work / "dist", work / "venv", work / "elsewhere"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("MAPAPP_")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)], env=env)
    [wheel] = dist.glob("mapapp-*.whl")
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env=env)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
         str(wheel)], env=env)
    purelib = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       env=env).stdout.strip())
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (purelib / "zz-test-dependencies.pth").write_text("".join(f"{path}\n" for path in ours), encoding="utf-8")
    elsewhere.mkdir()
    return {"python": python, "mapapp": venv / "bin" / "mapapp", "purelib": purelib, "env": env,
            "cwd": elsewhere, "data": work / "data", "wheel": wheel}


@pytest.fixture(scope="module")
def built(installed) -> dict:
    """The installed wheel's own `mapapp gazetteer build --quiet` into a fresh data folder."""
    done = run([str(installed["mapapp"]), "gazetteer", "build", "--quiet", "--data", str(installed["data"])],
               cwd=installed["cwd"], env=installed["env"])
    return {**installed, "build": done}


def test_the_wheel_holds_the_browser_code_curated_places_and_seeds(installed):
    import zipfile

    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    expected = {"mapapp/static/" + p.relative_to(ROOT / "static").as_posix()
                for p in (ROOT / "static").rglob("*") if p.is_file()}
    expected |= {f"mapapp/gazetteer_data/{p.name}" for p in (ROOT / "gazetteer").glob("*") if p.is_file()}
    expected |= {f"mapapp/seeds/{p.name}" for p in (ROOT / "seeds").glob("*.txt")}
    expected |= {"mapapp/" + p.relative_to(ROOT / "mapapp").as_posix()  # both stores' migrations
                 for p in (ROOT / "mapapp" / "migrations").rglob("*.sql")}
    assert "mapapp/migrations/postgresql/0001_initial.sql" in expected
    assert "mapapp/static/map/mapapp.js" in expected and "mapapp/gazetteer_data/curated.geojson" in expected
    assert expected <= names, sorted(expected - names)


def test_mapapp_imports_from_the_wheel_not_the_checkout(installed):
    probe = ("import json, mapapp, mapapp.bundled as b; print(json.dumps([mapapp.__file__, str(b.folder('static')),"
             " str(b.folder('gazetteer')), str(b.folder('seeds')), b.checkout_root()]))")
    package, static, gazetteer, seeds, checkout = json.loads(
        run([str(installed["python"]), "-c", probe], cwd=installed["cwd"], env=installed["env"]).stdout)
    purelib = installed["purelib"]
    assert Path(package) == purelib / "mapapp" / "__init__.py"
    assert (Path(static), Path(gazetteer), Path(seeds)) == (
        purelib / "mapapp" / "static", purelib / "mapapp" / "gazetteer_data", purelib / "mapapp" / "seeds")
    assert checkout is None


def test_the_wheels_build_reads_the_curated_files_it_installed(built):
    assert built["build"].stderr == ""  # --quiet: no progress bars
    assert re.match(r"Built \d+ places", built["build"].stdout)
    conn = sqlite3.connect(built["data"] / "mapapp.sqlite3")
    stored = {row[0]: row[1] for row in conn.execute("SELECT id, name FROM places WHERE id LIKE 'cur:%'")}
    conn.close()
    curated = {p.id: p.name for p in read_features(ROOT / "gazetteer" / "curated.geojson")}
    assert stored == curated
    assert stored["cur:lachin-corridor"] == "Lachin corridor"
    assert stored["cur:nagorno-karabakh"] == "Nagorno-Karabakh"


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def test_serve_from_the_wheel_serves_the_seed_map(built):
    with open(built["cwd"] / "serve.err", "w") as errors:
        process = subprocess.Popen(
            [str(built["mapapp"]), "serve", "--port", "0", "--threads", "2", "--data", str(built["data"])],
            cwd=built["cwd"], env={**built["env"], "MAPAPP_TILES_URL": ""}, stdout=subprocess.PIPE,
            stderr=errors, text=True)
    try:
        base, lines, deadline = None, [], time.monotonic() + 600
        while base is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"open (http://127\.0\.0\.1:\d+)/", line)
            base = match.group(1) if match else None
        assert base, f"server did not start: {lines} {(built['cwd'] / 'serve.err').read_text()[-2000:]}"

        status, kind, page = _get(base + "/")
        assert status == 200 and kind.startswith("text/html")
        assets = set(re.findall(r'(?:src|href)="(/(?:static|vendor)/[^"?#]+)', page.decode("utf-8")))
        assert {"/static/map/mapapp.js", "/static/map/mapapp.css"} <= assets, assets
        for asset in sorted(assets):
            status, _, body = _get(base + asset)
            assert status == 200 and body, asset
        assert _get(base + "/static/map/mapapp.js")[2] == (ROOT / "static" / "map" / "mapapp.js").read_bytes()

        articles = json.loads(_get(base + "/api/articles")[2])
        assert articles["total"] == 5 and len(articles["articles"]) == 5
        assert all(article["mention_count"] > 0 for article in articles["articles"])
        corridor, karabakh = ("cur:lachin-corridor", "Lachin corridor"), ("cur:nagorno-karabakh", "Nagorno-Karabakh")
        for place_id, name in (corridor, karabakh):
            place = json.loads(_get(f"{base}/api/places/{place_id}")[2])
            assert place["place"]["name"] == name
            assert place["place"]["geometry"] is not None
            assert place["mention_count"] > 0  # the seed articles resolved to the wheel's curated place
    finally:
        process.terminate()
        process.communicate(timeout=60)  # waits, and closes the pipe
