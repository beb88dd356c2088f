"""`mapapp gazetteer build | import | export`."""
from __future__ import annotations

from pathlib import Path

import click

from mapapp.cli_options import data_option
from mapapp.db import location, shown
from mapapp.escaping import terminal_text


@click.group("gazetteer")
def gazetteer_group():
    """Build, import and export the local gazetteer."""


@gazetteer_group.command("build")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@data_option
def build_command(data: Path, quiet: bool):
    """Build (or rebuild) the worldwide gazetteer plus gazetteer/*.geojson; keeps admin edits.

    On PostgreSQL the build is made in a temporary SQLite file, then replaces the server's in one transaction."""
    from mapapp.gazetteer.build import build

    database = location(data)
    result = build(database, progress=not quiet)
    click.echo(f"Built {result['places']} places, {result['names']} names in {result['seconds']} s "
               f"into {terminal_text(shown(database))}")


@gazetteer_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--quiet", is_flag=True, help="No progress bar.")
@data_option
def import_command(file: Path, data: Path, quiet: bool):
    """Import FILE: a GeoNames dump (allCountries.txt, cities*.txt, alternateNamesV2.txt) or a curated GeoJSON."""
    from mapapp.gazetteer.curated import import_curated, is_geojson_file
    from mapapp.gazetteer.geonames import import_dump

    db = location(data)
    if is_geojson_file(file):
        count = import_curated(db, file)
        click.echo(f"Imported {count} curated places from {terminal_text(file)}")
    else:
        result = import_dump(db, file, progress=not quiet)
        click.echo(f"Imported {result['places']} places and {result['names']} names from {terminal_text(file)}")


@gazetteer_group.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="GeoJSON file to write (default: gazetteer/curated.geojson).")
@data_option
def export_command(data: Path, out: Path | None):
    """Write the curated and admin-edited places to a reviewable GeoJSON file, atomically."""
    from mapapp.gazetteer.curated import CURATED_FILE, export_curated

    out = out or CURATED_FILE
    count = export_curated(location(data), out)
    click.echo(f"Exported {count} places to {terminal_text(out)}")
