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
import urllib.parse
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


def check(location: str | os.PathLike) -> list[str]:
    """Problems found in the database at `location` (a file or a URL), one line each; [] means sound.

    First the store's own check: SQLite's PRAGMA integrity_check and foreign_key_check; on PostgreSQL (which
    enforces its foreign keys itself) amcheck's B-tree index check, when an operator has installed the extension.
    Then what either store must hold: the schema at the latest migration, name_keys holding exactly the keys of
    place_names, and every stored shape a valid geometry (PostGIS's ST_IsValid on PostgreSQL, shapely's on SQLite:
    both are GEOS's test). Opens the database as it is (no migration), so that damage is reported, not changed.
    """
    try:
        if is_url(location):
            conn = connect(location, migrate=False)
        else:
            conn = sqlite3.connect(location, timeout=30)
    except DatabaseError as error:
        return [f"{shown(location)}: {str(error).splitlines()[0]}"]
    try:
        problems = _store_problems(conn)
        if not problems:  # a damaged file's tables cannot be trusted to answer the rest
            problems = _data_problems(conn)
    except DatabaseError as error:
        problems = [f"{shown(location)}: {str(error).splitlines()[0]}"]
    finally:
        conn.close()
    return problems


def _store_problems(conn) -> list[str]:
    if dialect(conn) == "postgresql":
        if not conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'").fetchone():
            return []
        problems = []
        for (index,) in conn.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE a.amname = 'btree' AND n.nspname = current_schema() ORDER BY c.relname").fetchall():
            try:
                conn.execute("SELECT bt_index_check(?::regclass)", (index,))
            except DatabaseError as error:
                problems.append(f"index {index}: {str(error).splitlines()[0]}")
        return problems
    problems = [line for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"
                for line in str(row[0]).splitlines() if line.strip()]
    for table, rowid, parent, _fkid in conn.execute("PRAGMA foreign_key_check"):
        where = f"row {rowid}" if rowid is not None else "a row"
        problems.append(f"foreign key: {where} of {table} refers to a missing {parent} row")
    return problems


def _data_problems(conn) -> list[str]:
    found = migrations.version(conn)
    if found != migrations.latest():
        return [f"schema at version {found}, not {migrations.latest()}: run `mapapp db migrate`"]
    problems = [f"name_keys lacks the key {key!r} of place_names" for (key,) in conn.execute(
        "SELECT DISTINCT key FROM place_names n WHERE NOT EXISTS (SELECT 1 FROM name_keys k WHERE k.key = n.key)"
        " ORDER BY key LIMIT 20")]
    problems += [f"name_keys holds {key!r}, which no place_names row has" for (key,) in conn.execute(
        "SELECT key FROM name_keys k WHERE NOT EXISTS (SELECT 1 FROM place_names n WHERE n.key = k.key)"
        " ORDER BY key LIMIT 20")]
    if dialect(conn) == "postgresql":
        invalid = conn.execute("SELECT id, ST_IsValidReason(geom) FROM places WHERE geometry IS NOT NULL"
                               " AND NOT ST_IsValid(geom) ORDER BY id").fetchall()
    else:
        import shapely

        rows = conn.execute("SELECT id, geometry FROM places WHERE geometry IS NOT NULL ORDER BY id").fetchall()
        shapes = shapely.from_geojson([row[1] for row in rows], on_invalid="ignore")
        invalid = [(row[0], shapely.is_valid_reason(geom) if geom is not None else "not GeoJSON")
                   for row, geom, valid in zip(rows, shapes, shapely.is_valid(shapes)) if not valid]
    return problems + [f"place {place_id}: invalid geometry: {reason}" for place_id, reason in invalid]


def shown(location: str | os.PathLike) -> str:
    """`location` fit to print: a URL's password replaced by ***."""
    text = str(location)
    parts = urllib.parse.urlsplit(text)
    userinfo, _, host = parts.netloc.rpartition("@")
    if not is_url(text) or ":" not in userinfo:
        return text
    return parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{host}").geturl()


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
