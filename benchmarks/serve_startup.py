"""Time from `mapapp serve` invoked to its first answers (HTTP 200 on / and on /api/features).

    python benchmarks/serve_startup.py --data DIR [--runs N]

The data folder must already hold the gazetteer (the target is "once the gazetteer exists"); the first run
loads the seed articles when they are missing, so it is reported apart. Polls every 10 ms; prints the load
average (the machine is shared).
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def one_start(data: Path) -> dict[str, float]:
    """Seconds from the process started to a 200 on each URL (polled in turn, / first)."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "mapapp", "serve", "--data", str(data), "--port", str(port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    answered = {}
    try:
        for path in ("/", "/api/features"):
            while not _ok(f"http://127.0.0.1:{port}{path}"):
                if child.poll() is not None:
                    raise SystemExit(f"mapapp serve exited with {child.returncode}")
                if time.perf_counter() - started > 120:
                    raise SystemExit("no answer in 120 s")
                time.sleep(0.01)
            answered[path] = time.perf_counter() - started
    finally:
        child.terminate()
        child.wait()
    return answered


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"$ python {' '.join(sys.argv)}")
    print(f"load average {', '.join(f'{value:.2f}' for value in os.getloadavg())} (the machine is shared)")
    first = one_start(args.data)
    print(f"first start (loads the seeds if missing): / {first['/']:.2f} s, "
          f"/api/features {first['/api/features']:.2f} s")
    runs = [one_start(args.data) for _ in range(args.runs)]
    for path in ("/", "/api/features"):
        times = sorted(run[path] for run in runs)
        print(f"later starts, {path}: best {times[0]:.2f} s, median {times[len(times) // 2]:.2f} s "
              f"({args.runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
