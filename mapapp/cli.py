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
    """Look after the database file of a data folder."""


@db_group.command("check")
@data_option
def db_check_command(data) -> None:
    """Run SQLite's integrity and foreign-key checks: prints "ok", else one problem a line and exits 1."""
    from mapapp.db import check, database_path

    path = database_path(data)
    if not path.is_file():
        raise click.ClickException(f"no database at {path}")
    problems = check(path)
    if not problems:
        click.echo("ok")
        return
    for problem in problems:
        click.echo(problem)
    sys.exit(1)


@db_group.command("migrate")
@data_option
def db_migrate_command(data) -> None:
    """Apply the schema migrations the database lacks (each in its own transaction); says from and to which version.

    Every command and `mapapp serve` also migrate on opening the database; this does it on its own, and reports.
    """
    import sqlite3

    from mapapp.db import connect, database_path

    path = database_path(data)
    if not path.is_file():
        raise click.ClickException(f"no database at {path}")
    try:
        conn = connect(path, migrate=False)
        try:
            done = migrations.migrate(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise click.ClickException(f"{path}: {error}") from None
    if done.start == done.end:
        click.echo(f"{terminal_text(path)}: at version {done.end}, nothing to migrate")
        return
    start = "a schema from before numbered migrations" if done.unnumbered else f"version {done.start}"
    click.echo(f"{terminal_text(path)}: migrated from {start} to version {done.end}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
