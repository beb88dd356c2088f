"""Gazetteer benchmark: build time, database size, load time (open + keys()), peak memory, row counts.

Run: python benchmarks/gazetteer_build.py [--data DIR]   (default: a temporary folder, removed afterwards)
The build and the load run in child processes so that each one's peak RSS is its own.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_BUILD = """
import json, resource, sys, time
from mapapp.gazetteer.build import build
started = time.perf_counter()
result = build(sys.argv[1], progress=False)
result["wall_seconds"] = time.perf_counter() - started
result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""
_LOAD = """
import json, resource, sys, time
started = time.perf_counter()
from mapapp.gazetteer import Gazetteer
imported = time.perf_counter()
gazetteer = Gazetteer(sys.argv[1])
keys = gazetteer.keys()
loaded = time.perf_counter()
for key in ("yerevan", "artsakh", "paris", "springfield", "lachin"):
    gazetteer.candidates(key)
looked_up = time.perf_counter()
gazetteer.reverse((39.82, 46.75))
reversed_ = time.perf_counter()
print(json.dumps({"import_seconds": imported - started, "open_keys_seconds": loaded - imported,
                  "keys": len(keys), "five_lookups_ms": (looked_up - loaded) * 1000,
                  "first_reverse_seconds": reversed_ - looked_up,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(code: str, db: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", code, str(db)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="data folder to build into (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data or Path(tmp)
        db = folder / "mapapp.sqlite3"
        build = _run(_BUILD, db)
        rebuild = _run(_BUILD, db)
        load = _run(_LOAD, db)
        size_mb = sum(p.stat().st_size for p in folder.glob("mapapp.sqlite3*")) / 2**20
    print(f"build:   {build['wall_seconds']:.1f} s (rebuild {rebuild['wall_seconds']:.1f} s), "
          f"peak RSS {build['peak_rss_mb']:.0f} MB")
    print(f"rows:    {build['places']} places, {build['names']} names; " +
          ", ".join(f"{k} {v}" for k, v in sorted(build["by_feature"].items(), key=lambda kv: -kv[1])))
    print(f"db size: {size_mb:.0f} MB")
    print(f"load:    open + keys() {load['open_keys_seconds']:.2f} s (+ imports {load['import_seconds']:.2f} s), "
          f"{load['keys']} keys, 5 candidate lookups {load['five_lookups_ms']:.1f} ms, "
          f"first reverse (builds spatial index) {load['first_reverse_seconds']:.2f} s, "
          f"peak RSS {load['peak_rss_mb']:.0f} MB")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
