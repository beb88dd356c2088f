"""Load test: `mapapp serve` in a subprocess, 50 concurrent clients for 30 s from this (second) process.

Reports requests/s, 99th-percentile latency and errors for the overview page and a filtered API view.
Uses wrk when installed (apt-get install wrk), else a bounded thread pool of urllib clients. Loopback only.

    python benchmarks/load.py [--data DIR] [--clients 50] [--duration 30]
      (without --data: 10,000 articles / 100,000 mentions are generated first, as in web_scale.py)
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from web_scale import generate, prepare_gazetteer  # noqa: E402

from mapapp.config import default_data_dir  # noqa: E402
from mapapp.db import DATABASE_NAME, connect  # noqa: E402

PATHS = ["/", "/api/features?source=TASS&from=2023-01-01&to=2023-12-31"]


def start_server(data_dir: Path, threads: int) -> tuple[subprocess.Popen, str]:
    """`mapapp serve --port 0` on loopback; returns the process and its base URL (without trailing slash)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mapapp", "serve", "--host", "127.0.0.1", "--port", "0", "--threads", str(threads),
         "--data", str(data_dir)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in process.stdout:
        match = re.search(r"open (http://127\.0\.0\.1:\d+)/", line)
        if match:
            return process, match.group(1)
    process.kill()
    raise SystemExit("mapapp serve did not start")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(url: str, clients: int, duration: int) -> dict:
    """One bounded wrk run; requests/s, p99 latency (ms) and errors from its --latency report."""
    command = ["wrk", "-t", "2", "-c", str(clients), "-d", f"{duration}s", "--timeout", "10s", "--latency", url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s|m)\b", output)
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p99_ms": _ms(*p99.groups()) if p99 else float("nan"),
            "requests": int(re.search(r"(\d+) requests in", output).group(1)),
            "errors": errors + (int(non2xx.group(1)) if non2xx else 0), "tool": "wrk"}


def run_threads(url: str, clients: int, duration: int) -> dict:
    """The same measurement with `clients` threads of urllib (no keep-alive), when wrk is missing."""
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + duration

    def client():
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    response.read()
                    ok = response.status == 200
            except (urllib.error.URLError, OSError):
                ok = False
            with lock:
                latencies.append(time.perf_counter() - started)
                errors[0] += not ok

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {"rps": len(latencies) / duration, "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "requests": len(latencies), "errors": errors[0], "tool": f"{clients} urllib threads"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="data folder to serve (default: generate one)")
    parser.add_argument("--gazetteer", type=Path, default=default_data_dir(),
                        help="when generating: data folder whose built gazetteer is copied")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=int, default=30, help="seconds per URL")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 1 <= args.duration <= 120:
        raise SystemExit("keep the load bounded: 1-200 clients, 1-120 s")

    print(f"command: python benchmarks/load.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    data_dir, generated = args.data, None
    if data_dir is None:
        generated = data_dir = Path(tempfile.mkdtemp(prefix="mapapp-load-"))
        prepare_gazetteer(data_dir, args.gazetteer)
        conn = connect(data_dir / DATABASE_NAME)
        generate(conn, 10_000, 100_000)
        conn.close()
    conn = connect(data_dir / DATABASE_NAME)
    counts = conn.execute("SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM mentions)").fetchone()
    conn.close()
    print(f"data: {counts[0]} articles, {counts[1]} mentions in {data_dir}")

    process, base = start_server(data_dir, args.threads)
    try:
        for path in PATHS:
            urllib.request.urlopen(base + path, timeout=60).read()  # warm the view cache once
            run = run_wrk if shutil.which("wrk") else run_threads
            result = run(base + path, args.clients, args.duration)
            print(f"{path}: {result['rps']:.1f} requests/s, p99 {result['p99_ms']:.0f} ms, "
                  f"{result['errors']} errors in {result['requests']} requests "
                  f"({args.clients} clients, {args.duration} s, {result['tool']}, waitress {args.threads} threads)")
    finally:
        process.terminate()
        process.wait(timeout=30)
        if generated:
            shutil.rmtree(generated, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
