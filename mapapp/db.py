"""The SQLite database: connections (WAL, foreign keys), transactions, the request's connection on `g`."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import zlib
from importlib import resources
from pathlib import Path

import click
from flask import Flask, current_app, g

DATABASE_NAME = "mapapp.sqlite3"


def default_data_dir() -> Path:
    """The data folder: $MAPAPP_DATA, else instance/ in the checkout (or, for an installed wheel, here)."""
    from mapapp.bundled import checkout_root

    return Path(os.environ.get("MAPAPP_DATA") or (checkout_root() or Path.cwd()) / "instance")


def database_path(data_dir: str | os.PathLike | None = None) -> Path:
    """Path of the database file inside `data_dir` (default: default_data_dir())."""
    return Path(data_dir or default_data_dir()) / DATABASE_NAME


def connect(path: str | os.PathLike) -> sqlite3.Connection:
    """Open the database at `path` in WAL mode, autocommit, rows as sqlite3.Row; create its schema."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN ourselves (see transaction()), so nothing commits by surprise.
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    init_schema(conn)
    return conn


@contextlib.contextmanager
def opened(path: str | os.PathLike):
    """A connection to the database at `path` for a command or script, closed on leaving the block."""
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


_SCHEMA = resources.files("mapapp").joinpath("schema.sql").read_text(encoding="utf-8")
# Stamped into PRAGMA user_version so that a connection runs the schema script only when it changed.
_SCHEMA_STAMP = zlib.crc32(_SCHEMA.encode("utf-8")) & 0x7FFFFFFF


def init_schema(conn: sqlite3.Connection) -> None:
    """Create every table and index that does not exist yet (a no-op when the schema is current)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] != _SCHEMA_STAMP:
        conn.executescript(_SCHEMA)
        conn.execute(f"PRAGMA user_version = {_SCHEMA_STAMP}")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection, *, immediate: bool = True):
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception; nests as a SAVEPOINT."""
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
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def get_db() -> sqlite3.Connection:
    """The current request's connection, opened on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(_error: BaseException | None = None) -> None:
    """Close the request's connection, if one was opened."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


@click.command("init-db")
def init_db_command() -> None:
    """Create the database schema in the app's data folder."""
    connect(current_app.config["DATABASE"]).close()
    click.echo(f"Initialised {current_app.config['DATABASE']}")


def init_app(app: Flask) -> None:
    """Close the connection at teardown and register `flask init-db`."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
