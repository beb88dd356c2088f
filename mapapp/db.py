"""The SQLite database: connections (WAL, foreign keys), transactions, the request's connection on `g`.

Flask is imported only inside the request helpers, so that the library (gazetteer, geoparser, CLI) can use
this module without loading the web stack.
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


def database_path(data_dir: str | os.PathLike | None = None) -> Path:
    """Path of the database file inside `data_dir` (default: default_data_dir())."""
    return Path(data_dir or default_data_dir()) / DATABASE_NAME


def connect(path: str | os.PathLike, *, migrate: bool = True) -> sqlite3.Connection:
    """Open the database at `path` in WAL mode, autocommit, rows as sqlite3.Row, with every migration applied.

    `migrate=False` opens it as it is (for `mapapp db migrate`, which reports what it applies).
    """
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
