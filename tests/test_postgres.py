"""The PostgreSQL + PostGIS store against a real server (tests/postgres_support.py): migrations, `db copy`,
and two app servers sharing one database (sessions, 409 on stale saves, the login rate limit)."""
from __future__ import annotations

import pytest
from admin_support import PASSWORD, VILLAGE, csrf_from, login, make_app, post_form, post_json
from mapdata import seed_sample

from mapapp import migrations
from mapapp.db import DATABASE_NAME, connect, dialect, opened, transaction
from mapapp.transfer import TABLES


def test_both_stores_ship_the_same_numbered_migrations():
    sqlite, postgres = migrations.migrations("sqlite"), migrations.migrations("postgresql")
    assert [(m.number, m.name) for m in sqlite] == [(m.number, m.name) for m in postgres]


def test_a_new_database_is_migrated_to_the_latest_version_once(empty_pg_url):
    conn = connect(empty_pg_url)
    try:
        assert dialect(conn) == "postgresql"
        assert migrations.version(conn) == migrations.latest()
        assert migrations.migrate(conn) == (migrations.latest(), migrations.latest(), False)
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1
        assert conn.execute("SELECT PostGIS_Version()").fetchone()[0].startswith("3")
    finally:
        conn.close()


def test_rows_read_by_name_and_position_and_placeholders_survive_percent_signs(empty_pg_url):
    conn = connect(empty_pg_url)
    try:
        with transaction(conn):
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("100% sure?", "it's 50%"))
        row = conn.execute("SELECT key, value FROM meta WHERE key LIKE '100%' AND value = ?", ("it's 50%",)).fetchone()
        assert row["key"] == row[0] == "100% sure?" and row.keys() == ["key", "value"] and dict(zip(row.keys(), row))
    finally:
        conn.close()


def test_a_failed_transaction_leaves_nothing(empty_pg_url):
    conn = connect(empty_pg_url)
    try:
        with pytest.raises(Exception), transaction(conn):
            conn.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
            conn.execute("INSERT INTO meta (key, value) VALUES ('a', '2')")  # duplicate key
        assert conn.execute("SELECT count(*) FROM meta").fetchone()[0] == 0 and not conn.in_transaction
    finally:
        conn.close()


def test_db_copy_moves_every_table_with_equal_counts_and_checksums(runner, data_dir, empty_pg_url):
    with opened(data_dir / DATABASE_NAME) as conn:
        seed_sample(conn)
    result = runner.invoke(["db", "copy", "--to", empty_pg_url])
    assert result.exit_code == 0, result.output
    source, target = connect(data_dir / DATABASE_NAME), connect(empty_pg_url)
    try:
        for table in TABLES:
            count = source.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert target.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == count, table
            assert f"{table}: {count} rows, checksum " in result.output
        assert "every table matches" in result.output
        # New rows continue after the copied ids.
        with transaction(target):
            new_id = target.execute("INSERT INTO articles (key, text, content_hash, ingested_at) VALUES"
                                    " ('new', 'x', 'h', 'now') RETURNING id").fetchone()[0]
        assert new_id > source.execute("SELECT max(id) FROM articles").fetchone()[0]
    finally:
        source.close()
        target.close()


def test_db_copy_refuses_a_target_that_holds_data(runner, data_dir, empty_pg_url):
    assert runner.invoke(["db", "copy", "--to", empty_pg_url]).exit_code == 0
    again = runner.invoke(["db", "copy", "--to", empty_pg_url])
    assert again.exit_code != 0 and "not empty: table places has rows" in again.output
    assert len(again.output.strip().splitlines()) == 1


def test_db_copy_names_a_bad_target_in_one_line(runner):
    result = runner.invoke(["db", "copy", "--to", "postgresql://nobody@127.0.0.1:1/none"])
    assert result.exit_code != 0 and result.output.startswith("Error: ")
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


@pytest.fixture
def two_servers(small_dir, small_pg_url, tmp_path):
    """Two apps with their own data folders (as on two hosts) over one PostgreSQL database."""
    import shutil

    other = tmp_path / "other-host"
    shutil.copytree(small_dir, other)
    apps = (make_app(small_dir, DATABASE_URL=small_pg_url, SECRET_KEY="shared"),
            make_app(other, DATABASE_URL=small_pg_url, SECRET_KEY="shared"))
    yield apps
    for app in apps:  # the gazetteer each app opened keeps its connection until closed
        gazetteer = app.extensions.pop("mapapp.gazetteer", None)
        if gazetteer is not None:
            gazetteer.close()


def test_a_session_made_on_one_server_is_valid_on_the_other(two_servers):
    first, second = two_servers
    client = login(first.test_client(), "alice")
    cookie = client.get_cookie("session")
    other = second.test_client()
    other.set_cookie("session", cookie.value)
    assert other.get("/admin/").status_code == 200
    # Logging out on the second ends it on the first too: the session lives in the database.
    other.post("/auth/logout", data={"csrf_token": csrf_from(other.get("/admin/places/new").get_data(as_text=True))})
    assert client.get("/admin/").status_code == 302


def test_two_editors_on_different_servers_get_one_success_and_one_409(two_servers):
    first, second = two_servers
    alice, bob = login(first.test_client(), "alice"), login(second.test_client(), "bob")
    assert post_json(alice, "/admin/places", VILLAGE).status_code == 201
    saved = post_form(alice, "/admin/places/admin:zorvanik", {**VILLAGE, "aliases": "", "population": "600",
                                                              "version": "1"})
    stale = post_json(bob, "/admin/places/admin:zorvanik", {**VILLAGE, "population": 700, "version": 1})
    assert saved.status_code == 302 and stale.status_code == 409
    assert stale.get_json()["current"]["population"] == 600


def test_the_login_rate_limit_counts_failures_on_both_servers(two_servers):
    first, second = two_servers
    limit = first.config["LOGIN_FAILURE_LIMIT"]
    statuses = []
    for attempt in range(limit + 1):
        client = (first if attempt % 2 else second).test_client()
        token = csrf_from(client.get("/auth/login").get_data(as_text=True))
        statuses.append(client.post("/auth/login", data={"username": "alice", "password": "wrong password!",
                                                         "csrf_token": token}).status_code)
    assert statuses[:limit] == [401] * limit and statuses[limit] == 429
    # The right password is refused too while the limit holds, on either server.
    client = first.test_client()
    token = csrf_from(client.get("/auth/login").get_data(as_text=True))
    assert client.post("/auth/login", data={"username": "alice", "password": PASSWORD,
                                            "csrf_token": token}).status_code == 429
