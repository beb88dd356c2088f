"""The `mapapp` command: one group, each subcommand defined next to the code it drives."""
from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

import click

from mapapp.db import default_data_dir
from mapapp.errors import MapappError
from mapapp.escaping import terminal_text


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

    # Subcommands are registered on first use: their modules import this one (data_option), so registering
    # them at import time would be a circular import whenever one of them is imported first. Only the module
    # of the command asked for is imported: `mapapp geoparse` must not pay for Flask and the web package.
    def get_command(self, ctx, cmd_name):
        _register(cmd_name)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx):
        _register()
        return super().list_commands(ctx)


def data_option(command):
    """Add `--data DIR` (env MAPAPP_DATA; default instance/) and pass it on as a resolved Path `data`."""

    @click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path), envvar="MAPAPP_DATA",
                  default=None, help="Folder that holds the databases (env MAPAPP_DATA; default: instance/).")
    @functools.wraps(command)
    def wrapper(*args, data: Path | None = None, **kwargs):
        return command(*args, data=(data or default_data_dir()).resolve(), **kwargs)

    return wrapper


def near_option(command):
    """Add `--near PLACE`: the home region of every article read (see mapapp.articles.near)."""
    return click.option("--near", "near", default=None, metavar="PLACE",
                        help="Home region of these articles, e.g. \"Lamar County, Texas\" or a place id: their "
                             "bare names are read as local ones (an article's front matter `near:` wins).")(command)


_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


class _Size(click.ParamType):
    """A byte count: 1048576, 500kB, 20MB or 1GB (k/M/G are powers of 1024)."""

    name = "size"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d{1,12})\s*(?:([kmg])i?b?|(b))?\s*", str(value), re.IGNORECASE)
        size = int(match.group(1)) * _SIZE_UNITS[(match.group(2) or match.group(3) or "").lower()] if match else 0
        if size <= 0:
            self.fail(f"'{terminal_text(value)}' is not a size such as 20MB, 500kB or 1048576", param, ctx)
        return size


def max_size_option(command):
    """Add `--max-size SIZE` (default: the ingest limit, 5 MB) and pass it on as a byte count `max_size`."""
    from mapapp.articles.documents import MAX_FILE_BYTES, format_size

    limit = format_size(MAX_FILE_BYTES)
    return click.option("--max-size", "max_size", type=_Size(), default=MAX_FILE_BYTES,
                        help=f"Refuse files larger than this, e.g. 20MB or 500kB (default {limit}).")(command)


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


#: Each subcommand's module and attribute, imported when that command is used (or when all are listed).
_COMMANDS = {
    "gazetteer": ("mapapp.gazetteer.cli", "gazetteer_group"),
    "geoparse": ("mapapp.geoparse.cli", "geoparse_command"),
    "evaluate": ("mapapp.geoparse.cli", "evaluate_command"),
    "train": ("mapapp.geoparse.cli", "train_command"),
    "ingest": ("mapapp.articles.cli", "ingest_command"),
    "serve": ("mapapp.web.cli", "serve_command"),
    "export": ("mapapp.maps.cli", "export_command"),
    "admin": ("mapapp.accounts", "admin_group"),
    "corrections": ("mapapp.articles.cli", "corrections_group"),
    "feeds": ("mapapp.articles.cli", "feeds_group"),
}


def _register(name: str | None = None) -> None:
    import importlib

    for command_name, (module, attribute) in _COMMANDS.items():
        if command_name not in main.commands and name in (None, command_name):
            main.add_command(getattr(importlib.import_module(module), attribute), command_name)
    if "db" not in main.commands:
        main.add_command(db_group)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
