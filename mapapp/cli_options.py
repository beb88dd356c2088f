"""Options shared by several `mapapp` subcommands; a leaf module that no command module is imported from."""
from __future__ import annotations

import functools
import re
from pathlib import Path

import click

from mapapp.config import DATA_ENV, default_data_dir
from mapapp.escaping import terminal_text


def data_option(command):
    """Add `--data DIR` (env MAPAPP_DATA; default instance/) and pass it on as a resolved Path `data`."""

    @click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path), envvar=DATA_ENV,
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
