"""The web layer: the app factory, one blueprint per concern (public pages, embeds, API, auth, admin) and assets."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from mapapp import bundled
from mapapp.config import default_data_dir, load


def create_app(data_dir: str | os.PathLike | None = None, config: Mapping | None = None) -> Flask:
    """The Flask app over the data folder `data_dir` (default: $MAPAPP_DATA, else instance/).

    Settings come from mapapp.config: its defaults, then DATA_DIR/config.py and MAPAPP_* env vars, or, when
    `config` is given (tests), that mapping instead of those two.
    """
    data = Path(data_dir or default_data_dir()).resolve()
    app = Flask("mapapp", instance_path=str(data), instance_relative_config=True,
                static_folder=str(bundled.folder("static")))
    load(app.config, data, config)

    from mapapp import db
    from mapapp.web import admin, api, assets, auth, embed, errors, headers, public

    proxies = int(app.config["TRUSTED_PROXIES"] or 0)
    if proxies:  # behind a reverse proxy: the client's real address feeds the login rate limit, and so on
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies)
    db.init_app(app)
    errors.register_error_handlers(app)
    headers.init_app(app)
    auth.init_app(app)
    for blueprint in (assets.bp, public.bp, embed.bp, api.bp, auth.bp, admin.bp):
        app.register_blueprint(blueprint)
    return app
