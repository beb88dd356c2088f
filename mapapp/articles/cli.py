"""`mapapp ingest PATH...`: read articles into the database, resolving their places."""
from __future__ import annotations

import sys

import click
from tqdm import tqdm

from mapapp.cli import data_option, max_size_option, near_option
from mapapp.db import database_path, opened
from mapapp.errors import InvalidInput
from mapapp.escaping import terminal_text


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
# The default is resolved in the command: importing the articles package here would slow every command's start.
@click.option("--max-mentions", "max_mentions", type=click.IntRange(min=1), default=None, metavar="N",
              envvar="MAPAPP_MAX_MENTIONS_PER_ARTICLE",
              help="Refuse an article with more than N place mentions (env MAPAPP_MAX_MENTIONS_PER_ARTICLE; "
                   "default 5000).")
@click.option("--follow-symlinks", is_flag=True,
              help="Read symbolic links given as PATH or leading out of a folder (refused by default: a link "
                   "could publish any file you can read).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes that read and parse the files (default: every core); one writer stores them.")
@near_option
@max_size_option
@data_option
def ingest_command(paths, max_mentions, follow_symlinks, jobs, near, max_size, data):
    """Add or update articles from files or folders (.txt, .md, .html; optional front matter).

    Re-ingesting an article (same URL, else same file name) updates it. A file that cannot be read (not a
    regular file, too large, a symbolic link), or that has more place mentions than --max-mentions, is
    reported on one line and skipped (a stored version of it stays as it was); the command then exits with
    status 1.

    Each article's home region is its front matter's `near:`, else --near, else its source's entry in
    DATA_DIR/sources.toml; a name the gazetteer does not know is an error.
    """
    if "" in paths:  # Path("") is the current folder: refuse before reading anything
        raise InvalidInput("an empty path was given; name a file or folder")
    from mapapp.articles import ingest_paths
    from mapapp.articles.near import HomeRegions, load_sources
    from mapapp.articles.store import MAX_MENTIONS_PER_ARTICLE
    from mapapp.gazetteer import open_gazetteer
    from mapapp.geoparse import Geoparser
    from mapapp.geoparse.workers import default_jobs

    parser = Geoparser(open_gazetteer(data, build_if_missing=True, progress=True))
    regions = HomeRegions(parser.gazetteer, default=near, sources=load_sources(data))
    failed = []

    def report(error):
        failed.append(error)
        # tqdm.write keeps the message on its own line above the progress bar.
        tqdm.write(f"error: {terminal_text(error.message)}", file=sys.stderr)

    with opened(database_path(data)) as conn:
        ids = ingest_paths(conn, parser, paths, progress=True, on_error=report, follow_symlinks=follow_symlinks,
                           max_bytes=max_size, max_mentions=max_mentions or MAX_MENTIONS_PER_ARTICLE,
                           regions=regions, jobs=jobs or default_jobs())
    click.echo(f"Ingested {len(ids)} article{'s' * (len(ids) != 1)} into {terminal_text(database_path(data))}")
    if failed:
        raise click.ClickException(f"{len(failed)} file{'s' * (len(failed) != 1)} could not be ingested")


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

    path = database_path(data)
    if not path.is_file():
        raise click.ClickException(f"no database at {terminal_text(path)}")
    with opened(path) as conn:
        if out == "-":
            count = write_export(conn, click.get_text_stream("stdout"))
        else:
            with open(out, "w", encoding="utf-8", newline="\n") as handle:
                count = write_export(conn, handle)
    if out != "-":
        click.echo(f"Wrote {count} corrected article{'s' * (count != 1)} to {terminal_text(out)}")
