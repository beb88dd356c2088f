"""What the client asked for: the one test of whether a request wants JSON back rather than a page."""
from __future__ import annotations

from flask import request


def wants_json() -> bool:
    """True for JSON, fetch and XHR clients (who get JSON and status codes rather than pages and redirects),
    and for everything under /api/."""
    if request.path.startswith("/api/"):
        return True
    return (request.is_json or request.accept_mimetypes.best == "application/json"
            or request.headers.get("X-Requested-With") == "XMLHttpRequest")
