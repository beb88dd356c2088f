"""The `mapapp` command: one group, each subcommand defined next to the code it drives."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from mapapp.db import default_data_dir
from mapapp.errors import MapappError


class _Group(click.Group):
    """A click group that turns MapappError and OSError into a one-line message and exit code 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MapappError as error:
            raise click.ClickException(error.message) from None
        except OSError as error:
            raise click.ClickException(f"{error.filename or ''}: {error.strerror or error}".lstrip(": ")) from None

    # Subcommands are registered on first use: their modules import this one (data_option), so registering
    # them at import time would be a circular import whenever one of them is imported first.
    def get_command(self, ctx, cmd_name):
        _register()
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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """mapapp: geoparse news articles against a local gazetteer and map where the news happens."""


def _register() -> None:
    if main.commands:
        return
    from mapapp.accounts import admin_group
    from mapapp.articles.cli import ingest_command
    from mapapp.gazetteer.cli import gazetteer_group
    from mapapp.geoparse.cli import evaluate_command, geoparse_command, train_command
    from mapapp.maps.cli import export_command
    from mapapp.web.cli import serve_command

    for command in (gazetteer_group, geoparse_command, evaluate_command, train_command, ingest_command,
                    serve_command, export_command, admin_group):
        main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
