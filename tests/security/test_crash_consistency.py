"""An admin save killed half-way leaves no article pointing at a stale gazetteer once the server is back.

Issue 7, fault 1: deleting a place and re-resolving its articles ran as two transactions, and `kill -9`
between them left mentions pointing at the deleted place for good. Now every admin write queues its
re-resolution in its own transaction; the request, the next start, the next ingest or a later request
finishes it. These tests kill a real `mapapp serve` process exactly between the commit and the
re-resolution (the server's test-only pause, MAPAPP_TEST_PAUSE_FIFO) and check the database after a restart.
"""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import requests
from admin_support import PASSWORD, VILLAGE, csrf_from, make_app

from mapapp.db import DATABASE_NAME, connect, transaction
from mapapp.web import admin as _admin  # noqa: F401  (imported now: "this process started" is before any test)

ARTICLES = {
    "road.txt": "Shelling near Zorvanik, a village east of Yerevan, was reported on Tuesday. Residents of "
                "Zorvanik said the road to Yerevan was closed.",
    "talks.txt": "Talks in Yerevan\n\nOfficials of Armenia met in Yerevan on Monday. Hayastan, as Armenians "
                 "call their country, asked Azerbaijan to reopen the road.",
}
YEREVAN, ARMENIA = "gn:616052", "gn:174982"


def _parser(db):
    from mapapp.gazetteer import Gazetteer
    from mapapp.geoparse import Geoparser

    return Geoparser(Gazetteer(db))


@pytest.fixture
def folder(small_dir, tmp_path):  # noqa: F811
    """The small gazetteer with alice's account and two articles naming its places, ingested."""
    from mapapp.articles import ingest_paths

    texts = tmp_path / "articles"
    texts.mkdir()
    for name, text in ARTICLES.items():
        (texts / name).write_text(text, encoding="utf-8")
    conn = connect(small_dir / DATABASE_NAME)
    ingest_paths(conn, _parser(small_dir / DATABASE_NAME), [texts], progress=False)
    conn.close()
    return small_dir


def _stale_articles(db) -> list[int]:
    """Articles whose stored mentions differ from a fresh parse against the stored gazetteer."""
    parser = _parser(db)
    conn = connect(db)
    stale = []
    for article_id, text in conn.execute("SELECT id, text FROM articles ORDER BY id").fetchall():
        stored = {(r[0], r[1], r[2], r[3]) for r in conn.execute(
            "SELECT start, end, kind, place_id FROM mentions WHERE article_id = ?", (article_id,))}
        fresh = {(m.start, m.end, m.kind, m.place.id if m.place else None) for m in parser.parse(text)}
        if stored != fresh:
            stale.append(article_id)
    conn.close()
    return stale


def _dangling(db) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM mentions WHERE place_id IS NOT NULL"
                            " AND place_id NOT IN (SELECT id FROM places)").fetchone()[0]
    finally:
        conn.close()


def _pending(db) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM pending_reresolution").fetchone()[0]
    finally:
        conn.close()


def _serve(folder, tmp_path, **env):
    """Start `mapapp serve` on a free port; returns (process, base URL) once it says it is serving."""
    with open(tmp_path / f"serve-{time.monotonic_ns()}.log", "w") as log:  # the child keeps its own handle
        process = subprocess.Popen(
            [sys.executable, "-m", "mapapp", "serve", "--port", "0", "--threads", "2", "--data", str(folder)],
            stdout=subprocess.PIPE, stderr=log, text=True,
            env={**os.environ, "MAPAPP_TILES_URL": '""', "MAPAPP_LOAD_SEEDS": "false", **env})
    lines = []
    for line in process.stdout:
        lines.append(line)
        match = re.search(r"open (http://127\.0\.0\.1:\d+)/", line)
        if match:
            return process, match.group(1), "".join(lines)
    process.kill()
    process.wait(timeout=60)
    process.stdout.close()
    raise AssertionError(f"server did not start: {''.join(lines)}")


def _admin_session(base) -> tuple[requests.Session, str]:
    http = requests.Session()
    token = csrf_from(http.get(f"{base}/auth/login", timeout=60).text)
    response = http.post(f"{base}/auth/login", allow_redirects=False, timeout=60,
                         data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return http, csrf_from(http.get(f"{base}/admin/places/new", timeout=60).text)


def _prepare_deleted_yerevan(db):
    from mapapp.articles import affected_articles, reresolve
    from mapapp.gazetteer import editing

    conn = connect(db)
    editing.delete_place(conn, YEREVAN, 1, "alice")
    reresolve(conn, _parser(db), affected_articles(conn, names=["Yerevan", "Erevan"], place_ids=[YEREVAN]))
    conn.close()


def _prepare_not_place(db):
    from mapapp import review
    from mapapp.articles import affected_articles, reresolve

    conn = connect(db)
    review.mark_not_place(conn, "Yerevan", "alice")
    reresolve(conn, _parser(db), affected_articles(conn, names=["Yerevan"]))
    conn.close()


# (admin URL, JSON body, setup done before the server starts, what the change stored)
WRITES = {
    "delete": (f"/admin/places/{YEREVAN}/delete", {"version": 1}, None,
               "SELECT count(*) = 0 FROM places WHERE id = 'gn:616052'"),
    "edit": (f"/admin/places/{YEREVAN}", {"name": "Jerevan", "aliases": [], "version": 1}, None,
             "SELECT name = 'Jerevan' FROM places WHERE id = 'gn:616052'"),
    "create": ("/admin/places", VILLAGE, None, "SELECT count(*) = 1 FROM places WHERE name = 'Zorvanik'"),
    "restore": (f"/admin/places/{YEREVAN}/restore", {"version": 1, "expected_version": 1},
                _prepare_deleted_yerevan, "SELECT version = 2 FROM places WHERE id = 'gn:616052'"),
    "review-alias": ("/admin/review/alias", {"name": "Hayastan", "place_id": ARMENIA}, None,
                     "SELECT count(*) = 1 FROM place_names WHERE key = 'hayastan'"),
    "not-place": ("/admin/review/not-place", {"name": "Yerevan"}, None,
                  "SELECT count(*) = 1 FROM not_places WHERE key = 'yerevan'"),
    "not-place-undo": ("/admin/review/not-place/undo", {"key": "yerevan"}, _prepare_not_place,
                       "SELECT count(*) = 0 FROM not_places"),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_server_killed_between_commit_and_reresolution_finishes_at_restart(folder, tmp_path, write):
    url, body, prepare, stored = WRITES[write]
    db = folder / DATABASE_NAME
    if prepare:
        prepare(db)
    assert _stale_articles(db) == [] and _pending(db) == 0
    fifo = tmp_path / "pause.fifo"
    os.mkfifo(fifo)
    process, base, _ = _serve(folder, tmp_path, MAPAPP_TEST_PAUSE_FIFO=str(fifo))
    try:
        http, token = _admin_session(base)
        outcome = []

        def save():
            try:
                outcome.append(http.post(base + url, json=body, headers={"X-CSRFToken": token}, timeout=300))
            except requests.ConnectionError as error:  # the server was killed under it
                outcome.append(error)

        saver = threading.Thread(target=save, daemon=True)
        saver.start()
        paused = []
        reader = threading.Thread(target=lambda: paused.append(fifo.read_text()), daemon=True)
        reader.start()
        reader.join(timeout=120)  # returns as soon as the server says it paused
        assert paused == ["paused\n"], f"the server never reached the pause: {outcome}"
        # The change is committed, its re-resolution queued and not done: the window the fault lived in.
        conn = sqlite3.connect(db)
        assert conn.execute(stored).fetchone()[0] == 1
        conn.close()
        assert _pending(db) == 1
        assert _stale_articles(db), "the change should leave articles to re-resolve"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        saver.join(timeout=60)
        assert outcome and not isinstance(outcome[0], requests.Response)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
        process.stdout.close()
    # Restart (no pause): start-up pays the queued re-resolution before it serves.
    process, base, printed = _serve(folder, tmp_path)
    try:
        assert "Finished an interrupted re-resolution" in printed
        assert _pending(db) == 0
        assert _dangling(db) == 0
        assert _stale_articles(db) == []
        conn = sqlite3.connect(db)
        assert conn.execute(stored).fetchone()[0] == 1  # the committed change survived the kill
        conn.close()
        assert requests.get(f"{base}/api/articles", timeout=60).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=60)
        process.stdout.close()


def _crash_after_commit(db):
    """What a save killed after its commit leaves: Yerevan deleted and its re-resolution still queued."""
    from mapapp.articles import queue_reresolution
    from mapapp.gazetteer import editing

    conn = connect(db)
    with transaction(conn):
        editing.delete_place(conn, YEREVAN, 1, "alice")
        queue_reresolution(conn, names=["Yerevan", "Erevan"], place_ids=[YEREVAN])
    conn.close()
    assert _dangling(db) > 0 and _pending(db) == 1


def test_the_next_ingest_finishes_a_queued_reresolution(folder, tmp_path):
    from mapapp.articles import ingest_paths

    db = folder / DATABASE_NAME
    _crash_after_commit(db)
    (tmp_path / "late.txt").write_text("Late news\n\nA quiet day in Armenia.", encoding="utf-8")
    conn = connect(db)
    ingest_paths(conn, _parser(db), [tmp_path / "late.txt"], progress=False)
    conn.close()
    assert _pending(db) == 0 and _dangling(db) == 0 and _stale_articles(db) == []


def test_the_next_request_finishes_a_reresolution_left_by_an_earlier_process(folder):
    db = folder / DATABASE_NAME
    _crash_after_commit(db)
    conn = sqlite3.connect(db)
    with conn:  # queued by a process that is gone: before this one started
        conn.execute("UPDATE pending_reresolution SET at = at - 3600")
    conn.close()
    app = make_app(folder)
    assert app.test_client().get("/api/articles").status_code == 200
    assert _pending(db) == 0 and _dangling(db) == 0 and _stale_articles(db) == []


def test_a_request_leaves_a_fresh_queued_reresolution_to_its_own_save(folder):
    """A row queued moments ago may belong to a save still running in this process: not taken over."""
    db = folder / DATABASE_NAME
    _crash_after_commit(db)
    app = make_app(folder)
    assert app.test_client().get("/api/articles").status_code == 200
    assert _pending(db) == 1
