"""mapapp: read news articles, find the places they name, and map them.

Importing the package loads no web code: `mapapp.create_app` is mapapp.web.create_app, imported on first use
(so `flask --app mapapp` and `from mapapp import create_app` work, and the geoparser stays Flask-free).
"""
from __future__ import annotations


def __getattr__(name: str):
    """`create_app`, from mapapp.web, on first use."""
    if name == "create_app":
        from mapapp.web import create_app

        return create_app
    raise AttributeError(f"module 'mapapp' has no attribute {name!r}")
