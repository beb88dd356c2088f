"""`mapapp ingest PATH...`: read articles into the database, resolving their places."""
from __future__ import annotations

import sys

import click
from tqdm import tqdm

from mapapp.cli_options import data_option, max_size_option, near_option
from mapapp.db import exists, location, opened
from mapapp.errors import InvalidInput
from mapapp.escaping import terminal_text


def fetch_options(command):
    """Add --timeout and --delay: how long to wait for a server, and between two requests to one host."""
    command = click.option("--delay", "delay", type=click.FloatRange(min=0), default=1.0, show_default=True,
                           metavar="SECONDS", help="Pause between two requests to the same host (a robots.txt "
                                                   "Crawl-delay for mapapp, when longer, wins).")(command)
    return click.option("--timeout", "timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
                        metavar="SECONDS", help="Give up on a server that does not connect or send within this "
                                                "long (the whole page: three times it).")(command)


def _fetcher(timeout, delay, max_size):
    from mapapp.articles.fetch import Fetcher

    return Fetcher(timeout=timeout, delay=delay, max_bytes=max_size)


def echo_outcome(outcome) -> None:
    """One line per URL: to stdout when it was stored or skipped, to stderr when it failed."""
    tqdm.write(terminal_text(outcome.line()), file=sys.stderr if outcome.status == "failed" else sys.stdout)


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str), metavar="PATH_OR_URL...")
# The default is resolved in the command: importing the articles package here would slow every command's start.
@click.option("--max-mentions", "max_mentions", type=click.IntRange(min=1), default=None, metavar="N",
              envvar="MAPAPP_MAX_MENTIONS_PER_ARTICLE",
              help="Refuse an article with more than N place mentions (env MAPAPP_MAX_MENTIONS_PER_ARTICLE; "
                   "default 5000).")
@click.option("--follow-symlinks", is_flag=True,
              help="Read symbolic links given as PATH or leading out of a folder (refused by default: a link "
                   "could publish any file you can read).")
@fetch_options
@click.option("--scheduler", "scheduler", default=None, metavar="ADDRESS",
              help="Read and geoparse the files on a Dask cluster: 'local' (worker processes on this machine) "
                   "or a scheduler's address, tcp://HOST:8786; this process writes the results (needs "
                   "mapapp[dask]).")
@click.option("--jobs", "jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Worker processes that read and geoparse the files, on this machine or, with --scheduler "
                   "local, in the Dask cluster (default: every core); one writer stores them.")
@click.option("--batch-size", "batch_size", type=click.IntRange(min=1), default=None, metavar="N",
              help="With --scheduler: articles stored per transaction (default 200).")
@near_option
@max_size_option
@data_option
def ingest_command(paths, max_mentions, follow_symlinks, timeout, delay, scheduler, jobs, batch_size, near, max_size,
                   data):
    """Add or update articles from files or folders (.txt, .md, .html; optional front matter) or web pages.

    Re-ingesting an article (same URL, else same file name) updates it. A file that cannot be read (not a
    regular file, too large, a symbolic link), or that has more place mentions than --max-mentions, is
    reported on one line and skipped (a stored version of it stays as it was); the command then exits with
    status 1.

    An http(s) URL is fetched (robots.txt respected, --delay between requests to one host, --timeout,
    --max-size) and read as an .html file is. Each URL gets one line: ingested, skipped (a duplicate: the same
    address, canonical URL or text as a stored article) or failed (why). A failed URL does not stop the
    others; URLs make the command exit 1 only when none could be ingested and at least one failed.

    Each article's home region is its front matter's `near:`, else --near, else its source's entry in
    DATA_DIR/sources.toml; a name the gazetteer does not know is an error.

    With --scheduler, Dask workers read and geoparse the files (URLs are fetched here, as without it) and this
    process stores them in batches (the same articles and mentions as without it); workers on other hosts
    need the files and the data folder at the same paths. Running it again after an interruption stores
    nothing twice.
    """
    if "" in paths:  # Path("") is the current folder: refuse before reading anything
        raise InvalidInput("an empty path was given; name a file or folder")
    if scheduler is None and batch_size is not None:
        raise InvalidInput("--batch-size needs --scheduler")
    if scheduler is not None:
        try:
            from mapapp.articles import batch
        except ModuleNotFoundError as error:
            if (error.name or "").partition(".")[0] in ("dask", "distributed"):
                raise InvalidInput("--scheduler needs Dask: pip install 'mapapp[dask]'") from None
            raise
        batch.check_scheduler(scheduler, jobs)
    from mapapp.articles import ingest_paths
    from mapapp.articles.fetch import is_web_url
    from mapapp.articles.near import HomeRegions, load_sources
    from mapapp.articles.store import MAX_MENTIONS_PER_ARTICLE
    from mapapp.articles.urls import failed_completely, ingest_urls
    from mapapp.gazetteer import open_gazetteer
    from mapapp.geoparse import Geoparser
    from mapapp.geoparse.workers import default_jobs

    urls = [path for path in paths if is_web_url(path)]
    files = [path for path in paths if not is_web_url(path)]
    parser = Geoparser(open_gazetteer(data, build_if_missing=True, progress=True))
    sources = load_sources(data)
    regions = HomeRegions(parser.gazetteer, default=near, sources=sources)  # an unknown --near stops here
    failed = []

    def report(error):
        failed.append(error)
        # tqdm.write keeps the message on its own line above the progress bar.
        tqdm.write(f"error: {terminal_text(error.message)}", file=sys.stderr)

    limit = max_mentions or MAX_MENTIONS_PER_ARTICLE
    outcomes = []
    with opened(location(data)) as conn:
        if not files:
            ids = []
        elif scheduler is None:
            ids = ingest_paths(conn, parser, files, progress=True, on_error=report, follow_symlinks=follow_symlinks,
                               max_bytes=max_size, max_mentions=limit, regions=regions, jobs=jobs or default_jobs())
        else:
            with batch.dask_client(scheduler, jobs=jobs) as client:
                click.echo(f"Dask dashboard: {terminal_text(client.dashboard_link)}", err=True)
                ids = batch.ingest_on_cluster(conn, parser, client, files, data_dir=data, on_error=report,
                                              follow_symlinks=follow_symlinks, max_bytes=max_size,
                                              max_mentions=limit, near=near, sources=sources,
                                              batch_size=batch_size or batch.BATCH_SIZE)
        if urls:
            with _fetcher(timeout, delay, max_size) as fetcher:
                outcomes = ingest_urls(conn, parser, urls, fetcher=fetcher, regions=regions, max_mentions=limit,
                                       on_outcome=echo_outcome)
    stored = len(ids) + sum(o.status == "ingested" for o in outcomes)
    summary = f"Ingested {stored} article{'s' * (stored != 1)} into {terminal_text(location(data))}"
    if outcomes:
        skipped = sum(o.status == "skipped" for o in outcomes)
        summary += f"; {skipped} URL{'s' * (skipped != 1)} skipped as duplicates, " \
                   f"{sum(o.status == 'failed' for o in outcomes)} failed"
    click.echo(summary)
    if failed:
        raise click.ClickException(f"{len(failed)} file{'s' * (len(failed) != 1)} could not be ingested")
    if outcomes and failed_completely(outcomes) and not ids:
        raise click.ClickException("no URL could be ingested")


@click.group("corrections")
def corrections_group() -> None:
    """Editors' corrections of place mentions (made on the article pages)."""


@corrections_group.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="File to write: GeoCorpora-style JSON lines, one corrected article a line ('-' for stdout).")
@data_option
def corrections_export_command(out, data):
    """Write every corrected article as annotations, in the development corpora's JSON lines.

    One article a line: {"id", "text", "toponyms": [{"start", "end", "text", "lat", "lon"}]} with every
    resolved place mention after the corrections (GeoCorpora's format; mapapp evaluate --corpus geocorpora).
    """
    from mapapp.articles.corrections import write_export

    path = location(data)
    if not exists(path):
        raise click.ClickException(f"no database at {terminal_text(path)}")
    with opened(path) as conn:
        if out == "-":
            count = write_export(conn, click.get_text_stream("stdout"))
        else:
            with open(out, "w", encoding="utf-8", newline="\n") as handle:
                count = write_export(conn, handle)
    if out != "-":
        click.echo(f"Wrote {count} corrected article{'s' * (count != 1)} to {terminal_text(out)}")


@click.group("feeds")
def feeds_group() -> None:
    """Follow RSS and Atom feeds and ingest the articles they link to."""


@feeds_group.command("add")
@click.argument("url")
@click.option("--title", default="", help="A name for the feed (default: the title it gives itself).")
@data_option
def feeds_add_command(url, title, data):
    """Follow the feed at URL (nothing is fetched until `mapapp feeds poll`)."""
    from mapapp.articles.feeds import add_feed

    with opened(location(data)) as conn:
        feed_id = add_feed(conn, url, title)
    click.echo(f"Following feed {feed_id}: {terminal_text(url.strip())}")


@feeds_group.command("list")
@data_option
def feeds_list_command(data):
    """Every followed feed: id, URL, title, last poll and its outcome, articles ingested from it."""
    from mapapp.articles.feeds import list_feeds

    with opened(location(data)) as conn:
        feeds = list_feeds(conn)
    if not feeds:
        click.echo("No feeds followed (mapapp feeds add URL).")
    for feed in feeds:
        polled = f"polled {feed['polled_at']}: {feed['status']}" if feed["polled_at"] else "never polled"
        click.echo(terminal_text(f"{feed['id']:>4}  {feed['url']}  {feed['title'] or '(untitled)'}  {polled}; "
                                 f"{feed['ingested']} article{'s' * (feed['ingested'] != 1)} ingested"))


@feeds_group.command("remove")
@click.argument("feed")
@data_option
def feeds_remove_command(feed, data):
    """Stop following FEED (its id or URL); the articles already ingested from it stay."""
    from mapapp.articles.feeds import remove_feed

    with opened(location(data)) as conn:
        url = remove_feed(conn, feed)
    click.echo(f"No longer following {terminal_text(url)}")


@feeds_group.command("poll")
@click.argument("feeds", nargs=-1, metavar="[FEED...]")
@click.option("--watch", is_flag=True, help="Poll again and again, every --interval seconds, until interrupted.")
@click.option("--interval", type=click.FloatRange(min=1), default=900, show_default=True, metavar="SECONDS",
              help="With --watch: time from the start of one poll to the start of the next.")
@fetch_options
@max_size_option
@data_option
def feeds_poll_command(feeds, watch, interval, timeout, delay, max_size, data):
    """Fetch the feeds (all, or the FEED ids or URLs given) and ingest the articles they newly link to.

    Each feed is asked only for what changed since its last answer (ETag / Last-Modified). One line per feed
    and per new item (ingested, skipped as a duplicate, or failed and why; failed items are retried by the
    next poll). Exits 1 when every feed polled failed.
    """
    import time

    from mapapp.articles.feeds import poll_feeds
    from mapapp.articles.near import HomeRegions, load_sources
    from mapapp.gazetteer import open_gazetteer
    from mapapp.geoparse import Geoparser

    parser = Geoparser(open_gazetteer(data, build_if_missing=True, progress=True))
    regions = HomeRegions(parser.gazetteer, sources=load_sources(data))

    def feed_line(poll):
        tqdm.write(terminal_text(f"feed {poll.feed_id} {poll.url}: {poll.status}"),
                   file=sys.stderr if poll.failed else sys.stdout)

    polls = []
    with opened(location(data)) as conn, _fetcher(timeout, delay, max_size) as fetcher:
        try:
            while True:
                started = time.monotonic()
                polls = poll_feeds(conn, parser, fetcher=fetcher, feeds=list(feeds), regions=regions,
                                   on_outcome=echo_outcome, on_feed=feed_line)
                if not polls:
                    click.echo("No feeds followed (mapapp feeds add URL).")
                if not watch:
                    break
                click.echo(f"Next poll in {max(0.0, interval - (time.monotonic() - started)):.0f} s (Ctrl-C stops).")
                time.sleep(max(0.0, interval - (time.monotonic() - started)))
        except KeyboardInterrupt:
            # Each item is stored in its own transaction: an interrupted poll keeps what it finished.
            click.echo("Stopped.")
            return
    if polls and all(poll.failed for poll in polls):
        raise click.ClickException("no feed could be polled")
