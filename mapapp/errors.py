"""The one exception hierarchy of mapapp. Framework-free: it imports nothing, so the library never loads Flask.

`status` is the HTTP code each error stands for; mapapp.web.errors turns errors into responses, and the
`mapapp` command turns them into a one-line message.
"""
from __future__ import annotations


class MapappError(Exception):
    """Base class of every error mapapp raises on purpose (raise a subclass); `status` is its HTTP code."""

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


class InvalidPlace(InvalidInput):
    """A place record with a bad field other than its shape or position: id, name, aliases, population."""


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
    """An id that names nothing stored, or a file a command was pointed at that is not there."""

    status = 404


class Conflict(MapappError):
    """A write that clashes with what is stored (stale version, duplicate id)."""

    status = 409


class GazetteerMissing(MapappError, RuntimeError):
    """The gazetteer database has not been built yet."""

    status = 503


class MissingDependency(MapappError, RuntimeError):
    """An optional feature asked for whose package (scikit-learn, spaCy and its model) is not installed."""

    status = 503


class IncompatibleDatabase(MapappError, RuntimeError):
    """A database whose schema a newer mapapp made: this one cannot read it safely."""

    status = 503


class BundledFileMissing(MapappError, FileNotFoundError):
    """A file the app ships (browser code, curated places, seed articles) is not where the install put it."""
