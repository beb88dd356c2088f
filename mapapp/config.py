"""The app's settings in one place: their defaults, and how a data folder and the environment override them.

Order, later wins: DEFAULTS; then the data folder's config.py; then MAPAPP_* environment variables (values
parsed as JSON where they parse, so MAPAPP_TILES_URL='""' turns the tile layer off). A caller that passes
its own mapping (the tests) gets DEFAULTS and that mapping only. DATA_DIR is always the data folder the app
was made for, and DATABASE is the file in it unless DATABASE_URL names a PostgreSQL database; SECRET_KEY,
unless set, is made once per data folder and kept in it.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

# The environment variable naming the data folder, and the prefix of every other setting's variable.
DATA_ENV = "MAPAPP_DATA"
ENV_PREFIX = "MAPAPP"
CONFIG_FILE = "config.py"

# The default tile layer of the app and of exported maps.
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'

DEFAULTS: dict = {
    # Tile layer for the browser; "" shows only the offline country-outline basemap.
    "TILES_URL": OSM_TILES,
    "TILES_ATTRIBUTION": OSM_ATTRIBUTION,
    # Origins allowed to frame /embed/ pages (CSP frame-ancestors); "*" means any.
    "EMBED_FRAME_ANCESTORS": "*",
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # Load the seed articles into an empty database at `mapapp serve`.
    "LOAD_SEEDS": True,
    # Sessions and login (mapapp.web.auth): a session lasts 12 hours; the rate limit allows 10 failures a
    # minute per (client, username) pair and 20 per user in 15 minutes, then backs off from 1 s to 15 min.
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_MAX_AGE": 12 * 3600,
    "LOGIN_FAILURE_LIMIT": 10,
    "LOGIN_FAILURE_WINDOW": 60,
    "LOGIN_USER_FAILURES": 20,
    "LOGIN_USER_WINDOW": 900,
    "LOGIN_BACKOFF_START": 1,
    "LOGIN_BACKOFF_MAX": 900,
    # The CSRF token lives as long as the session (bounded by SESSION_MAX_AGE on the server).
    "WTF_CSRF_TIME_LIMIT": None,
    # The review queue lists mentions resolved with a score below this (mapapp.review): the geoparser counts
    # a reading as sure from 0.75 on (its own bar for article context).
    "REVIEW_SCORE_THRESHOLD": 0.75,
    # Reverse proxies in front of the app that it trusts for the client's address, scheme, host and prefix
    # (X-Forwarded-For/-Proto/-Host/-Prefix, werkzeug's ProxyFix); 0: none, the headers are ignored.
    "TRUSTED_PROXIES": 0,
    # Test-only: a FIFO at which an admin save pauses between its commit and its re-resolution.
    "TEST_PAUSE_FIFO": None,
}


def default_data_dir() -> Path:
    """The data folder: $MAPAPP_DATA, else instance/ in the checkout (or, for an installed wheel, here)."""
    from mapapp.bundled import checkout_root

    return Path(os.environ.get(DATA_ENV) or (checkout_root() or Path.cwd()) / "instance")


def secret_key(data_dir: Path) -> str:
    """This data folder's session-signing key, made on first use and kept in DATA_DIR/secret_key (mode 600)."""
    # No built-in secret: each install makes its own once and keeps it beside its database.
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def file_setting(data_dir: Path, name: str):
    """One setting of DATA_DIR/config.py (None when the file or the setting is absent), read as Flask reads it."""
    path = Path(data_dir) / CONFIG_FILE
    if not path.is_file():
        return None
    namespace: dict = {"__file__": str(path)}
    exec(compile(path.read_bytes(), str(path), "exec"), namespace)  # the operator's own file, as Flask does
    return namespace.get(name)


def load(config, data_dir: Path, overrides: Mapping | None = None) -> None:
    """Fill `config` (a flask.Config) for the app of `data_dir`, in the order the module docstring gives."""
    if overrides is not None and "DATA_DIR" in overrides:
        raise TypeError("pass the data folder as create_app(data_dir=...), not as DATA_DIR")
    from mapapp.db import database_path

    config.from_mapping(DEFAULTS, DATABASE=str(database_path(data_dir)))
    if overrides is None:
        config.from_pyfile(CONFIG_FILE, silent=True)
        config.from_prefixed_env(ENV_PREFIX)
    else:
        config.from_mapping(overrides)
    if config.get("DATABASE_URL"):  # a shared PostgreSQL server instead of the folder's SQLite file
        config["DATABASE"] = config["DATABASE_URL"]
    config["DATA_DIR"] = str(data_dir)  # the folder the app was made for, whatever a file or variable says
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = secret_key(data_dir)
