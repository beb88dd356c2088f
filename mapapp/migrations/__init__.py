"""Numbered schema migrations: the files NNNN_name.sql here, applied in order, each in its own transaction.

A database's version is the number of the last migration applied to it (0: none), kept in SQLite's
`PRAGMA user_version` and written in the same transaction as the migration, so a crash leaves either the old
version whole or the new one. To change the schema, add the next file; never edit one that has shipped.
PostgreSQL applies the same numbered steps, written in its SQL in postgresql/NNNN_name.sql (each whole file
is one step), and keeps the number in the one-row table schema_version.

Databases made before the numbering carry no version but a CRC of the whole schema script in user_version
(or 0, from before that stamp, with tables in it). They are brought to version 1 in one transaction by
re-running the idempotent 0001 script over their tables, after rewriting what older scripts made
differently; their data stays (see _rewrite_unnumbered).
"""
from __future__ import annotations

import functools
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

from mapapp.errors import IncompatibleDatabase

# Numbers below this are migration numbers; a user_version at or above it is the CRC stamp (crc32 & 0x7FFFFFFF
# of the schema script) of a database made before the numbering. Every shipped stamp is above 600,000,000.
UNNUMBERED_STAMP_FLOOR = 10_000
_FILE = re.compile(r"(\d{4})_(\w+)\.sql")
# Column order of place_names since the SQLite 3.40 integrity_check workaround (see 0001_initial.sql).
_PLACE_NAMES_COLUMNS = ["key", "place_id", "kind", "name"]


@dataclass(frozen=True)
class Migration:
    """One numbered step: its number, its name (from the file name) and its SQL statements."""

    number: int
    name: str
    statements: tuple[str, ...]


class Migrated(NamedTuple):
    """What migrate() did: the version found (`unnumbered` when the database predates the numbering), and the
    version it is at now."""

    start: int
    end: int
    unnumbered: bool = False


def statements(script: str) -> list[str]:
    """The SQL statements of a script, whole (a trigger's body keeps its inner semicolons)."""
    found, pending = [], ""
    for line in script.splitlines(keepends=True):
        if not pending and (not line.strip() or line.lstrip().startswith("--")):
            continue  # comments between statements
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    return found


@functools.cache
def migrations(dialect: str = "sqlite") -> tuple[Migration, ...]:
    """Every migration shipped for a store, in order; their numbers run 1, 2, 3, ... without a gap, the same
    numbers and names for both stores."""
    found = []
    folder = resources.files(__name__)
    for entry in (folder if dialect == "sqlite" else folder / dialect).iterdir():
        match = _FILE.fullmatch(entry.name)
        if match:
            script = entry.read_text(encoding="utf-8")
            # PostgreSQL runs a whole script as one statement list (its function bodies hold semicolons).
            found.append(Migration(int(match.group(1)), match.group(2),
                                   tuple(statements(script)) if dialect == "sqlite" else (script,)))
    found.sort(key=lambda migration: migration.number)
    numbers = [migration.number for migration in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"mapapp/migrations: numbers {numbers} do not run 1..{len(found)}")
    return tuple(found)


def latest() -> int:
    """The version a database has once every migration is applied."""
    return len(migrations())


def version(conn: sqlite3.Connection) -> int:
    """The database's version as stored (PRAGMA user_version, or PostgreSQL's schema_version table), which may
    be an unnumbered stamp (SQLite only)."""
    from mapapp.db import dialect

    if dialect(conn) == "postgresql":
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return row[0] or 0
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _set_version(conn, number: int) -> None:
    from mapapp.db import dialect

    if dialect(conn) == "postgresql":
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    else:
        conn.execute(f"PRAGMA user_version = {number}")


def _unnumbered(conn: sqlite3.Connection, found: int) -> bool:
    from mapapp.db import dialect

    if dialect(conn) != "sqlite":
        return False
    if found >= UNNUMBERED_STAMP_FLOOR:
        return True
    return found == 0 and conn.execute("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table')").fetchone()[0]


def migrate(conn: sqlite3.Connection) -> Migrated:
    """Apply every migration the database lacks, each in its own transaction; a no-op when it is current.

    `conn` is in autocommit mode (mapapp.db.connect). Raises IncompatibleDatabase for a database that a newer
    mapapp migrated further than this one knows.
    """
    from mapapp.db import dialect, transaction

    steps = migrations(dialect(conn))
    target = len(steps)
    start = version(conn)
    if start == target:
        return Migrated(start, start)
    unnumbered = _unnumbered(conn, start)
    if target < start < UNNUMBERED_STAMP_FLOOR:
        raise IncompatibleDatabase(f"the database is at schema version {start}, newer than this mapapp knows "
                                   f"({target}): upgrade mapapp")
    for migration in steps:
        # One write transaction each, the version re-read inside it: of two processes starting at once, the
        # second finds the step done and skips it.
        with transaction(conn):
            adopting = _unnumbered(conn, version(conn))  # only ever before migration 1
            if adopting:
                _rewrite_unnumbered(conn)
            elif version(conn) >= migration.number:
                continue
            for statement in migration.statements:
                conn.execute(statement)
            if adopting:
                # Names written before triggers kept name_keys: fill it once (the triggers keep it after that).
                conn.execute("INSERT OR IGNORE INTO name_keys (key) SELECT DISTINCT key FROM place_names")
            _set_version(conn, migration.number)
    return Migrated(0 if unnumbered else start, version(conn), unnumbered)


def _rewrite_unnumbered(conn: sqlite3.Connection) -> None:
    """Rewrite what the scripts before numbered migrations made differently, so that 0001 completes it."""
    columns = [row[1] for row in conn.execute("PRAGMA table_info(place_names)")]
    if columns and columns != _PLACE_NAMES_COLUMNS:
        create = next(s for s in migrations()[0].statements if s.startswith("CREATE TABLE IF NOT EXISTS place_names "))
        listed = ", ".join(_PLACE_NAMES_COLUMNS)
        conn.execute(create.replace(" place_names ", " place_names_migrated ", 1))
        conn.execute(f"INSERT INTO place_names_migrated ({listed}) SELECT {listed} FROM place_names")
        # Dropping the old table drops its index and the name_keys triggers; the 0001 script remakes them.
        conn.execute("DROP TABLE place_names")
        conn.execute("ALTER TABLE place_names_migrated RENAME TO place_names")
    articles = [row[1] for row in conn.execute("PRAGMA table_info(articles)")]
    if articles and "near" not in articles:
        conn.execute("ALTER TABLE articles ADD COLUMN near TEXT")
    # Indexes and a table that wider ones replaced.
    conn.execute("DROP INDEX IF EXISTS mentions_article")
    conn.execute("DROP INDEX IF EXISTS mentions_place")
    conn.execute("DROP TABLE IF EXISTS login_failures")
