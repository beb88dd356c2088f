"""Batch ingest on a Dask cluster: the workers read and geoparse files, this process alone writes the results.

`mapapp ingest PATH... --scheduler local|tcp://HOST:8786`. Each worker opens the gazetteer of the data folder
once (a worker plugin; the name index is memory-mapped, so worker processes on one host share its pages) and
turns chunks of files into PreparedArticle values. This process writes them to the store in batches, each
batch in one transaction (articles, mentions, editors' pins and the articles version together), keyed as a
plain ingest keys them (URL, else file name): a re-run updates what is stored, so an interrupted ingest run
again adds nothing twice and loses nothing.

This module needs the `dask` extra (dask, distributed); `mapapp ingest` says so when it is missing.
Workers on other hosts read the files and the data folder at the paths this process gives them: mount both
at the same paths there (a shared filesystem), or the worker reports each file as missing.
"""
from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import distributed
from tqdm import tqdm

from mapapp.articles.documents import MAX_FILE_BYTES, iter_paths, read_document
from mapapp.articles.store import (
    MAX_MENTIONS_PER_ARTICLE,
    PreparedArticle,
    prepare_document,
    reresolve_pending,
    write_articles,
)
from mapapp.errors import GazetteerMissing, InvalidInput, MalformedFile, MapappError

#: Articles a write transaction holds: large enough that a commit's fsync is paid rarely, small enough that
#: an interruption loses little work and the writer never holds SQLite's lock for long.
BATCH_SIZE = 200
#: Files one Dask task reads and geoparses, at least: a task cost about 8 ms of scheduling and transfer here
#: (2 busy cores), a news article 5-7 ms to geoparse; 16 a task keep that overhead small. A large input gets
#: larger tasks, about TASKS_PER_WORKER a worker, so that the scheduler's load stays flat as workers are added.
FILES_PER_TASK = 16
TASKS_PER_WORKER = 64
MAX_FILES_PER_TASK = 256


class GeoparseSetup(distributed.WorkerPlugin):
    """A Dask worker plugin: the data folder's Geoparser and home regions, opened once per worker."""

    def __init__(self, data_dir, *, near: str | None = None, sources: dict[str, str] | None = None):
        self.data_dir = os.fspath(data_dir)
        self.near = near
        self.sources = dict(sources or {})
        self.name = f"mapapp-geoparse-{uuid.uuid4().hex}"
        self.parser = self.regions = None

    def setup(self, worker=None):
        """Open the gazetteer, its name index and the home regions (once per worker)."""
        from mapapp.articles.near import HomeRegions
        from mapapp.gazetteer import open_gazetteer
        from mapapp.geoparse import Geoparser

        try:
            gazetteer = open_gazetteer(self.data_dir, build_if_missing=False, progress=False)
        except GazetteerMissing as error:
            raise GazetteerMissing(f"Dask worker on {socket.gethostname()}: {error.message} (a worker reads the "
                                   "data folder at the same path as the ingest command)") from None
        self.parser = Geoparser(gazetteer)
        self.parser.name_index()  # now, not in the first task: the dashboard then shows geoparsing time only
        self.regions = HomeRegions(gazetteer, default=self.near, sources=self.sources)

    def teardown(self, worker=None):
        """Close the gazetteer (the plugin is removed when the ingest ends)."""
        if self.parser is not None:
            self.parser.gazetteer.close()
            self.parser = self.regions = None


def geoparse_files(plugin_name: str, numbered: list[tuple[int, str]], max_bytes: int,
                   max_mentions: int) -> list[tuple[int, PreparedArticle | MapappError]]:
    """Read and geoparse files on a worker: (number, PreparedArticle, or the MapappError of a bad file) each."""
    setup = distributed.get_worker().plugins[plugin_name]
    done = []
    for number, raw in numbered:
        path = Path(raw)
        try:
            result = prepare_document(setup.parser, read_document(path, max_bytes=max_bytes),
                                      max_mentions=max_mentions, regions=setup.regions)
        except MapappError as error:
            result = error
        except OSError as error:
            result = MalformedFile(error.strerror or str(error), path=str(path))
        done.append((number, result))
    return done


def check_scheduler(scheduler: str, jobs: int | None = None) -> None:
    """InvalidInput unless `scheduler` is "local" or an address, and `jobs` goes with "local" only."""
    if scheduler == "local":
        return
    if jobs is not None:
        raise InvalidInput("--jobs applies to --scheduler local only (a cluster's workers are started there)",
                           field="jobs")
    if "://" not in scheduler:
        raise InvalidInput(f"--scheduler {scheduler[:80]!r} is neither 'local' nor an address such as "
                           "tcp://HOST:8786", field="scheduler")


@contextlib.contextmanager
def dask_client(scheduler: str, *, jobs: int | None = None):
    """A distributed.Client for `scheduler`: "local" (a LocalCluster of `jobs` worker processes, default one a
    core) or a scheduler's address (tcp://HOST:8786); InvalidInput when nothing answers there."""
    check_scheduler(scheduler, jobs)
    if scheduler == "local":
        # One thread a worker: geoparsing is pure Python, so threads would share one core through the GIL.
        with distributed.LocalCluster(n_workers=jobs or os.cpu_count() or 1, threads_per_worker=1,
                                      processes=True) as cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        # Waits distributed.comm.timeouts.connect (30 s; env DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT).
        client = distributed.Client(scheduler)
    except (OSError, TimeoutError, ValueError) as error:
        raise InvalidInput(f"no Dask scheduler answers at {scheduler[:80]} ({error})", field="scheduler") from None
    with client:
        yield client


def ingest_on_cluster(conn: sqlite3.Connection, parser, client, paths: Iterable, *, data_dir,
                      progress: bool = True, on_error: Callable[[MapappError], None] | None = None,
                      on_batch: Callable[[list[int]], None] | None = None, follow_symlinks: bool = False,
                      max_bytes: int = MAX_FILE_BYTES, max_mentions: int = MAX_MENTIONS_PER_ARTICLE,
                      near: str | None = None, sources: dict[str, str] | None = None,
                      batch_size: int = BATCH_SIZE, files_per_task: int | None = None) -> list[int]:
    """ingest_paths with the reading and geoparsing on `client`'s workers; the ids of the stored articles.

    Stores what a plain ingest stores, in batches of `batch_size` articles a transaction; a Dask task reads
    `files_per_task` files (default: 16, more for a large input on many workers). Two files with the
    same key: the later in the input wins, as in a plain ingest, whatever order the workers finish them in.
    `on_batch` is called with each committed batch's article ids. Bad files go to `on_error` as in
    ingest_paths (else the first is raised once the rest are stored).
    """
    reresolve_pending(conn, parser)
    files, errors = iter_paths(paths, follow_symlinks=follow_symlinks)
    failures: list[MapappError] = []

    def fail(error: MapappError) -> None:
        if on_error is None:
            failures.append(error)
        else:
            on_error(error)

    for error in errors:
        if on_error is None:
            raise error
        on_error(error)
    threads = max(sum(client.nthreads().values()), 1)
    if files_per_task is None:
        wanted = -(-len(files) // (threads * TASKS_PER_WORKER))
        files_per_task = min(max(FILES_PER_TASK, wanted), MAX_FILES_PER_TASK)
    chunks = [[(number, str(path)) for number, path in enumerate(files[start:start + files_per_task], start)]
              for start in range(0, len(files), files_per_task)]
    ids_by_key: dict[str, tuple[int, int]] = {}  # key -> (number of the file stored under it, article id)
    ids: list[int] = []
    pending: list[tuple[int, PreparedArticle]] = []
    setup = GeoparseSetup(data_dir, near=near, sources=sources)
    bar = tqdm(total=len(files), desc="Ingesting", unit="doc", disable=not progress, leave=False)

    in_flight: set = set()

    def submit(chunk):
        # Named for the dashboard's task stream and progress bars ("geoparse-files").
        future = client.submit(geoparse_files, setup.name, chunk, max_bytes, max_mentions,
                               key=f"geoparse-files-{uuid.uuid4().hex}-{chunk[0][0]}", pure=False)
        in_flight.add(future)
        return future

    def write(batch: list[tuple[int, PreparedArticle]]) -> None:
        # The later file of one key wins, whichever finished first; the earlier is then written by no one.
        newest: dict[str, tuple[int, PreparedArticle]] = {}
        for number, article in batch:
            if number > newest.get(article.key, (-1,))[0] and number > ids_by_key.get(article.key, (-1,))[0]:
                newest[article.key] = (number, article)
        stored = write_articles(conn, [article for _, article in newest.values()])
        for (number, article), article_id in zip(newest.values(), stored):
            ids_by_key[article.key] = (number, article_id)
        written = [ids_by_key[article.key][1] for _, article in batch]
        ids.extend(written)
        bar.update(len(batch))
        if on_batch is not None:
            on_batch(written)

    try:
        # Raises what a worker's setup raised (a data folder missing there: GazetteerMissing, naming it).
        client.register_plugin(setup, name=setup.name)
        window = 2 * threads + 2  # tasks in flight: every worker busy, memory bounded
        queue = iter(chunks)
        running = distributed.as_completed([submit(chunk) for chunk in _take(queue, window)])
        for future in running:
            results = future.result()
            in_flight.discard(future)
            future.release()
            for number, result in results:
                if isinstance(result, PreparedArticle):
                    pending.append((number, result))
                else:
                    fail(result)
                    bar.update(1)
            for chunk in _take(queue, 1):
                running.add(submit(chunk))
            if len(pending) >= batch_size or (running.is_empty() and pending):
                write(pending)
                pending = []
    finally:
        bar.close()
        with contextlib.suppress(Exception):  # a lost connection must not hide the error that ended the run
            client.cancel(list(in_flight))  # an interrupted run leaves no task behind to run without its plugin
            client.unregister_worker_plugin(setup.name)
    if failures:
        raise failures[0]
    return ids


def _take(iterator, count: int) -> list:
    """The next `count` items of `iterator` (fewer at its end)."""
    taken = []
    for item in iterator:
        taken.append(item)
        if len(taken) == count:
            break
    return taken
