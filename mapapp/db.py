"""The SQLite database: connections (WAL, foreign keys), transactions, the request's connection on `g`."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import zlib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from flask import Flask

# Flask is imported where a request needs it: the command-line paths (geoparse, ingest) never load it.

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


def _statements(script: str) -> list[str]:
    """The SQL statements of a script, whole (a trigger's body keeps its inner semicolons)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        if not pending and (not line.strip() or line.lstrip().startswith("--")):
            continue  # comments between statements
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    return statements


_STATEMENTS = _statements(_SCHEMA)
# Column order of place_names since the SQLite 3.40 integrity_check workaround (see schema.sql).
_PLACE_NAMES_COLUMNS = ["key", "place_id", "kind", "name"]


def _migrate(conn: sqlite3.Connection) -> None:
    """Rewrite tables that an older schema made differently (inside init_schema's transaction)."""
    columns = [row[1] for row in conn.execute("PRAGMA table_info(place_names)")]
    if columns and columns != _PLACE_NAMES_COLUMNS:
        create = next(s for s in _STATEMENTS if s.startswith("CREATE TABLE IF NOT EXISTS place_names "))
        listed = ", ".join(_PLACE_NAMES_COLUMNS)
        conn.execute(create.replace(" place_names ", " place_names_migrated ", 1))
        conn.execute(f"INSERT INTO place_names_migrated ({listed}) SELECT {listed} FROM place_names")
        # Dropping the old table drops its index and the name_keys triggers; the schema script remakes them.
        conn.execute("DROP TABLE place_names")
        conn.execute("ALTER TABLE place_names_migrated RENAME TO place_names")
    articles = [row[1] for row in conn.execute("PRAGMA table_info(articles)")]
    if articles and "near" not in articles:
        conn.execute("ALTER TABLE articles ADD COLUMN near TEXT")


# --- issue 12 (articles from the web, full-text search): one schema step, kept apart so that it ports as is.
_WEB_ARTICLE_COLUMNS = {"author": "TEXT NOT NULL DEFAULT ''", "fetched_url": "TEXT", "fingerprint": "INTEGER"}


def _add_web_article_columns(conn: sqlite3.Connection) -> bool:
    """Give an older articles table the web-ingest columns; True when its search index must be filled after."""
    columns = [row[1] for row in conn.execute("PRAGMA table_info(articles)")]
    if not columns:
        return False  # a new database: the schema script creates everything
    for name, declaration in _WEB_ARTICLE_COLUMNS.items():
        if name not in columns:
            conn.execute(f"ALTER TABLE articles ADD COLUMN {name} {declaration}")
    return not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles_fts'").fetchone()


def _fill_search_index(conn: sqlite3.Connection) -> None:
    """Index the articles that existed before the search index was created (after the schema script)."""
    conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
# --- end of issue 12's schema step


def init_schema(conn: sqlite3.Connection) -> None:
    """Create every table and index that does not exist yet and migrate old ones (no-op when current)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] == _SCHEMA_STAMP:
        return
    # One write transaction: two processes starting at once do not both migrate, and a crash leaves the old
    # schema whole.
    with transaction(conn):
        if conn.execute("PRAGMA user_version").fetchone()[0] == _SCHEMA_STAMP:
            return
        _migrate(conn)
        fill_search_index = _add_web_article_columns(conn)
        for statement in _STATEMENTS:
            conn.execute(statement)
        if fill_search_index:
            _fill_search_index(conn)
        conn.execute(f"PRAGMA user_version = {_SCHEMA_STAMP}")


def check(path: str | os.PathLike) -> list[str]:
    """Problems that PRAGMA integrity_check and foreign_key_check find in a database file, one line each.

    Opens the file as it is (no schema script, no migration), so that a damaged file is reported, not
    changed. [] means sound.
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
    """Create the database schema in the app's data folder."""
    from flask import current_app

    connect(current_app.config["DATABASE"]).close()
    click.echo(f"Initialised {current_app.config['DATABASE']}")


def init_app(app: Flask) -> None:
    """Close the connection at teardown and register `flask init-db`."""
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
