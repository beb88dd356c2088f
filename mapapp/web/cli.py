"""`mapapp serve`: the web app on waitress, a production WSGI server."""
from __future__ import annotations

import click

from mapapp.cli_options import data_option
from mapapp.escaping import terminal_text


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Worker threads answering requests.")
@data_option
def serve_command(host, port, threads, data):
    """Serve the map app: builds a missing gazetteer and loads the seed articles on first start."""
    from waitress.server import create_server

    from mapapp.articles import load_seeds, reresolve_pending
    from mapapp.db import opened
    from mapapp.gazetteer import open_gazetteer
    from mapapp.geoparse import get_geoparser
    from mapapp.maps.features import feature_collection_json
    from mapapp.maps.filters import MapFilters
    from mapapp.web import create_app

    open_gazetteer(data, build_if_missing=True, progress=True).close()
    app = create_app(data)
    with app.app_context(), opened(app.config["DATABASE"]) as conn:
        # A save that crashed between its commit and its re-resolution left the debt queued: pay it first.
        changed = reresolve_pending(conn, get_geoparser())
        if changed:
            click.echo(f"Finished an interrupted re-resolution: {changed} mention(s) updated.")
        if app.config.get("LOAD_SEEDS"):
            # The app's own shared parser: its name index is loaded once, for the seeds and the requests.
            loaded = load_seeds(conn, get_geoparser(), progress=True)
            if loaded:
                click.echo(f"Loaded {len(loaded)} seed articles.")
        # The overview's unfiltered view is computed now rather than while the first visitor waits.
        feature_collection_json(conn, MapFilters())
    server = create_server(app, host=host, port=port, threads=threads, ident="mapapp")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    click.echo(f"mapapp is serving {terminal_text(data)} - open http://{shown}:{server.effective_port}/ "
               "(Ctrl+C to stop)")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
