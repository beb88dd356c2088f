"""The database: which store (SQLite by default, PostgreSQL when configured), connections, transactions, and
the request's connection on `g`.

A data folder's database is the SQLite file in it unless a PostgreSQL URL is configured: MAPAPP_DATABASE_URL,
or DATABASE_URL in DATA_DIR/config.py (see location()). Both stores are reached through connections with
sqlite3's interface (mapapp.postgres adapts psycopg's), so every query is written once; the rare statement that
must differ asks dialect(conn). Flask is imported only inside the request helpers, so that the library
(gazetteer, geoparser, CLI) can use this module without loading the web stack.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mapapp import migrations
from mapapp.config import default_data_dir

if TYPE_CHECKING:
    from flask import Flask

DATABASE_NAME = "mapapp.sqlite3"
URL_ENV = "MAPAPP_DATABASE_URL"
_URL_PREFIXES = ("postgresql://", "postgres://")
# Errors that both stores raise: for a broken constraint (unique, foreign key, check), and for any failure.
IntegrityError: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
DatabaseError: tuple[type[Exception], ...] = (sqlite3.DatabaseError,)
try:
    import psycopg

    IntegrityError += (psycopg.IntegrityError,)
    DatabaseError += (psycopg.Error,)
except ImportError:  # psycopg is needed only for PostgreSQL (mapapp.postgres)
    pass
# Transactions that write on PostgreSQL take this advisory lock, as SQLite's BEGIN IMMEDIATE takes its write
# lock: writers run one at a time, so the read-check-write steps (version checks, rate limits) stay atomic.
_WRITE_LOCK = 0x6D617061  # "mapa"


def database_path(data_dir: str | os.PathLike | None = None) -> Path:
    """Path of the database file inside `data_dir` (default: default_data_dir())."""
    return Path(data_dir or default_data_dir()) / DATABASE_NAME


def is_url(location: str | os.PathLike) -> bool:
    """True when `location` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(location, str) and location.startswith(_URL_PREFIXES)


def location(data_dir: str | os.PathLike | None = None) -> str:
    """The database of a data folder: $MAPAPP_DATABASE_URL, else DATABASE_URL in its config.py, else its file."""
    from mapapp.config import file_setting

    data_dir = Path(data_dir or default_data_dir())
    url = os.environ.get(URL_ENV) or file_setting(data_dir, "DATABASE_URL")
    return url if url else str(database_path(data_dir))


def exists(location: str | os.PathLike) -> bool:
    """True when the database at `location` can be opened: its file exists, or it is a server's URL (whose
    reachability is for connect() to tell)."""
    return is_url(location) or Path(location).is_file()


def dialect(conn) -> str:
    """'sqlite' or 'postgresql': which SQL the connection speaks, for the few statements that differ."""
    return getattr(conn, "dialect", "sqlite")


def identity(conn) -> str:
    """Which database `conn` is open on (its file, or its URL): what caches shared across connections key on."""
    if dialect(conn) == "postgresql":
        return conn.url
    return conn.execute("PRAGMA database_list").fetchone()[2]


def connect(path: str | os.PathLike, *, migrate: bool = True) -> sqlite3.Connection:
    """Open the database at `path` (a file, or a postgresql:// URL), autocommit, rows readable by name, with every
    migration applied. SQLite files are opened in WAL mode with foreign keys on.

    `migrate=False` opens it as it is (for `mapapp db migrate`, which reports what it applies).
    """
    if is_url(path):
        from mapapp import postgres

        conn = postgres.connect(path)
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN ourselves (see transaction()), so nothing commits by surprise.
        conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
    if migrate:
        try:
            migrations.migrate(conn)
        except BaseException:
            conn.close()
            raise
    return conn


@contextlib.contextmanager
def opened(path: str | os.PathLike):
    """A connection to the database at `path` for a command or script, closed on leaving the block."""
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


def check(path: str | os.PathLike) -> list[str]:
    """Problems that PRAGMA integrity_check and foreign_key_check find in a database file, one line each.

    Opens the file as it is (no migration), so that a damaged file is reported, not changed. [] means sound.
    """
    conn = sqlite3.connect(path, timeout=30)
    try:
        problems = [line for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"
                    for line in str(row[0]).splitlines() if line.strip()]
        for table, rowid, parent, _fkid in conn.execute("PRAGMA foreign_key_check"):
            where = f"row {rowid}" if rowid is not None else "a row"
            problems.append(f"foreign key: {where} of {table} refers to a missing {parent} row")
    except sqlite3.DatabaseError as error:
        problems = [f"{path}: {error}"]
    finally:
        conn.close()
    return problems


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection, *, immediate: bool = True):
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception; nests as a SAVEPOINT.

    On PostgreSQL an immediate transaction takes the store's write lock first (one writer at a time, as SQLite).
    """
    if conn.in_transaction:
        name = f"sp_{id(conn)}_{os.urandom(4).hex()}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")
        return
    if dialect(conn) == "postgresql":
        conn.execute("BEGIN")
        if immediate:
            conn.execute(f"SELECT pg_advisory_xact_lock({_WRITE_LOCK})")
    else:
        conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def get_db() -> sqlite3.Connection:
    """The current request's connection, opened on first use."""
    from flask import current_app, g

    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(_error: BaseException | None = None) -> None:
    """Close the request's connection, if one was opened."""
    from flask import g

    db = g.pop("db", None)
    if db is not None:
        db.close()


@click.command("init-db")
def init_db_command() -> None:
    """Create the database schema in the app's data folder, or bring it up to date."""
    from flask import current_app

    connect(current_app.config["DATABASE"]).close()
    click.echo(f"Initialised {current_app.config['DATABASE']}")


def init_app(app: Flask) -> None:
    """Close the connection at teardown and register `flask init-db`."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
