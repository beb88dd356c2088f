"""SQLite against PostgreSQL, side by side in one run: the store's write rate, and /api/features at scale.

    python benchmarks/stores.py --gazetteer DIR [--eval DIR] [--articles 10000] [--mentions 100000] [--requests 30]

DIR holds a built gazetteer (copied, never written). The PostgreSQL server is a throwaway one this script
starts with Debian's initdb/pg_ctl (durable: fsync on, as SQLite's WAL with synchronous=NORMAL is), on this
machine, reached over loopback TCP.

1. Write rate: every TR-News + GeoVirus document geoparsed beforehand, then stored with `write_articles` in
   batches of --batch-size (what `mapapp ingest` and the Dask writer run), into a fresh copy of the gazetteer
   on each store; mentions written per second.
2. `mapapp db copy` of the gazetteer plus the synthetic articles: rows copied per second.
3. `/api/features` on the 10,000-article / 100,000-mention synthetic data of benchmarks/web_scale.py, over real
   HTTP (waitress): the median of --requests distinct uncached filtered views (source + 180-day window) and of
   one repeated (cached) view, on each store.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from dask_ingest import fresh_copy  # noqa: E402
from geoparse_speed import DEFAULT_EVAL, corpus_texts  # noqa: E402
from postgres_support import create_database, database_url, temporary_server  # noqa: E402
from web_scale import SOURCES, fetch, generate, prepare_gazetteer  # noqa: E402


def _serve(data_dir: Path, **config):
    from waitress.server import create_server

    from mapapp import create_app

    app = create_app(data_dir, {"LOAD_SEEDS": False, "TILES_URL": "", **config})
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    import threading

    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}", server


def _median_ms(base: str, paths: list[str]) -> float:
    timings = []
    for path in paths:
        status, body, seconds = fetch(base + path)
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}: {body[:200]!r}")
        timings.append(seconds)
    return statistics.median(timings) * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gazetteer", type=Path, required=True, help="a data folder with a built gazetteer")
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="folder with TR-News.xml and GeoVirus.xml")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=200)
    args = parser.parse_args(argv)

    from mapapp.articles.documents import read_document
    from mapapp.articles.store import prepare_document, write_articles
    from mapapp.db import DATABASE_NAME, connect
    from mapapp.gazetteer import Gazetteer
    from mapapp.geoparse import Geoparser
    from mapapp.transfer import copy_database

    print(f"command: python benchmarks/stores.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start")
    work = Path(tempfile.mkdtemp(prefix="mapapp-stores-"))
    with temporary_server(durable=True) as server_url:
        # 1. The write rate of each store, through the ingest's own writer.
        texts = corpus_texts(args.eval)
        folder = work / "texts"
        folder.mkdir()
        for number, text in enumerate(texts):
            (folder / f"{number:04d}.txt").write_text(text, encoding="utf-8")
        parser_ = Geoparser(Gazetteer(args.gazetteer / DATABASE_NAME))
        prepared = [prepare_document(parser_, read_document(path)) for path in sorted(folder.iterdir())]
        mentions = sum(len(document.rows) for document in prepared)
        sqlite_dir = fresh_copy(args.gazetteer, work / "writer")
        targets = {"sqlite": str(sqlite_dir / DATABASE_NAME),
                   "postgresql": create_database(server_url, "writer")}
        started = time.perf_counter()
        source, target = connect(sqlite_dir / DATABASE_NAME), connect(targets["postgresql"])
        copied = copy_database(source, target)
        source.close()
        target.close()
        seconds = time.perf_counter() - started
        rows = sum(copy.rows for copy in copied)
        print(f"db copy of the gazetteer into PostgreSQL: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f}"
              " rows/s, checksums compared)")
        for store, location in targets.items():
            conn = connect(location)
            started = time.perf_counter()
            for start in range(0, len(prepared), args.batch_size):
                write_articles(conn, prepared[start:start + args.batch_size])
            seconds = time.perf_counter() - started
            conn.close()
            print(f"write rate, {store:<10}: {len(prepared)} articles, {mentions:,} mentions in {seconds:.2f} s ="
                  f" {mentions / seconds:,.0f} mentions/s (batches of {args.batch_size}; load"
                  f" {os.getloadavg()[0]:.1f})")

        # 2 and 3. The synthetic archive on both stores, served.
        scale = work / "scale"
        prepare_gazetteer(scale, args.gazetteer)
        conn = connect(scale / DATABASE_NAME)
        generate(conn, args.articles, args.mentions)
        conn.close()
        url = database_url(server_url, "scale")
        create_database(server_url, "scale")
        started = time.perf_counter()
        source, target = connect(scale / DATABASE_NAME), connect(url)
        copied = copy_database(source, target)
        target.execute("ANALYZE")
        source.close()
        target.close()
        seconds = time.perf_counter() - started
        rows = sum(copy.rows for copy in copied)
        print(f"db copy of gazetteer + {args.articles:,} articles / {args.mentions:,} mentions: {rows:,} rows in"
              f" {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
        servers = {"sqlite": _serve(scale), "postgresql": _serve(scale, DATABASE_URL=url)}
        try:
            for store, (base, _server) in servers.items():
                fetch(base + "/api/features")  # the unfiltered view, computed once as serve does at start
                uncached = []
                for number in range(args.requests):
                    since = dt.date(2021, 1, 1) + dt.timedelta(days=7 * number)
                    uncached.append(f"/api/features?source={SOURCES[number % len(SOURCES)].replace(' ', '+')}"
                                    f"&from={since}&to={since + dt.timedelta(days=180)}")
                cached = ["/api/features?source=TASS&from=2023-01-01&to=2023-12-31"] * args.requests
                print(f"/api/features, {store:<10}: uncached filtered views median {_median_ms(base, uncached):.0f}"
                      f" ms; a repeated (cached) view median {_median_ms(base, cached):.1f} ms"
                      f" ({args.requests} requests each; load {os.getloadavg()[0]:.1f})")
        finally:
            for _base, server in servers.values():
                server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
