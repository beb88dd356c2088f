"""The `mapapp` command: one group, each subcommand defined next to the code it drives.

The subcommand modules take their shared options from mapapp.cli_options, never from here, so this module
can import them all at the top.
"""
from __future__ import annotations

import sys

import click

from mapapp import migrations
from mapapp.accounts import admin_group
from mapapp.articles.cli import corrections_group, feeds_group, ingest_command
from mapapp.cli_options import data_option
from mapapp.errors import MapappError
from mapapp.escaping import terminal_text
from mapapp.gazetteer.cli import gazetteer_group
from mapapp.geoparse.cli import evaluate_command, geoparse_command, train_command
from mapapp.maps.cli import export_command
from mapapp.web.cli import serve_command


class _Group(click.Group):
    """A click group that turns MapappError and OSError into a one-line message and exit code 1.

    Every message is passed through terminal_text, so a file name holding a newline or an ANSI escape
    (ours, or one click quotes in a usage error) stays on one line and cannot recolour the terminal.
    """

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


@click.group("db")
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


for _command in (gazetteer_group, geoparse_command, evaluate_command, train_command, ingest_command,
                 serve_command, export_command, admin_group, db_group, corrections_group, feeds_group):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
