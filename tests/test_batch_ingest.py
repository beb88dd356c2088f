"""`mapapp ingest --scheduler`: geoparsing on a real Dask LocalCluster (2 worker processes), stored by one writer."""
from __future__ import annotations

import os
import signal
import sys

import pytest

distributed = pytest.importorskip("distributed")

from conftest import copy_data_dir  # noqa: E402

from mapapp.articles import ingest_paths  # noqa: E402
from mapapp.articles.batch import ingest_on_cluster  # noqa: E402
from mapapp.db import DATABASE_NAME, connect  # noqa: E402
from mapapp.geoparse.evaluate import load_geovirus, load_trnews  # noqa: E402

PER_CORPUS = 30
DUPLICATE = "trnews-003.txt"  # also in the second folder, with other text: the later file in the input wins


@pytest.fixture(scope="module")
def corpus(shared_dir, tmp_path_factory):
    """60 development-corpus articles as .txt files, a second folder repeating one file name, and a bad file."""
    root = tmp_path_factory.mktemp("corpus")
    first, second = root / "a", root / "b"
    first.mkdir()
    second.mkdir()
    for name, corpus in (("trnews", load_trnews(shared_dir / "eval" / "TR-News.xml")),
                         ("geovirus", load_geovirus(shared_dir / "eval" / "GeoVirus.xml"))):
        for number, document in enumerate(corpus.documents[:PER_CORPUS]):
            (first / f"{name}-{number:03d}.txt").write_text(document.text, encoding="utf-8")
    (second / DUPLICATE).write_text("Floods closed the roads between Lyon and Grenoble.", encoding="utf-8")
    (second / "broken.txt").write_bytes(b"\x00\x01 binary")
    return [str(first), str(second)]


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 single-threaded worker processes (a worker can be killed without killing the tests)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        yield client


def snapshot(data_dir) -> tuple[list[tuple], list[tuple]]:
    """(articles, mentions) as comparable rows: keyed by the article's key, never by its row id."""
    conn = connect(data_dir / DATABASE_NAME)
    try:
        articles = [tuple(row) for row in conn.execute(
            "SELECT key, title, source, published, url, path, text, content_hash, near, author, fetched_url,"
            " fingerprint, (SELECT words FROM article_words w WHERE w.rowid = a.id) FROM articles a ORDER BY key")]
        mentions = [tuple(row) for row in conn.execute(
            "SELECT a.key, m.start, m.end, m.place_id, m.kind, m.text, m.sentence_start, m.sentence_end"
            " FROM mentions m JOIN articles a ON a.id = m.article_id ORDER BY a.key, m.start")]
    finally:
        conn.close()
    return articles, mentions


@pytest.fixture(scope="module")
def plain(corpus, gazetteer_template, geoparser, tmp_path_factory):
    """What a plain single-process ingest stores for the corpus."""
    data = copy_data_dir(gazetteer_template, tmp_path_factory.mktemp("plain"))
    errors = []
    conn = connect(data / DATABASE_NAME)
    try:
        ingest_paths(conn, geoparser, corpus, progress=False, on_error=errors.append)
    finally:
        conn.close()
    assert len(errors) == 1 and "broken.txt" in errors[0].message
    return snapshot(data)


def run(data_dir, geoparser, client, corpus, **kwargs) -> tuple[list[int], list]:
    errors = []
    conn = connect(data_dir / DATABASE_NAME)
    try:
        # Small tasks: 15 of them for 2 workers, so that a killed worker surely has some left to lose.
        ids = ingest_on_cluster(conn, geoparser, client, corpus, data_dir=data_dir, progress=False,
                                on_error=errors.append, files_per_task=4, **kwargs)
    finally:
        conn.close()
    return ids, errors


@pytest.mark.slow  # a LocalCluster of 2 processes, and 60 articles
def test_two_workers_store_exactly_the_mentions_of_a_plain_ingest(data_dir, geoparser, client, corpus, plain):
    ids, errors = run(data_dir, geoparser, client, corpus, batch_size=10)
    articles, mentions = snapshot(data_dir)
    assert len(errors) == 1 and "broken.txt: binary file" in errors[0].message
    assert len(ids) == 2 * PER_CORPUS + 1  # every good file, the superseded duplicate included
    assert len(articles) == 2 * PER_CORPUS and len(mentions) > 500
    assert articles == plain[0]
    assert mentions == plain[1]  # mention by mention: article, start, end, place id, kind, text, sentence
    assert all(article[11] is not None and article[12] for article in articles)  # fingerprint, indexed words
    duplicate = next(article for article in articles if article[0] == DUPLICATE)
    assert duplicate[6].startswith("Floods closed the roads")  # the later file won, whichever finished first


@pytest.mark.slow  # a LocalCluster of 2 processes, and 60 articles
def test_a_killed_worker_and_an_interrupted_writer_lose_and_duplicate_nothing(data_dir, gazetteer_template, geoparser,
                                                                             client, corpus, plain):
    victim = sorted(client.nthreads())[0]
    pids = client.run(os.getpid)
    batches = []

    def kill_after_the_first(ids):
        batches.append(ids)
        if len(batches) == 1:
            os.kill(pids[victim], signal.SIGKILL)  # as the OOM killer would: the process dies with tasks on it

    run(data_dir, geoparser, client, corpus, batch_size=10, on_batch=kill_after_the_first)
    assert len(batches) >= 3  # the kill came mid-ingest, and the work lost with the worker was done again
    client.wait_for_workers(2)
    assert set(client.run(os.getpid).values()) != set(pids.values())  # the nanny restarted the killed worker
    assert snapshot(data_dir) == plain

    class WriterDied(Exception):
        pass

    def die_after_two(ids, seen=[]):  # noqa: B006 - a counter that lives for this one run
        seen.append(ids)
        if len(seen) == 2:
            raise WriterDied

    fresh = copy_data_dir(gazetteer_template, data_dir.parent / "again")
    with pytest.raises(WriterDied):
        run(fresh, geoparser, client, corpus, batch_size=10, on_batch=die_after_two)
    articles, mentions = snapshot(fresh)
    assert 0 < len(articles) < 2 * PER_CORPUS  # two batches stored, the rest not
    assert set(mentions) <= set(plain[1])
    run(fresh, geoparser, client, corpus, batch_size=10)
    assert snapshot(fresh) == plain


@pytest.mark.slow  # a LocalCluster of 2 processes, and 60 articles
def test_rerunning_a_completed_ingest_adds_nothing(data_dir, geoparser, client, corpus, plain):
    first, _ = run(data_dir, geoparser, client, corpus, batch_size=25)
    conn = connect(data_dir / DATABASE_NAME)
    counts = conn.execute("SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM mentions)").fetchone()
    conn.close()
    again, errors = run(data_dir, geoparser, client, corpus, batch_size=25)
    conn = connect(data_dir / DATABASE_NAME)
    assert conn.execute("SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM mentions)").fetchone() == counts
    conn.close()
    assert sorted(again) == sorted(first) and len(errors) == 1  # the same article ids: updated, not added
    assert snapshot(data_dir) == plain


@pytest.mark.slow  # a LocalCluster of 2 processes, and 60 articles
def test_cli_ingests_through_a_scheduler_address(runner, data_dir, client, corpus):
    result = runner.invoke(["ingest", corpus[0], "--scheduler", client.scheduler.address, "--batch-size", "16"])
    assert result.exit_code == 0, result.output
    assert "Dask dashboard: http" in result.output
    assert f"Ingested {2 * PER_CORPUS} articles" in result.output
    assert len(snapshot(data_dir)[0]) == 2 * PER_CORPUS


def test_cli_says_what_to_install_without_dask(runner, tmp_path, monkeypatch):
    import mapapp.articles

    monkeypatch.delitem(sys.modules, "mapapp.articles.batch", raising=False)
    monkeypatch.delattr(mapapp.articles, "batch", raising=False)
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails as if not installed
    (tmp_path / "a.txt").write_text("Rain in Paris.", encoding="utf-8")
    result = runner.invoke(["ingest", str(tmp_path / "a.txt"), "--scheduler", "local"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: --scheduler needs Dask: pip install 'mapapp[dask]'"


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "5"], "--batch-size needs --scheduler"),
    (["--scheduler", "somewhere"], "neither 'local' nor an address"),
    (["--scheduler", "tcp://127.0.0.1:9", "--jobs", "2"], "--jobs applies to --scheduler local only"),
])
def test_cli_refuses_bad_scheduler_options_in_one_line(runner, tmp_path, args, message):
    (tmp_path / "a.txt").write_text("Rain in Paris.", encoding="utf-8")
    result = runner.invoke(["ingest", str(tmp_path / "a.txt"), *args])
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_cli_names_a_scheduler_that_does_not_answer(runner, tmp_path):
    import dask

    (tmp_path / "a.txt").write_text("Rain in Paris.", encoding="utf-8")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = runner.invoke(["ingest", str(tmp_path / "a.txt"), "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "no Dask scheduler answers at tcp://127.0.0.1:9" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.slow  # a LocalCluster of 2 processes, and 60 articles
def test_workers_that_cannot_open_the_data_folder_stop_the_run_naming_it(data_dir, geoparser, client, corpus,
                                                                         tmp_path):
    from mapapp.errors import MapappError

    conn = connect(data_dir / DATABASE_NAME)
    try:
        with pytest.raises(MapappError, match=r"Dask worker on .*: no gazetteer in .*elsewhere.* at the same path"):
            ingest_on_cluster(conn, geoparser, client, corpus, data_dir=tmp_path / "elsewhere", progress=False,
                              on_error=lambda error: None)
        assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0
    finally:
        conn.close()
    left = client.run(lambda dask_worker: [name for name in dask_worker.plugins if name.startswith("mapapp-")])
    assert left == {address: [] for address in client.nthreads()}  # no half-set-up plugin stays on a worker


@pytest.mark.slow  # starts its own LocalCluster
# Another session's cluster may hold the dashboard's default port: Dask then serves it on another, and says so.
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")
def test_cli_local_cluster_ingests_like_a_plain_ingest(runner, data_dir, corpus, plain):
    result = runner.invoke(["ingest", *corpus, "--scheduler", "local", "--jobs", "2", "--batch-size", "7"])
    assert result.exit_code == 1  # the one bad file, reported on its own line
    assert "broken.txt: binary file" in result.output and "Dask dashboard: http" in result.output
    assert f"Ingested {2 * PER_CORPUS + 1} articles" in result.output
    assert snapshot(data_dir) == plain


def _postgresql_snapshot(url, keys) -> tuple[list[tuple], list[tuple]]:
    # As snapshot(), for the corpus's articles only (the PostgreSQL template also holds the seeds), without
    # the word index (a table of its own there).
    conn = connect(url)
    try:
        articles = [tuple(row) for row in conn.execute(
            "SELECT key, title, source, published, url, path, text, content_hash, near, author, fetched_url,"
            " fingerprint FROM articles ORDER BY key") if row[0] in keys]
        mentions = [tuple(row) for row in conn.execute(
            'SELECT a.key, m.start, m."end", m.place_id, m.kind, m.text, m.sentence_start, m.sentence_end'
            " FROM mentions m JOIN articles a ON a.id = m.article_id ORDER BY a.key, m.start") if row[0] in keys]
    finally:
        conn.close()
    return articles, mentions


@pytest.mark.slow  # a LocalCluster of 2 processes, and 60 articles
def test_two_workers_store_into_postgresql_what_a_plain_ingest_stores_in_sqlite(runner, data_dir, client, corpus,
                                                                                 plain, seeded_pg_url):
    # As an operator sets it up: the data folder's config.py names the shared database, for this command and
    # for the workers, which open the gazetteer through the same folder.
    (data_dir / "config.py").write_text(f"DATABASE_URL = {seeded_pg_url!r}\n", encoding="utf-8")
    result = runner.invoke(["ingest", *corpus, "--scheduler", client.scheduler.address, "--batch-size", "7"])
    assert result.exit_code == 1 and "broken.txt" in result.output  # the one bad file, reported
    keys = {article[0] for article in plain[0]}
    articles, mentions = _postgresql_snapshot(seeded_pg_url, keys)
    assert articles == [article[:12] for article in plain[0]]
    assert mentions == plain[1]
    again = runner.invoke(["ingest", *corpus, "--scheduler", client.scheduler.address])
    assert again.exit_code == 1 and _postgresql_snapshot(seeded_pg_url, keys) == (articles, mentions)
