"""Copying a whole database from one store to another (`mapapp db copy`): every table, checked by count and
checksum, in one transaction on the target.

What is copied is each table's stored columns. What a store derives itself is not: the
search index (SQLite's FTS5 tables, PostgreSQL's generated tsvector), PostgreSQL's geometry column and the
article word index, which fills itself on first use. name_keys is copied as it is, its triggers off meanwhile.
"""
from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Collection
from dataclasses import dataclass

from mapapp.db import dialect, transaction
from mapapp.errors import InvalidInput

# In the order foreign keys need them.
TABLES = ("places", "place_names", "name_keys", "place_history", "not_places", "meta", "articles", "mentions",
          "mention_corrections", "pending_reresolution", "users", "user_sessions", "login_attempts", "feeds",
          "feed_items")
# The tables whose integer ids the store hands out.
IDENTITY_TABLES = ("place_history", "articles", "mentions", "mention_corrections", "pending_reresolution", "users",
                   "feeds")
_BATCH = 5000


@dataclass(frozen=True)
class TableCopy:
    """One table copied: its rows, and the checksum of its rows read back on either side (equal when whole)."""

    table: str
    rows: int
    source_checksum: str
    target_checksum: str


def _columns(conn, table: str) -> list[str]:
    if dialect(conn) == "postgresql":
        return [row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position", (table,))]
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _value(value) -> str:
    return repr(float(value)) if isinstance(value, float) else repr(value)


def checksum(conn, table: str, columns: list[str]) -> tuple[int, str]:
    """(row count, checksum of the rows) of `columns` of `table`: the same on both stores for the same rows.

    The sum of each row's SHA-256, so that it does not depend on the order rows come in (the stores' orders
    of text differ unless PostgreSQL's collation is C)."""
    total, count = 0, 0
    for row in conn.execute(f"SELECT {_quoted(columns)} FROM {table}"):
        line = "\x1f".join(_value(v) for v in row).encode("utf-8", "surrogatepass")
        total += int.from_bytes(hashlib.sha256(line).digest(), "big")
        count += 1
    return count, f"{total % (1 << 256):064x}"


def copy_table(source, target, table: str, *, skip: tuple[str, Collection] | None = None,
               tick: Callable[[], object] | None = None) -> list[str]:
    """Insert the rows of `table` in `source` into the same table of `target`, inside the caller's transaction:
    COPY on PostgreSQL, batched INSERTs on SQLite. Returns the columns copied (those both sides have,
    PostgreSQL's generated ones left to the server).

    `skip`: (column, values): rows whose `column` holds one of `values` stay behind. `tick`: called once for
    each row read (a progress bar)."""
    columns = [c for c in _columns(source, table) if c in set(_columns(target, table))]
    rows = (tuple(row) for row in source.execute(f"SELECT {_quoted(columns)} FROM {table}"))
    if skip is not None or tick is not None:
        at, values = (columns.index(skip[0]), skip[1]) if skip else (None, ())

        def wanted(row) -> bool:
            if tick is not None:
                tick()
            return at is None or row[at] not in values
        rows = filter(wanted, rows)
    if dialect(target) == "postgresql":
        target.copy_rows(table, columns, rows)
    else:
        marks = ", ".join("?" * len(columns))
        while batch := list(itertools.islice(rows, _BATCH)):
            target.executemany(f"INSERT INTO {table} ({_quoted(columns)}) VALUES ({marks})", batch)
    return columns


def copy_database(source, target) -> list[TableCopy]:
    """Copy every table of `source` into the empty, migrated `target`, in one transaction; InvalidInput when
    the target already holds data. Returns each table's count and both checksums (compare them)."""
    for table in TABLES:
        if target.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
            raise InvalidInput(f"the target database is not empty: table {table} has rows", field="to")
    copied = []
    with transaction(target):
        postgres = dialect(target) == "postgresql"
        if postgres:  # name_keys is copied as it is: its triggers would insert each key a second time
            target.execute("ALTER TABLE place_names DISABLE TRIGGER USER")
        for table in TABLES:
            copied.append((table, copy_table(source, target, table)))
        if postgres:
            target.execute("ALTER TABLE place_names ENABLE TRIGGER USER")
            for table in IDENTITY_TABLES:  # new ids continue after the copied ones
                target.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                               f" COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")
    results = []
    for table, columns in copied:
        count, source_sum = checksum(source, table, columns)
        target_count, target_sum = checksum(target, table, columns)
        if target_count != count:
            target_sum += f" ({target_count} rows)"
        results.append(TableCopy(table, count, source_sum, target_sum))
    return results
