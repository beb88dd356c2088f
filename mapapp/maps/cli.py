"""`mapapp export`: write one self-contained HTML map."""
from __future__ import annotations

from pathlib import Path

import click

from mapapp.cli_options import data_option
from mapapp.config import OSM_ATTRIBUTION, OSM_TILES
from mapapp.db import connect, database_path
from mapapp.errors import GazetteerMissing
from mapapp.escaping import terminal_text


@click.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="HTML file to write (replaced atomically).")
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
@data_option
def export_command(out, article, place, sources, date_from, date_to, features, q, base_url, tiles, title, data):
    """Write a self-contained HTML map (Leaflet, data and popups inline) that works from file://."""
    from mapapp.maps.export import check_base_url, export_map

    if article and place:
        raise click.UsageError("give --article or --place, not both")
    database = database_path(data)
    if not database.exists():
        raise GazetteerMissing(f"no database in {data}: run `mapapp ingest` (or `mapapp serve`) first")
    conn = connect(database)
    try:
        result = export_map(
            conn, str(database), out, title=title, article=article, place=place,
            filters_args={"source": list(sources), "from": date_from, "to": date_to, "feature": list(features),
                          "q": q},
            base_url=check_base_url(base_url), tiles_url=tiles,
            tiles_attribution=OSM_ATTRIBUTION if tiles == OSM_TILES else "Map tiles")
    finally:
        conn.close()
    click.echo(f"Wrote {terminal_text(result.path)} ({result.size / 1024:.0f} kB): {result.places} places from "
               f"{result.articles} articles.")
