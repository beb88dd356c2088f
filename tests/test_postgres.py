"""The PostgreSQL + PostGIS store against a real server (tests/postgres_support.py): migrations, `db copy`,
`gazetteer build`, and two app servers sharing one database (sessions, 409 on stale saves, the login rate limit)."""
from __future__ import annotations

import pytest
from admin_support import PASSWORD, VILLAGE, csrf_from, login, make_app, post_form, post_json, row
from mapdata import seed_sample
from postgres_support import close_gazetteer

from mapapp import migrations
from mapapp.db import DATABASE_NAME, connect, dialect, opened, transaction
from mapapp.gazetteer import editing
from mapapp.gazetteer.place import read_place
from mapapp.gazetteer.store import Gazetteer
from mapapp.transfer import TABLES, checksum


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


def test_gazetteer_build_on_postgresql_is_the_file_build_and_keeps_admin_edits(runner, data_dir, seeded_pg_url,
                                                                             monkeypatch):
    # The same edit and deletion on a built SQLite gazetteer and on a PostgreSQL one; then only the latter is
    # rebuilt, so the two must still hold the same rows (a rebuild keeps what admins own or deleted).
    file = data_dir / DATABASE_NAME
    for database in (file, seeded_pg_url):
        with opened(database) as conn:
            yerevan = conn.execute("SELECT id FROM places WHERE name = 'Yerevan' AND feature = 'city'").fetchone()[0]
            editing.update_place(conn, yerevan, {"population": 1234567}, 1, "alice")
            editing.delete_place(conn, "gn:174982", 1, "alice")
    with opened(seeded_pg_url) as server:
        version = int(server.execute("SELECT value FROM meta WHERE key = 'gazetteer_version'").fetchone()[0])
    monkeypatch.setenv("MAPAPP_DATABASE_URL", seeded_pg_url)
    result = runner.invoke(["gazetteer", "build", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Built ") and "into postgresql://" in result.output
    with opened(seeded_pg_url) as server, opened(file) as sqlite:
        assert read_place(server, yerevan).population == 1234567 and read_place(server, yerevan).source == "admin"
        assert read_place(server, "gn:174982") is None
        assert int(server.execute("SELECT value FROM meta WHERE key = 'gazetteer_version'").fetchone()[0]) > version
        for table in ("places", "place_names", "name_keys"):
            columns = [row[1] for row in sqlite.execute(f"PRAGMA table_info({table})") if row[1] != "updated_at"]
            assert checksum(server, table, columns) == checksum(sqlite, table, columns), table
    assert runner.invoke(["db", "check"]).output == "ok\n"


def test_reverse_answers_alike_from_postgis_and_from_the_file_index(gazetteer_template, seeded_pg_url):
    # Every 10 degrees over the globe (18 of the 648 points lie in no shape, so the nearest place answers),
    # and the places the gazetteer tests probe (the corridor, the district, the Syunik-Lachin border).
    points = [(lat, lon) for lat in range(-85, 90, 10) for lon in range(-175, 180, 10)]
    points += [(39.82, 46.75), (39.64, 46.55), (40.18, 44.51), (39.141, 46.415), (39.141, 46.455), (90, 0), (-90, 0)]
    sqlite, postgis = Gazetteer(gazetteer_template / DATABASE_NAME), Gazetteer(seeded_pg_url)
    try:
        nearest = 0
        for point in points:
            on_file = [location.raw["id"] for location in sqlite.reverse(point, exactly_one=False) or []]
            on_server = [location.raw["id"] for location in postgis.reverse(point, exactly_one=False) or []]
            assert on_server == on_file, point
            nearest += not sqlite._regions_at(*point)
        assert nearest >= 18
        # PostGIS answered: this host never loaded the shapes or the points.
        assert postgis._tree is None and postgis._point_tree is None
    finally:
        sqlite.close()
        postgis.close()


@pytest.fixture
def two_servers(small_dir, small_pg_url, tmp_path):
    """Two apps with their own data folders (as on two hosts) over one PostgreSQL database."""
    import shutil

    other = tmp_path / "other-host"
    shutil.copytree(small_dir, other)
    apps = (make_app(small_dir, DATABASE_URL=small_pg_url, SECRET_KEY="shared"),
            make_app(other, DATABASE_URL=small_pg_url, SECRET_KEY="shared"))
    yield apps
    for app in apps:
        close_gazetteer(app)


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


def test_a_form_served_by_one_server_is_accepted_by_the_other_and_a_forged_one_by_neither(two_servers):
    first, second = two_servers
    alice = login(first.test_client(), "alice")  # alice.csrf: the token of a form the first server rendered
    other = second.test_client()
    other.set_cookie("session", alice.get_cookie("session").value)
    other.csrf = alice.csrf
    form = {**VILLAGE, "aliases": ""}
    assert post_form(other, "/admin/places", form).status_code == 302  # saved through the second server
    assert row(second, "SELECT name FROM places WHERE id = 'admin:zorvanik'")["name"] == "Zorvanik"
    for client in (alice, other):
        forged = client.post("/admin/places", data={**form, "id": "admin:forged", "csrf_token": "x" * 40})
        assert forged.status_code == 400
    assert row(first, "SELECT 1 FROM places WHERE id = 'admin:forged'") is None


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


@pytest.fixture
def sqlite_and_postgresql(seeded_template, seeded_pg_url, tmp_path):
    """Two apps over the same data (the full gazetteer and the seeds): one on SQLite, one on PostgreSQL."""
    from conftest import copy_data_dir

    apps = (make_app(copy_data_dir(seeded_template, tmp_path / "sqlite")),
            make_app(copy_data_dir(seeded_template, tmp_path / "pg"), DATABASE_URL=seeded_pg_url))
    yield apps
    for app in apps:
        close_gazetteer(app)


READER_URLS = [
    "/api/features", "/api/features?zoom=4", "/api/features?q=lachin", "/api/features?feature=city",
    "/api/features?from=2020-10-01&to=2020-12-31&undated=1", "/api/features?text=peacekeepers",
    "/api/facets", "/api/articles", "/api/articles/1", "/api/places/cur:lachin-corridor",
    "/api/density", "/api/density?by=admin1&count=mentions", "/api/density?step=week", "/api/density?step=month",
    "/api/export.csv", "/api/export.geojson", "/api/export.kml", "/api/export.csv?text=Armenia%20OR%20Russia",
]


@pytest.mark.parametrize("url", READER_URLS)
def test_the_maps_and_api_answer_alike_on_both_stores(sqlite_and_postgresql, url):
    on_sqlite, on_postgresql = (app.test_client().get(url) for app in sqlite_and_postgresql)
    assert on_sqlite.status_code == on_postgresql.status_code == 200, on_postgresql.get_data(as_text=True)[:300]
    assert on_postgresql.get_data() == on_sqlite.get_data()


@pytest.mark.parametrize("query", ["Lachin", "peacekeep*", '"Russian peacekeepers"', "Russia NOT xyzzy",
                                   "(Lachin OR Stepanakert) AND corridor", "Nagorno-Karabakh"])
def test_search_finds_the_same_articles_on_both_stores(sqlite_and_postgresql, query):
    found = []
    for app in sqlite_and_postgresql:
        body = app.test_client().get("/api/search", query_string={"q": query}).get_json()
        found.append((body["total"], sorted(hit["id"] for hit in body["articles"])))
        assert all(hit["matches"] for hit in body["articles"]), body  # each snippet marks what matched
    assert found[0] == found[1] and found[0][0] > 0


@pytest.mark.parametrize("query", ["(Lachin", "NOT", "AND OR", "Lachin)"])
def test_a_search_neither_store_understands_is_a_400_on_both(sqlite_and_postgresql, query):
    for app in sqlite_and_postgresql:
        response = app.test_client().get("/api/search", query_string={"q": query})
        assert response.status_code == 400 and response.get_json()["field"] == "q"


@pytest.mark.parametrize("proxies, client", [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_behind_a_trusted_proxy_the_rate_limit_counts_the_real_client(small_dir, small_pg_url, proxies, client):
    app = make_app(small_dir, DATABASE_URL=small_pg_url, TRUSTED_PROXIES=proxies)
    try:
        browser = app.test_client()
        token = csrf_from(browser.get("/auth/login").get_data(as_text=True))
        response = browser.post("/auth/login", headers={"X-Forwarded-For": "203.0.113.9"},
                                data={"username": "alice", "password": "wrong password!", "csrf_token": token})
        assert response.status_code == 401
        conn = connect(small_pg_url)
        try:
            assert [row[0] for row in conn.execute("SELECT client FROM login_attempts")] == [client]
        finally:
            conn.close()
    finally:
        close_gazetteer(app)
