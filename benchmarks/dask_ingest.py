"""Ingest throughput on Dask (1 and 2 LocalCluster workers) against a plain ingest, and SQLite's write ceiling.

    python benchmarks/dask_ingest.py --data DIR [--eval DIR] [--copies N] [--batch-size N]

DIR holds a built gazetteer (it is copied, never written). The corpora (every document of TR-News + GeoVirus,
`--copies` times under different file names) are written as .txt files and ingested into a fresh copy of
DIR by: a plain `ingest_paths` in this process; `ingest_on_cluster` on a LocalCluster of 1, then 2 worker
processes (the cluster's start-up timed apart). Each prints documents/s, characters/s and mentions written/s
(wall time: the point of the cluster is wall time), with the machine's load average beside it, and for the
cluster runs the documents per second of the workers' own compute time (Dask's task stream).

The writer's ceiling: the same articles, geoparsed beforehand, written with `write_articles` in batches to a
fresh copy: mentions/s that one SQLite writer stores, whatever the number of workers feeding it.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from geoparse_speed import DEFAULT_EVAL, corpus_texts  # noqa: E402


def fresh_copy(template: Path, target: Path) -> Path:
    """A copy of the data folder `template` (database through SQLite's backup API, plus the name index)."""
    import sqlite3

    from mapapp.db import DATABASE_NAME

    target.mkdir(parents=True)
    source, copy = sqlite3.connect(template / DATABASE_NAME), sqlite3.connect(target / DATABASE_NAME)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    names = template / f"{DATABASE_NAME}.names"
    if names.is_dir():
        shutil.copytree(names, target / names.name)
    return target


def counts(data: Path) -> tuple[int, int]:
    """(articles, mentions) stored in the data folder."""
    from mapapp.db import database_path, opened

    with opened(database_path(data)) as conn:
        row = conn.execute("SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM mentions)").fetchone()
    return tuple(row)


def report(label: str, seconds: float, docs: int, chars: int, mentions: int, extra: str = "") -> dict:
    """Print one line of rates and return them."""
    load = os.getloadavg()[0]
    print(f"{label:<22} {seconds:7.2f} s  {docs / seconds:7.1f} docs/s  {chars / seconds:10,.0f} chars/s  "
          f"{mentions / seconds:8,.0f} mentions/s  load {load:.1f}{extra}", flush=True)
    return {"docs_s": docs / seconds, "chars_s": chars / seconds, "mentions_s": mentions / seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a data folder with a built gazetteer")
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="folder with TR-News.xml and GeoVirus.xml")
    parser.add_argument("--copies", type=int, default=1, help="times each corpus document is ingested")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)

    import distributed

    from mapapp.articles import ingest_paths
    from mapapp.articles.batch import ingest_on_cluster
    from mapapp.articles.documents import read_document
    from mapapp.articles.store import prepare_document, write_articles
    from mapapp.db import database_path, opened
    from mapapp.gazetteer import Gazetteer
    from mapapp.geoparse import Geoparser

    work = Path(tempfile.mkdtemp(prefix="dask-ingest-"))
    try:
        texts = corpus_texts(args.eval)
        folder = work / "texts"
        folder.mkdir()
        for copy in range(args.copies):
            for number, text in enumerate(texts):
                (folder / f"{copy:02d}-{number:04d}.txt").write_text(text, encoding="utf-8")
        docs, chars = len(texts) * args.copies, sum(map(len, texts)) * args.copies
        print(f"{docs} documents, {chars:,} characters; {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")

        data = fresh_copy(args.data, work / "plain")
        parser = Geoparser(Gazetteer(database_path(data)))
        parser.name_index()
        with opened(database_path(data)) as conn:
            started = time.perf_counter()
            ingest_paths(conn, parser, [folder], progress=False)
            seconds = time.perf_counter() - started
        mentions = counts(data)[1]
        report("plain, in-process", seconds, docs, chars, mentions)

        for workers in args.workers:
            data = fresh_copy(args.data, work / f"dask-{workers}")
            started = time.perf_counter()
            with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                          dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
                client.wait_for_workers(workers)
                startup = time.perf_counter() - started
                with opened(database_path(data)) as conn, distributed.get_task_stream(client) as stream:
                    started = time.perf_counter()
                    ingest_on_cluster(conn, parser, client, [folder], data_dir=data, progress=False,
                                      batch_size=args.batch_size)
                    seconds = time.perf_counter() - started
            # The workers' own seconds in geoparse tasks: the rate one core gives when it gets a whole core.
            compute = sum(part["stop"] - part["start"] for task in stream.data for part in task["startstops"]
                          if part["action"] == "compute")
            stored = counts(data)
            assert stored == (docs, mentions), f"{stored} stored, {(docs, mentions)} expected"
            report(f"dask, {workers} worker{'s' * (workers > 1)}", seconds, docs, chars, mentions,
                   f"  (cluster start {startup:.1f} s; {docs / compute:.0f} docs per worker-compute-second)")

        # The writer alone: articles geoparsed first, then only their writes timed.
        prepared = [prepare_document(parser, read_document(path)) for path in sorted(folder.iterdir())]
        data = fresh_copy(args.data, work / "writer")
        with opened(database_path(data)) as conn:
            started = time.perf_counter()
            for start in range(0, len(prepared), args.batch_size):
                write_articles(conn, prepared[start:start + args.batch_size])
            seconds = time.perf_counter() - started
        report(f"sqlite writer, batch {args.batch_size}", seconds, docs, chars, mentions)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
