"""`mapapp serve`: the real waitress server in a subprocess loads the seeds on first start and answers."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from mapapp.db import DATABASE_NAME, connect


def _start(data_dir, *args) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "MAPAPP_DATA": "/nonexistent-must-be-overridden", "MAPAPP_TILES_URL": '""'}
    process = subprocess.Popen(
        [sys.executable, "-m", "mapapp", "serve", "--port", "0", "--data", str(data_dir), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 180
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"open (http://127\.0\.0\.1:\d+/)", line)
        if match:
            return process, match.group(1)
    process.kill()
    _out, err = process.communicate(timeout=30)
    raise AssertionError(f"server did not start: {lines} {err[-2000:]}")


@pytest.mark.slow
def test_serve_loads_seeds_and_answers_the_api(data_dir):
    process, base = _start(data_dir, "--threads", "2")
    try:
        with urllib.request.urlopen(base + "api/articles", timeout=30) as response:
            assert response.status == 200
            assert response.headers["Server"] == "mapapp"  # waitress, not the Flask dev server
            payload = json.load(response)
        conn = connect(data_dir / DATABASE_NAME)
        stored = {row[0]: row[1] for row in conn.execute("SELECT id, title FROM articles")}
        assert len(stored) == 5
        assert {a["id"]: a["title"] for a in payload["articles"]} == stored
        with urllib.request.urlopen(base + "api/features", timeout=30) as response:
            assert json.load(response)["features"]
    finally:
        process.terminate()
        process.communicate(timeout=30)  # waits, and closes the pipes


@pytest.mark.slow
def test_serve_does_not_reload_seeds_into_a_database_with_articles(data_dir, geoparser, tmp_path):
    from mapapp.articles import ingest_paths

    (tmp_path / "own.txt").write_text("Own article\n\nTalks in Baku.", encoding="utf-8")
    conn = connect(data_dir / DATABASE_NAME)
    ingest_paths(conn, geoparser, [tmp_path / "own.txt"], progress=False)
    process, base = _start(data_dir)
    try:
        with urllib.request.urlopen(base + "api/articles", timeout=30) as response:
            assert [a["title"] for a in json.load(response)["articles"]] == ["Own article"]
    finally:
        process.terminate()
        process.communicate(timeout=30)  # waits, and closes the pipes


def test_serve_help_and_bad_port(runner):
    result = runner.invoke(["serve", "--help"])
    assert result.exit_code == 0
    assert all(option in result.output for option in ("--host", "--port", "--data", "--threads"))
    result = runner.invoke(["serve", "--port", "70000"])
    assert result.exit_code == 2 and "70000" in result.output
