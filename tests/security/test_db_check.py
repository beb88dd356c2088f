"""`mapapp db check` on either store: the store's own check (SQLite's integrity and foreign-key checks, meaningful
on this machine's SQLite; PostgreSQL's amcheck), the schema version, the name keys and the shapes' validity.

Issue 7, fault 9: PRAGMA integrity_check said "NULL value in place_names.name" for every row. Cause: a bug of
SQLite 3.40.0-3.40.1 (fixed in 3.41.0): for a WITHOUT ROWID table its NOT NULL check misreads a column that
is not in the PRIMARY KEY but is declared before the key's last column. The schema now declares the key
columns first, and mapapp.migrations rewrites databases made with the old column order.
"""
from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from mapapp import migrations
from mapapp.cli import main
from mapapp.db import DATABASE_NAME, check, connect, opened, transaction

OLD_PLACE_NAMES = """CREATE TABLE place_names (
    place_id TEXT NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    key      TEXT NOT NULL,
    kind     TEXT NOT NULL DEFAULT 'alias',
    PRIMARY KEY (key, place_id, kind)
) WITHOUT ROWID"""
SQLITE_340 = (3, 40, 0) <= sqlite3.sqlite_version_info < (3, 41, 0)


def _db_check(folder):
    return CliRunner().invoke(main, ["db", "check", "--data", str(folder)])


def test_db_check_says_ok_on_a_built_gazetteer(data_dir):
    result = _db_check(data_dir)
    assert result.exit_code == 0, result.output
    assert result.output == "ok\n"


def test_integrity_check_is_ok_on_a_fresh_two_row_place_names(tmp_path):
    conn = connect(tmp_path / DATABASE_NAME)
    conn.execute("INSERT INTO places (id, name, feature, lat, lon, source) VALUES ('x:a', 'A', 'city', 1, 2, 't')")
    conn.executemany("INSERT INTO place_names (place_id, name, key, kind) VALUES (?, ?, ?, ?)",
                     [("x:a", "A", "a", "name"), ("x:a", "Ay", "ay", "alias")])
    assert [row[0] for row in conn.execute("PRAGMA integrity_check")] == ["ok"]
    conn.close()


def _make_old_layout(db) -> list[tuple]:
    """Rewrite place_names as the schema before the fix declared it; returns its rows."""
    conn = sqlite3.connect(db)
    rows = sorted(conn.execute("SELECT key, place_id, kind, name FROM place_names"))
    conn.executescript(f"""
        PRAGMA foreign_keys = OFF;
        BEGIN;
        CREATE TABLE old_names AS SELECT * FROM place_names;
        DROP TABLE place_names;
        {OLD_PLACE_NAMES};
        INSERT INTO place_names (place_id, name, key, kind) SELECT place_id, name, key, kind FROM old_names;
        DROP TABLE old_names;
        -- and without what the numbered migrations after 0001 add: a database from before the numbering
        DROP TRIGGER articles_fts_insert; DROP TRIGGER articles_fts_delete; DROP TRIGGER articles_fts_update;
        DROP TABLE articles_fts; DROP INDEX articles_fetched_url; DROP TABLE feed_items; DROP TABLE feeds;
        ALTER TABLE articles DROP COLUMN author; ALTER TABLE articles DROP COLUMN fetched_url;
        ALTER TABLE articles DROP COLUMN fingerprint;
        DROP TRIGGER article_words_delete; DROP TRIGGER article_words_text; DROP TABLE article_words;
        PRAGMA user_version = 0;
        COMMIT;""")
    conn.close()
    return rows


def test_an_old_database_is_migrated_and_then_checks_ok(small_dir):  # noqa: F811
    db = small_dir / DATABASE_NAME
    rows = _make_old_layout(db)
    before = check(db)
    if SQLITE_340:  # the false report the issue saw: one per row
        assert before == ["NULL value in place_names.name"] * min(len(rows), 100)
    conn = connect(db)  # migrates
    assert [r[1] for r in conn.execute("PRAGMA table_info(place_names)")] == ["key", "place_id", "kind", "name"]
    assert sorted(tuple(r) for r in conn.execute("SELECT key, place_id, kind, name FROM place_names")) == rows
    # The index and the triggers that keep name_keys are back.
    objects = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'place_names'")}
    assert {"place_names_place", "name_keys_insert", "name_keys_delete"} <= objects
    with conn:
        conn.execute("INSERT INTO place_names (place_id, name, key, kind) VALUES ('gn:174982', 'Hayk', 'hayk', "
                     "'alias')")
    assert conn.execute("SELECT count(*) FROM name_keys WHERE key = 'hayk'").fetchone()[0] == 1
    conn.close()
    assert check(db) == []
    assert _db_check(small_dir).output == "ok\n"


def test_db_check_reports_each_problem_on_its_own_line_and_exits_1(small_dir):  # noqa: F811
    db = small_dir / DATABASE_NAME
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute("PRAGMA foreign_keys = OFF")
    with conn:
        conn.execute("UPDATE places SET lat = 123 WHERE id = 'gn:174982'")  # outside CHECK (lat BETWEEN -90 AND 90)
        conn.execute("INSERT INTO place_names (key, place_id, kind, name) VALUES ('ghost', 'gn:0', 'name', 'Ghost')")
    conn.close()
    result = _db_check(small_dir)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines == ["CHECK constraint failed in places",
                     "foreign key: a row of place_names refers to a missing places row"]


def test_db_check_on_a_file_that_is_not_a_database(tmp_path):
    (tmp_path / DATABASE_NAME).write_bytes(b"this is not SQLite\n" * 500)
    result = _db_check(tmp_path)
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 1 and "not a database" in result.output


def test_db_check_without_a_database_says_so_in_one_line(tmp_path):
    result = _db_check(tmp_path / "empty")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: no database at {tmp_path / 'empty' / DATABASE_NAME}"
    assert not (tmp_path / "empty").exists()  # checking creates nothing


@pytest.mark.parametrize("args", [["db", "--help"], ["db", "check", "--help"]])
def test_db_commands_have_help(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and "Usage:" in result.output


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, small_dir):
    """(data folder, its database) over the small gazetteer, on each store in turn; PostgreSQL named in the
    folder's config.py, as an operator names it."""
    if request.param == "sqlite":
        return small_dir, small_dir / DATABASE_NAME
    url = request.getfixturevalue("small_pg_url")
    (small_dir / "config.py").write_text(f"DATABASE_URL = {url!r}\n", encoding="utf-8")
    return small_dir, url


def test_db_check_says_ok_on_either_store(store):
    folder, _database = store
    result = _db_check(folder)
    assert (result.exit_code, result.output) == (0, "ok\n")


def test_db_check_names_an_invalid_shape_and_a_lost_name_key_on_either_store(store):
    folder, database = store
    bowtie = {"type": "Polygon", "coordinates": [[[44, 40], [45, 41], [45, 40], [44, 41], [44, 40]]]}
    with opened(database) as conn, transaction(conn):
        conn.execute("UPDATE places SET geometry = ? WHERE id = 'gn:174982'", (json.dumps(bowtie),))
        conn.execute("DELETE FROM name_keys WHERE key = 'armenia'")
    result = _db_check(folder)
    assert result.exit_code == 1
    # The same words on both: PostGIS and shapely both ask GEOS.
    assert result.output.splitlines() == ["name_keys lacks the key 'armenia' of place_names",
                                          "place gn:174982: invalid geometry: Self-intersection[44.5 40.5]"]


def test_db_check_says_when_the_schema_is_behind_on_either_store(store):
    folder, database = store
    behind = migrations.latest() - 1
    with opened(database) as conn:
        if isinstance(database, str):
            conn.execute("UPDATE schema_version SET version = ?", (behind,))
        else:
            conn.execute(f"PRAGMA user_version = {behind}")
    result = _db_check(folder)
    assert result.exit_code == 1
    assert result.output == f"schema at version {behind}, not {migrations.latest()}: run `mapapp db migrate`\n"


def test_db_check_runs_amchecks_index_check_when_the_extension_is_installed(small_dir, small_pg_url):
    (small_dir / "config.py").write_text(f"DATABASE_URL = {small_pg_url!r}\n", encoding="utf-8")
    with opened(small_pg_url) as conn:
        conn.execute("CREATE EXTENSION amcheck")
        assert conn.execute("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                            " JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree'").fetchone()[0] > 10
    result = _db_check(small_dir)
    assert (result.exit_code, result.output) == (0, "ok\n")


def test_db_check_names_an_unreachable_server_in_one_line(small_dir):
    (small_dir / "config.py").write_text("DATABASE_URL = 'postgresql://nobody:secret@127.0.0.1:1/none'\n",
                                         encoding="utf-8")
    result = _db_check(small_dir)
    assert result.exit_code == 1 and len(result.output.splitlines()) == 1
    assert result.output.startswith("postgresql://nobody:***@127.0.0.1:1/none: ") and "secret" not in result.output
