"""Geoparsing: find place mentions in text and resolve them against the gazetteer.

What other modules rely on:
- `Geoparser(gazetteer)`; `Geoparser.parse(text, *, gazetteer=None) -> list[Mention]` ordered by start,
  non-overlapping, with `text[m.start:m.end] == m.text`; `gazetteer` may be a view with proposed edits.
- `get_geoparser()` -> the Flask app's shared Geoparser over `get_gazetteer()`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from mapapp.gazetteer.place import Place


@dataclass
class Mention:
    """One place name found in a text, and the place it was resolved to (None if unresolved)."""

    start: int
    end: int
    text: str
    kind: str  # "place" or "demonym"
    place: Place | None = None
    score: float = 0.0
    alternatives: list[tuple[str, float]] = field(default_factory=list)


def get_geoparser():
    """The Flask app's shared Geoparser (cached in app.extensions; follows gazetteer edits by other processes)."""
    from flask import current_app

    from mapapp.gazetteer import get_gazetteer

    gazetteer = get_gazetteer()  # refreshes itself when another process changed it
    parser = current_app.extensions.get("mapapp.geoparser")
    if parser is None or parser.gazetteer is not gazetteer:
        parser = current_app.extensions["mapapp.geoparser"] = Geoparser(gazetteer)
    return parser


from mapapp.geoparse.parser import Geoparser  # noqa: E402  (needs Mention above)

__all__ = ["Geoparser", "Mention", "get_geoparser"]
