"""mapapp: read news articles, find the places they name, and map them."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from mapapp import bundled
from mapapp.db import database_path, default_data_dir

if TYPE_CHECKING:
    from flask import Flask

# Flask is imported by create_app, not here: every `mapapp` command imports this package first.

# The default tile layer of the app and of exported maps.
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


def _secret_key(data_dir: Path) -> str:
    # No built-in secret: each install makes its own once and keeps it beside its database.
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the Flask app: defaults, then instance config.py and MAPAPP_* env vars (or test_config)."""
    from flask import Flask

    data_dir = Path((test_config or {}).get("DATA_DIR") or default_data_dir()).resolve()
    app = Flask(
        __name__,
        instance_path=str(data_dir),
        instance_relative_config=True,
        static_folder=str(bundled.folder("static")),
    )
    app.config.from_mapping(
        DATA_DIR=str(data_dir),
        DATABASE=str(database_path(data_dir)),
        # Tile layer for the browser; "" shows only the offline country-outline basemap.
        TILES_URL=OSM_TILES,
        TILES_ATTRIBUTION=OSM_ATTRIBUTION,
        # Origins allowed to frame /embed/ pages (CSP frame-ancestors); "*" means any.
        EMBED_FRAME_ANCESTORS="*",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        LOAD_SEEDS=True,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("MAPAPP")
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(data_dir)

    from mapapp import db, errors
    from mapapp.web import admin, api, assets, auth, embed, headers, public

    db.init_app(app)
    errors.register_error_handlers(app)
    headers.init_app(app)
    auth.init_app(app)
    for blueprint in (assets.bp, public.bp, embed.bp, api.bp, auth.bp, admin.bp):
        app.register_blueprint(blueprint)
    return app
