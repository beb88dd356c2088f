"""The one exception hierarchy of mapapp, and its single mapping to HTTP responses."""
from __future__ import annotations

from flask import Flask, jsonify, render_template
from werkzeug.exceptions import HTTPException


class MapappError(Exception):
    """Base class of every error mapapp raises on purpose; `status` is its HTTP code."""

    status = 500

    def __init__(self, message: str, *, field: str | None = None, detail: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.detail = detail or {}

    def to_dict(self) -> dict:
        """The JSON body of this error."""
        body = {"error": self.message, "status": self.status}
        if self.field:
            body["field"] = self.field
        body.update(self.detail)
        return body


class InvalidInput(MapappError, ValueError):
    """A request or file carries a value that is wrong in type, range or form."""

    status = 400


class InvalidCoordinates(InvalidInput):
    """A latitude or longitude that is not a finite number in range."""


class InvalidGeometry(InvalidInput):
    """A shape that is not valid GeoJSON or not a valid geometry."""


class InputTooLarge(InvalidInput):
    """An upload, field or document beyond the size mapapp accepts."""

    status = 413


class MalformedFile(InvalidInput):
    """A data file that cannot be parsed; names the file and, where known, the line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None, **kw):
        where = "".join([path or "", f":{line}" if line else ""])
        super().__init__(f"{where}: {message}" if where else message, **kw)
        self.path = path
        self.line = line


class NotFound(MapappError, LookupError):
    """An id that names nothing stored."""

    status = 404


class Conflict(MapappError):
    """A write that clashes with what is stored (stale version, duplicate id)."""

    status = 409


class GazetteerMissing(MapappError, RuntimeError):
    """The gazetteer database has not been built yet."""

    status = 503


class BundledFileMissing(MapappError, FileNotFoundError):
    """A file the app ships (browser code, curated places, seed articles) is not where the install put it."""


def register_error_handlers(app: Flask) -> None:
    """Map MapappError and HTTP errors to JSON (API, JSON clients) or an HTML page."""
    from mapapp.web.clients import wants_json

    @app.errorhandler(MapappError)
    def _mapapp_error(error: MapappError):
        if wants_json():
            return jsonify(error.to_dict()), error.status
        return render_template("error.html", status=error.status, message=error.message), error.status

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if not wants_json():
            return error
        response = jsonify({"error": error.description, "status": error.code})
        response.status_code = error.code or 500
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
