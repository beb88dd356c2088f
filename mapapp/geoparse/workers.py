"""Worker processes that parse documents in parallel: `mapapp geoparse --jobs` and `mapapp ingest --jobs`.

Each worker opens its own gazetteer connection (one must not cross a fork) and shares the memory-mapped name
index; tasks carry file names, not texts, and their results are what the caller needs, compactly.
"""
from __future__ import annotations

import contextlib
import os

_STATE: dict = {}


def default_jobs() -> int:
    """The cores this process may run on (every core, unless it is pinned to fewer)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _start(database: str, ner: bool, near: str | None, sources: dict) -> None:
    from mapapp.articles.near import HomeRegions
    from mapapp.gazetteer import Gazetteer
    from mapapp.geoparse import Geoparser

    parser = Geoparser(Gazetteer(database), ner=ner)
    parser.name_index()
    _STATE["parser"] = parser
    _STATE["regions"] = HomeRegions(parser.gazetteer, default=near, sources=sources)


def _call(task: tuple):
    function, arguments = task
    return function(_STATE["parser"], _STATE["regions"], *arguments)


def chunk_size(tasks: int, jobs: int) -> int:
    """Tasks sent to a worker at once: few round trips, yet every worker busy until near the end."""
    return max(1, min(16, tasks // (jobs * 8)))


@contextlib.contextmanager
def parse_pool(database, *, jobs: int, ner: bool = False, near: str | None = None, sources: dict | None = None):
    """A pool of `jobs` workers, each with a Geoparser and HomeRegions; use with `run`."""
    import multiprocessing

    # fork: a worker starts with the modules and the model already loaded (spawn would import them again).
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(jobs, initializer=_start, initargs=(str(database), ner, near, sources or {})) as pool:
        yield pool


def run(pool, function, tasks: list[tuple], jobs: int):
    """`function(parser, regions, *task)` for each task in the workers, results in the tasks' order.

    `function` must be a module-level function (it is sent by name).
    """
    return pool.imap(_call, [(function, task) for task in tasks], chunksize=chunk_size(len(tasks), jobs))
