"""Benchmark the web app at scale: 10,000 articles / 100,000 mentions of real gazetteer places.

Measures the overview page's HTML size, the median latency of filtered /api/features views over real HTTP
(waitress on loopback), and, when Playwright and /usr/bin/chromium work, the time until markers are drawn.

    python benchmarks/web_scale.py [--articles 10000] [--mentions 100000] [--requests 30] [--keep DIR]
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from mapapp.config import default_data_dir
from mapapp.db import DATABASE_NAME, connect, transaction
from mapapp.maps.features import bump_articles_version

SOURCES = ["Armenpress", "TASS", "Azernews", "Meduza", "Reuters", "The Jerusalem Post", "Interfax", "OC Media"]
TEMPLATES = [
    "Officials in {} said talks would continue next week.",
    "Reports from {} described heavy traffic near the border.",
    "Peacekeepers were seen moving through {} on Tuesday.",
    "The delegation travelled to {} for a round of negotiations.",
    "Residents of {} gathered to hear the announcement.",
]


def prepare_gazetteer(data_dir: Path, template: Path | None) -> None:
    """Put a built gazetteer into `data_dir`: a consistent copy of `template`'s database, else a fresh build."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if template and (template / DATABASE_NAME).exists():
        src, dst = sqlite3.connect(template / DATABASE_NAME), sqlite3.connect(data_dir / DATABASE_NAME)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
        with connect(data_dir / DATABASE_NAME) as conn, transaction(conn):
            conn.execute("DELETE FROM mentions")
            conn.execute("DELETE FROM articles")
    else:
        from mapapp.gazetteer.build import build

        build(data_dir / DATABASE_NAME, progress=True)


def generate(conn: sqlite3.Connection, articles: int, mentions: int, *, seed: int = 1) -> None:
    """Insert `articles` synthetic articles with `mentions` mentions in total, naming real gazetteer places."""
    rng = random.Random(seed)
    places = conn.execute(
        "SELECT id, name FROM places WHERE feature IN ('country', 'city', 'admin1', 'admin2', 'region', 'water')"
        " ORDER BY population DESC LIMIT 3000").fetchall()
    if not places:
        raise SystemExit("the gazetteer has no places: build it first (mapapp gazetteer build)")
    per_article = max(1, mentions // articles)
    start_day = dt.date(2020, 9, 27)
    article_rows, mention_rows = [], []
    for number in range(1, articles + 1):
        parts, spans, offset = [], [], 0
        title = f"Synthetic report {number}"
        parts.append(title + "\n\n")
        offset += len(parts[-1])
        for _ in range(per_article):
            place_id, name = places[min(int(rng.expovariate(1 / 150)), len(places) - 1)]
            template = rng.choice(TEMPLATES)
            sentence = template.format(name)
            at = offset + template.index("{}")
            spans.append((at, at + len(name), name, place_id, offset, offset + len(sentence)))
            parts.append(sentence + " ")
            offset += len(sentence) + 1
        text = "".join(parts).strip()
        published = (start_day + dt.timedelta(days=rng.randrange(1500))).isoformat()
        article_rows.append((number, f"synthetic-{number}", title, rng.choice(SOURCES), published, None,
                             text, hashlib.sha256(text.encode()).hexdigest(), "2024-01-01T00:00:00+00:00"))
        mention_rows.extend((number, s, e, name, "place", pid, 0.9, ss, se, "[]") for s, e, name, pid, ss, se in spans)
    with transaction(conn):
        conn.executemany("INSERT INTO articles (id, key, title, source, published, url, text, content_hash,"
                         " ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", article_rows)
        conn.executemany('INSERT INTO mentions (article_id, start, "end", text, kind, place_id, score,'
                         " sentence_start, sentence_end, alternatives) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         mention_rows)
        bump_articles_version(conn)
    conn.execute("ANALYZE")


def start_server(data_dir: Path):
    """The app on waitress in a thread on a free loopback port; returns (base URL, server)."""
    from waitress.server import create_server

    from mapapp import create_app

    app = create_app(data_dir, {"LOAD_SEEDS": False, "TILES_URL": ""})
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}", server


def fetch(url: str) -> tuple[int, bytes, float]:
    """(status, body, seconds) of one GET."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    return status, body, time.perf_counter() - started


def api_views(conn: sqlite3.Connection) -> dict[str, str]:
    """Representative filtered views: one source and one year, a feature type, a name search, everything."""
    year = conn.execute("SELECT substr(MAX(published), 1, 4) FROM articles").fetchone()[0]
    return {
        "source+year": f"/api/features?source=TASS&from={year}-01-01&to={year}-12-31",
        "feature=city": "/api/features?feature=city&from=2022-01-01&to=2022-06-30",
        "q=ar": "/api/features?q=ar&source=Armenpress",
        "unfiltered": "/api/features",
    }


def measure_browser(base: str) -> str:
    """Seconds from navigation to the first drawn markers in headless Chromium, or why it was skipped."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "skipped (playwright not installed)"
    if not Path("/usr/bin/chromium").exists():
        return "skipped (/usr/bin/chromium missing)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(base + "/", wait_until="commit")
        try:
            # wait_for_selector, not wait_for_function: the page's CSP forbids the eval the latter needs.
            page.wait_for_selector(".leaflet-marker-icon, .marker-cluster", state="attached", timeout=30_000)
        except Exception as error:  # noqa: BLE001 — report, don't crash the benchmark
            browser.close()
            return f"failed ({type(error).__name__}: no markers within 30 s)"
        seconds = time.perf_counter() - started
        count = page.evaluate("document.querySelectorAll('.leaflet-marker-icon, .marker-cluster').length")
        browser.close()
    return f"{seconds:.2f} s ({count} marker/cluster elements drawn)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30, help="requests per API view for the median")
    parser.add_argument("--gazetteer", type=Path, default=default_data_dir(),
                        help="data folder whose built gazetteer is copied (default: instance/)")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it (for load.py)")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)

    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="mapapp-scale-"))
    print(f"command: python benchmarks/web_scale.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    try:
        measure(data_dir, args)
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


def measure(data_dir: Path, args) -> None:
    """Generate the data into `data_dir`, serve it, and print every measurement."""
    started = time.perf_counter()
    prepare_gazetteer(data_dir, args.gazetteer)
    conn = connect(data_dir / DATABASE_NAME)
    generate(conn, args.articles, args.mentions)
    counts = conn.execute("SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM mentions),"
                          " (SELECT COUNT(DISTINCT place_id) FROM mentions)").fetchone()
    views = api_views(conn)
    conn.close()
    print(f"data: {counts[0]} articles, {counts[1]} mentions, {counts[2]} distinct places in {data_dir}"
          f" (generated in {time.perf_counter() - started:.1f} s)")

    base, server = start_server(data_dir)
    try:
        overview, body, seconds = fetch(base + "/")
        if overview == 200:
            print(f"overview page GET /: {len(body) / 1e6:.3f} MB HTML, {seconds * 1000:.0f} ms")
        else:
            print(f"overview page GET /: HTTP {overview} (not built yet) — reporting the API only")
        for name, path in views.items():
            status, body, first = fetch(base + path)  # the first request computes; later ones hit the cache
            timings = []
            for _ in range(args.requests):
                status, body, seconds = fetch(base + path)
                if status != 200:
                    raise SystemExit(f"{path}: HTTP {status}: {body[:200]!r}")
                timings.append(seconds)
            print(f"API {name:<12} {path}: first (uncached) {first * 1000:.0f} ms, then median"
                  f" {statistics.median(timings) * 1000:.1f} ms over {args.requests} requests;"
                  f" {len(json.loads(body)['features'])} features, {len(body) / 1e6:.2f} MB")
        # Every request a different filter, so none is served from the cache.
        timings, sizes = [], []
        for number in range(args.requests):
            since = dt.date(2021, 1, 1) + dt.timedelta(days=7 * number)
            path = (f"/api/features?source={SOURCES[number % len(SOURCES)].replace(' ', '+')}"
                    f"&from={since}&to={since + dt.timedelta(days=180)}")
            status, body, seconds = fetch(base + path)
            if status != 200:
                raise SystemExit(f"{path}: HTTP {status}: {body[:200]!r}")
            timings.append(seconds)
            sizes.append(len(json.loads(body)["features"]))
        print(f"API uncached filtered views (source + 180-day window, {args.requests} distinct queries): median"
              f" {statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms;"
              f" median {statistics.median(sizes):.0f} features")
        if not args.no_browser and overview == 200:
            print(f"browser: markers drawn after {measure_browser(base)}")
    finally:
        server.close()

if __name__ == "__main__":
    sys.exit(main())
