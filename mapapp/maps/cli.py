"""`mapapp export`: write one self-contained HTML map, or the view's data as GeoJSON, CSV, KML or GeoPackage."""
from __future__ import annotations

from pathlib import Path

import click

from mapapp.cli_options import data_option
from mapapp.config import OSM_ATTRIBUTION, OSM_TILES
from mapapp.db import connect, exists, location
from mapapp.errors import GazetteerMissing
from mapapp.escaping import terminal_text

EXPORT_FORMATS = ("html", "geojson", "csv", "kml", "gpkg")


@click.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (replaced atomically).")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="html", show_default=True,
              help="html: a self-contained map; geojson, csv (a row per mention), kml, gpkg: the data for GIS.")
@click.option("--article", "article", default=None, help="Export one article's map (its id).")
@click.option("--place", "place", default=None, help="Export one place's map (its gazetteer id).")
@click.option("--source", "sources", multiple=True, help="Only articles from this source (repeatable).")
@click.option("--from", "date_from", default=None, metavar="YYYY-MM-DD", help="Only articles published on or after.")
@click.option("--to", "date_to", default=None, metavar="YYYY-MM-DD", help="Only articles published on or before.")
@click.option("--feature", "features", multiple=True, help="Only places of this kind, e.g. city (repeatable).")
@click.option("--q", "q", default=None, help="Only places whose name contains this text.")
@click.option("--base-url", "base_url", default=None, metavar="URL",
              help="Server whose article pages the popups link to (default: the article text goes in the file).")
@click.option("--tiles", "tiles", default=OSM_TILES, show_default=True,
              help='Tile URL template; "" for the country-outline basemap only.')
@click.option("--title", "title", default="", help="Title of the exported page.")
@click.option("--quiet", is_flag=True, help="No progress bar (--format geojson, csv, kml, gpkg).")
@data_option
def export_command(out, fmt, article, place, sources, date_from, date_to, features, q, base_url, tiles, title, quiet,
                   data):
    """Write a self-contained HTML map (Leaflet, data and popups inline) that works from file://, or with
    --format the same view's data as GeoJSON, CSV, KML or GeoPackage."""
    from mapapp.maps.export import check_base_url, export_map

    if article and place:
        raise click.UsageError("give --article or --place, not both")
    database = location(data)
    if not exists(database):
        raise GazetteerMissing(f"no database in {data}: run `mapapp ingest` (or `mapapp serve`) first")
    filters_args = {"source": list(sources), "from": date_from, "to": date_to, "feature": list(features), "q": q}
    conn = connect(database)
    try:
        if fmt != "html":
            _export_data(conn, fmt, out, filters_args, article, place, progress=not quiet)
            return
        result = export_map(
            conn, str(database), out, title=title, article=article, place=place,
            filters_args=filters_args,
            base_url=check_base_url(base_url), tiles_url=tiles,
            tiles_attribution=OSM_ATTRIBUTION if tiles == OSM_TILES else "Map tiles")
    finally:
        conn.close()
    click.echo(f"Wrote {terminal_text(result.path)} ({result.size / 1024:.0f} kB): {result.places} places from "
               f"{result.articles} articles.")


# What the progress bar counts, by format (downloads.row_total).
_UNITS = {"csv": " mentions", "geojson": " places", "kml": " places", "gpkg": " rows"}
_STEPS = {"gpkg": " (rows read, then written)"}


def _export_data(conn, fmt: str, out: Path, filters_args: dict, article: str | None, place: str | None, *,
                 progress: bool) -> None:
    import sys

    from tqdm import tqdm

    from mapapp.maps.downloads import FORMATS, row_total, write_download
    from mapapp.maps.export import check_out_path
    from mapapp.maps.filters import MapFilters

    # One article's or one place's map shows its demonyms too (as its page does).
    chosen = {"article": article, "demonyms": "1"} if article else {"place": place, "demonyms": "1"} if place else {}
    filters = MapFilters.from_args({**filters_args, **chosen})
    filters.check(conn)
    check_out_path(out)  # a bad --out is one line before any bar
    # On stderr, as the other commands' bars: its total is counted first, so the estimate is honest.
    with tqdm(total=row_total(conn, filters, fmt), unit=_UNITS[fmt], desc=f"export {fmt}{_STEPS.get(fmt, '')}",
              file=sys.stderr, disable=not progress) as bar:
        size = write_download(conn, filters, fmt, out, bar.update)
    click.echo(f"Wrote {terminal_text(out)} ({size / 1024:.0f} kB, {FORMATS[fmt].label}).")
