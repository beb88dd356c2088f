"""What an admin's save costs as the article store grows: finding the articles an edit affects, and re-resolving.

    python benchmarks/admin_save.py --template DIR [--articles 10000] [--eval DIR] [--repeat 5]

DIR holds a built gazetteer (`mapapp gazetteer build --data DIR`); it is copied, never written. The articles
are the TR-News and GeoVirus texts, repeated until there are --articles of them, written straight into the
table (as a bulk load would). Prints, with the load average of the (shared) machine:
- the first affected_articles() call after the load (it indexes articles the index has not seen);
- affected_articles() for the names of two edits (a name the texts often carry, one they never carry), median;
- the re-resolution a save runs (queue_reresolution + reresolve_pending: affected_articles, then a re-parse of
  those articles), median.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

EDITS = {"often": (["Paris", "Ville de Paris"], []), "never": (["Testavan", "Testavan Village"], [])}


def load_articles(conn: sqlite3.Connection, texts: list[str], count: int) -> None:
    """Insert `count` articles cycling through `texts`, in one transaction."""
    from mapapp.db import transaction

    rows = [(f"bench-{i}", texts[i % len(texts)], f"h{i}", "2026-01-01T00:00:00+00:00") for i in range(count)]
    with transaction(conn):
        conn.executemany("INSERT INTO articles (key, text, content_hash, ingested_at) VALUES (?, ?, ?, ?)", rows)


def timed(function, repeat: int) -> tuple[float, object]:
    """(median seconds, last result) of `repeat` calls."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    """Build the store, time the steps, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, required=True, help="data folder with a built gazetteer")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from geoparse_speed import corpus_texts

    from mapapp.articles import affected_articles, queue_reresolution, reresolve_pending
    from mapapp.db import DATABASE_NAME, connect
    from mapapp.gazetteer import Gazetteer
    from mapapp.geoparse import Geoparser

    print(f"load average {os.getloadavg()[0]:.2f} at the start (the machine is shared)")
    work = Path(tempfile.mkdtemp(prefix="admin-save-"))
    try:
        src, dst = sqlite3.connect(args.template / DATABASE_NAME), sqlite3.connect(work / DATABASE_NAME)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
        names_index = args.template / f"{DATABASE_NAME}.names"
        if names_index.is_dir():
            shutil.copytree(names_index, work / names_index.name)
        conn = connect(work / DATABASE_NAME)
        texts = corpus_texts(args.eval)
        load_articles(conn, texts, args.articles)
        chars = conn.execute("SELECT SUM(LENGTH(text)) FROM articles").fetchone()[0]
        print(f"{args.articles:,} articles, {chars:,} characters (TR-News + GeoVirus texts, repeated)")

        first, _ = timed(lambda: affected_articles(conn, names=["Testavan"]), 1)
        print(f"first affected_articles() after the load (indexes what it has not seen): {first:.3f} s")
        for names, place_ids in EDITS.values():
            seconds, ids = timed(lambda names=names, place_ids=place_ids: affected_articles(
                conn, names=names, place_ids=place_ids), args.repeat)
            print(f"affected_articles({names}): {seconds:.3f} s, {len(ids):,} articles (median of {args.repeat})")

        geoparser = Geoparser(Gazetteer(work / DATABASE_NAME))
        geoparser.parse("Warm up in Paris.")
        names, place_ids = EDITS["never"]

        def save():
            pending = queue_reresolution(conn, names=names, place_ids=place_ids)
            return reresolve_pending(conn, geoparser, [pending])

        seconds, _ = timed(save, args.repeat)
        print(f"re-resolution of a save naming {names}: {seconds:.3f} s (median of {args.repeat})")
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
        conn.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
