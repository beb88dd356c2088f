"""A real PostgreSQL + PostGIS server for the tests: initdb/pg_ctl in a temporary folder on a free port.

The server is Debian's (postgresql, postgresql-*-postgis-3; `make test` installs them). It runs for the whole
session with fsync off and the C collation (text sorts as SQLite's BINARY does). Each test that asks for
`pg_url` gets a database of its own made from a template that holds the full gazetteer, copied in once from the
SQLite template with `mapapp db copy`'s code.
"""
from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

_counter = itertools.count()


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_server_user(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: as root, run them as Debian's `postgres` user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


MISSING = "PostgreSQL is missing: apt-get install postgresql postgresql-15-postgis-3 (make test does)"


@contextlib.contextmanager
def temporary_server(*, durable: bool = False):
    """Run a PostgreSQL server in a temporary folder on a free port; yields the URL of its `postgres`
    database, and stops it and removes the folder on leaving. Not `durable` (the tests): fsync and
    synchronous commit off. (benchmarks/stores.py runs a durable one.)"""
    bin_dir = _binaries()
    if bin_dir is None:
        raise RuntimeError(MISSING)
    folder = Path(tempfile.mkdtemp(prefix="mapapp-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "mapapp", "-A", "trust",
                                    "--locale=C", "-E", "UTF8"]), check=True, capture_output=True)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                    str(folder / "log"), "-w", "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql://mapapp@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """postgresql://... of a PostgreSQL server of this session (its `postgres` database), stopped at the end."""
    if _binaries() is None:
        if os.environ.get("CI"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    with temporary_server() as url:
        yield url


def _admin(server_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(statement)


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create database `name` on the server (a copy of `template` when given); returns its URL."""
    _admin(server_url, f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    return database_url(server_url, name)


def new_database(request, template: str | None = None) -> str:
    """A database of this test only (from `template` when given), dropped when the test ends; its URL."""
    server = request.getfixturevalue("postgres_server")
    name = f"mapapp_test_{os.getpid()}_{next(_counter)}"
    url = create_database(server, name, template)
    request.addfinalizer(lambda: _admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    return url


def database_url(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url`."""
    return server_url.rsplit("/", 1)[0] + "/" + name


def copied_template(server_url: str, name: str, folder: Path) -> str:
    """Create database `name` holding what the SQLite database of data folder `folder` holds (copied as
    `mapapp db copy` copies); returns `name`, for use as a template."""
    from mapapp.db import DATABASE_NAME, connect
    from mapapp.transfer import copy_database

    create_database(server_url, name)
    source = connect(folder / DATABASE_NAME)
    target = connect(database_url(server_url, name))
    try:
        copy_database(source, target)
    finally:
        source.close()
        target.close()
    return name


@pytest.fixture(scope="session")
def gazetteer_pg_template(postgres_server, gazetteer_template) -> str:
    """Name of a template database holding the full gazetteer alone (gazetteer_template's)."""
    return copied_template(postgres_server, "mapapp_gazetteer_template", gazetteer_template)


@pytest.fixture
def gazetteer_pg_url(request, gazetteer_pg_template) -> str:
    """A new PostgreSQL database for this test with the full gazetteer; dropped afterwards."""
    return new_database(request, gazetteer_pg_template)


@pytest.fixture(scope="session")
def seeded_pg_template(postgres_server, seeded_template) -> str:
    """Name of a template database holding the full gazetteer and the five seed articles (seeded_template's)."""
    return copied_template(postgres_server, "mapapp_seeded_template", seeded_template)


@pytest.fixture
def seeded_pg_url(request, seeded_pg_template) -> str:
    """A new PostgreSQL database for this test with the full gazetteer and the seeds; dropped afterwards."""
    return new_database(request, seeded_pg_template)


def close_gazetteer(app) -> None:
    """Close the gazetteer an app opened (its connection would otherwise be left to the garbage collector)."""
    gazetteer = app.extensions.pop("mapapp.gazetteer", None)
    if gazetteer is not None:
        gazetteer.close()


@pytest.fixture
def empty_pg_url(request) -> str:
    """A new, empty PostgreSQL database (no schema yet) for this test; dropped afterwards."""
    return new_database(request)
