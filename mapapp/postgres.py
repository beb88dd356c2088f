"""The PostgreSQL store: a psycopg connection that speaks the subset of sqlite3's interface mapapp uses.

Queries are written once, in SQL both stores accept, with sqlite3's `?` placeholders; this module turns them
into psycopg's `%s` (and doubles a literal `%`), so that no query has a second copy. The few statements that
must differ (full-text search, date arithmetic, the schema) are chosen by `mapapp.db.dialect(conn)`.
Rows read like sqlite3.Row: by position, by column name, and `keys()`.
"""
from __future__ import annotations

import functools
import re

_PLACEHOLDER = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*")|(\?)|(%)""")


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """`sql` with its `?` placeholders as `%s` and literal `%` as `%%`; quoted text is left alone but for `%`."""
    def swap(match: re.Match) -> str:
        quoted, placeholder, percent = match.groups()
        if quoted is not None:
            return quoted.replace("%", "%%")
        return "%s" if placeholder else "%%"
    return _PLACEHOLDER.sub(swap, sql)


def _checked(parameters) -> tuple:
    # PostgreSQL's text cannot hold NUL, where SQLite's can: refuse it as bad input (a 400), not a server error.
    values = tuple(parameters)
    if any(isinstance(value, str) and "\x00" in value for value in values):
        from mapapp.errors import InvalidInput

        raise InvalidInput("text may not contain a NUL character")
    return values


class Row(tuple):
    """A result row: a tuple that also answers row["column"] and keys(), as sqlite3.Row does."""

    __slots__ = ()
    _columns: dict[str, int] = {}
    _names: tuple[str, ...] = ()

    def __getitem__(self, item):
        if isinstance(item, str):
            return tuple.__getitem__(self, self._columns[item])
        return tuple.__getitem__(self, item)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._names)


@functools.lru_cache(maxsize=1024)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_names": names,
                                "_columns": {name: i for i, name in enumerate(names)}})


def _row_factory(cursor):
    # psycopg's row-factory protocol: called per result, returns what makes one row from its values.
    if cursor.description is None:
        return tuple
    return _row_class(tuple(column.name for column in cursor.description))


class Cursor:
    """The result of Connection.execute: fetchone, fetchall, iteration and rowcount, as sqlite3's cursor."""

    def __init__(self, cursor):
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        """Rows the statement changed (-1 when not known)."""
        return self._cursor.rowcount

    @property
    def description(self):
        """The result's columns (DB-API)."""
        return self._cursor.description

    def fetchone(self):
        """The next row, or None."""
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list:
        """Every remaining row."""
        return self._cursor.fetchall() if self._cursor.description else []

    def fetchmany(self, size: int = 1000) -> list:
        """Up to `size` more rows."""
        return self._cursor.fetchmany(size) if self._cursor.description else []

    def __iter__(self):
        return iter(self._cursor) if self._cursor.description else iter(())

    def close(self) -> None:
        """Release the cursor."""
        self._cursor.close()


class Connection:
    """A PostgreSQL connection in autocommit mode (mapapp.db.transaction issues BEGIN), rows as Row."""

    dialect = "postgresql"

    def __init__(self, url: str):
        import psycopg

        self.url = url
        self._conn = psycopg.connect(url, autocommit=True, row_factory=_row_factory)

    @property
    def in_transaction(self) -> bool:
        """True between BEGIN and COMMIT/ROLLBACK, as sqlite3's attribute."""
        from psycopg.pq import TransactionStatus

        return self._conn.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, parameters=()) -> Cursor:
        """Run one statement with `?` placeholders."""
        cursor = self._conn.cursor()
        cursor.execute(translate(sql), _checked(parameters) if parameters else None)
        return Cursor(cursor)

    def executemany(self, sql: str, seq_of_parameters) -> Cursor:
        """Run one statement once per parameter tuple (pipelined by psycopg); rowcount is their total."""
        cursor = self._conn.cursor()
        cursor.executemany(translate(sql), [_checked(p) for p in seq_of_parameters])
        return Cursor(cursor)

    def copy_rows(self, table: str, columns: list[str], rows) -> None:
        """Bulk-load `rows` into `table` with COPY, the fast path for `mapapp db copy` and the gazetteer."""
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
        with self._conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __del__(self):
        # Dropped unclosed: close it, as sqlite3 closes its connections when they are collected (psycopg would
        # warn instead).
        conn = getattr(self, "_conn", None)
        if conn is not None and not conn.closed:
            conn.close()


def connect(url: str) -> Connection:
    """Open the PostgreSQL database at `url` (postgresql://user@host:port/name)."""
    return Connection(url)
