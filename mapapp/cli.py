"""The `mapapp` command: one group, each subcommand defined next to the code it drives.

The subcommand modules take their shared options from mapapp.cli_options, never from here, so there is no
import cycle. They are listed in SUBCOMMANDS and imported when asked for (click's lazy subcommands): `mapapp
geoparse` must not pay for Flask, folium and the web package.
"""
from __future__ import annotations

import importlib
import sys

import click

from mapapp import migrations
from mapapp.cli_options import data_option
from mapapp.errors import MapappError
from mapapp.escaping import terminal_text

# Every subcommand but `db` (defined below): its name, and the module and attribute that define it.
SUBCOMMANDS = {
    "gazetteer": "mapapp.gazetteer.cli:gazetteer_group",
    "geoparse": "mapapp.geoparse.cli:geoparse_command",
    "evaluate": "mapapp.geoparse.cli:evaluate_command",
    "train": "mapapp.geoparse.cli:train_command",
    "ingest": "mapapp.articles.cli:ingest_command",
    "corrections": "mapapp.articles.cli:corrections_group",
    "feeds": "mapapp.articles.cli:feeds_group",
    "serve": "mapapp.web.cli:serve_command",
    "export": "mapapp.maps.cli:export_command",
    "admin": "mapapp.accounts:admin_group",
}


class _Group(click.Group):
    """A click group that loads SUBCOMMANDS on demand and turns MapappError and OSError into a one-line
    message and exit code 1.

    Every message is passed through terminal_text, so a file name holding a newline or an ANSI escape
    (ours, or one click quotes in a usage error) stays on one line and cannot recolour the terminal.
    """

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def get_command(self, ctx, cmd_name):
        if cmd_name in SUBCOMMANDS and cmd_name not in self.commands:
            module, attribute = SUBCOMMANDS[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MapappError as error:
            raise click.ClickException(terminal_text(error.message)) from None
        except OSError as error:
            message = f"{error.filename or ''}: {error.strerror or error}".lstrip(": ")
            raise click.ClickException(terminal_text(message)) from None
        except click.ClickException as error:
            error.message = terminal_text(error.message)
            raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """mapapp: geoparse news articles against a local gazetteer and map where the news happens."""


@main.group("db")
def db_group() -> None:
    """Look after the database of a data folder: check, migrate, copy to PostgreSQL."""


@db_group.command("check")
@data_option
def db_check_command(data) -> None:
    """Check the data folder's database (SQLite file or PostgreSQL): the store's own integrity check, the schema
    version, the name keys and every shape's validity. Prints "ok", else one problem a line and exits 1."""
    from mapapp.db import check, exists, location

    database = location(data)
    if not exists(database):
        raise click.ClickException(f"no database at {terminal_text(database)}")
    problems = check(database)
    if not problems:
        click.echo("ok")
        return
    for problem in problems:
        click.echo(terminal_text(problem))
    sys.exit(1)


@db_group.command("migrate")
@data_option
def db_migrate_command(data) -> None:
    """Apply the schema migrations the database lacks (each in its own transaction); says from and to which version.

    Every command and `mapapp serve` also migrate on opening the database; this does it on its own, and reports.
    """
    from mapapp.db import DatabaseError, connect, exists, location, shown

    path = location(data)
    if not exists(path):
        raise click.ClickException(f"no database at {path}")
    try:
        conn = connect(path, migrate=False)
        try:
            done = migrations.migrate(conn)
        finally:
            conn.close()
    except DatabaseError as error:
        raise click.ClickException(f"{terminal_text(shown(path))}: {str(error).splitlines()[0]}") from None
    if done.start == done.end:
        click.echo(f"{terminal_text(shown(path))}: at version {done.end}, nothing to migrate")
        return
    start = "a schema from before numbered migrations" if done.unnumbered else f"version {done.start}"
    click.echo(f"{terminal_text(shown(path))}: migrated from {start} to version {done.end}")


@db_group.command("copy")
@data_option
@click.option("--to", "target", required=True, metavar="URL",
              help="The empty PostgreSQL database to copy into: postgresql://user@host:port/name.")
def db_copy_command(data, target) -> None:
    """Copy the data folder's SQLite database, every table, into an empty PostgreSQL database (migrated first),
    then compare each table's row count and checksum on both sides; exits 1 if any differ."""
    from mapapp.db import DatabaseError, connect, database_path, is_url, shown
    from mapapp.transfer import copy_database

    if not is_url(target):
        raise click.ClickException(f"--to must be a postgresql:// URL, not {terminal_text(shown(target))!r}")
    path = database_path(data)
    if not path.is_file():
        raise click.ClickException(f"no database at {path}")
    try:
        source, destination = connect(path), connect(target)
    except DatabaseError as error:  # psycopg's OperationalError: cannot reach or log in to the server
        first = str(error).splitlines()[0]
        raise click.ClickException(f"cannot open {terminal_text(shown(target))}: {first}") from None
    try:
        copied = copy_database(source, destination)
    finally:
        source.close()
        destination.close()
    mismatched = [copy.table for copy in copied if copy.source_checksum != copy.target_checksum]
    for copy in copied:
        mark = "" if copy.source_checksum == copy.target_checksum else f" != {copy.target_checksum[:16]} (DIFFERS)"
        click.echo(f"{copy.table}: {copy.rows} rows, checksum {copy.source_checksum[:16]}{mark}")
    if mismatched:
        raise click.ClickException(f"the copy differs in {', '.join(mismatched)}")
    click.echo(f"Copied into {terminal_text(shown(target))}: every table matches")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
