"""Benchmark the downloads and the density API at scale (the synthetic data of web_scale.py) over real HTTP.

    python benchmarks/downloads.py [--articles 10000] [--mentions 100000] [--requests 5] [--gazetteer DIR]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from web_scale import fetch, generate, prepare_gazetteer, start_server

from mapapp.db import DATABASE_NAME, connect, default_data_dir

VIEWS = {
    "density by country": "/api/density?by=country",
    "density by admin1, mentions": "/api/density?by=admin1&count=mentions",
    "density timeline, weeks": "/api/density?by=country&step=week",
    "density, one source, one year": "/api/density?source=TASS&from=2023-01-01&to=2023-12-31",
    "CSV, everything": "/api/export.csv",
    "CSV, one source, one year": "/api/export.csv?source=TASS&from=2023-01-01&to=2023-12-31",
    "GeoJSON, everything": "/api/export.geojson",
    "KML, everything": "/api/export.kml",
    "GeoPackage, everything": "/api/export.gpkg",
    "GeoPackage, one source, one year": "/api/export.gpkg?source=TASS&from=2023-01-01&to=2023-12-31",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=5, help="requests per view for the median")
    parser.add_argument("--gazetteer", type=Path, default=default_data_dir(),
                        help="data folder whose built gazetteer is copied (default: instance/)")
    args = parser.parse_args(argv)
    print(f"command: python benchmarks/downloads.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    data_dir = Path(tempfile.mkdtemp(prefix="mapapp-downloads-"))
    try:
        prepare_gazetteer(data_dir, args.gazetteer)
        conn = connect(data_dir / DATABASE_NAME)
        generate(conn, args.articles, args.mentions)
        conn.close()
        base, server = start_server(data_dir)
        try:
            for name, path in VIEWS.items():
                timings, size = [], 0
                for _ in range(args.requests):
                    status, body, seconds = fetch(base + path)
                    if status != 200:
                        raise SystemExit(f"{path}: HTTP {status}: {body[:200]!r}")
                    timings.append(seconds)
                    size = len(body)
                print(f"{name:34} median {statistics.median(timings) * 1000:7.0f} ms, max"
                      f" {max(timings) * 1000:7.0f} ms, {size / 1e6:6.2f} MB  ({path})")
        finally:
            server.close()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
