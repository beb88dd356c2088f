"""Geoparsing: find place mentions in text and resolve them against the gazetteer (owner: geoparse work).

Contract other modules rely on:
- `Geoparser(gazetteer)`; `Geoparser.parse(text) -> list[Mention]` ordered by start, non-overlapping,
  with `text[m.start:m.end] == m.text`.
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
