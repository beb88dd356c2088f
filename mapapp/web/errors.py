"""Errors as HTTP responses: each MapappError and HTTP error as JSON (API, JSON clients) or an HTML page."""
from __future__ import annotations

from flask import Flask, jsonify, render_template
from werkzeug.exceptions import HTTPException

from mapapp.errors import MapappError
from mapapp.web.clients import wants_json


def register_error_handlers(app: Flask) -> None:
    """Map MapappError (by its `status`) and HTTP errors to JSON (API, JSON clients) or an HTML page."""

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
