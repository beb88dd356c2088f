"""A small sentence splitter: character bounds of the sentences of a text, for mention context."""
from __future__ import annotations

import bisect
import re

# A sentence ends at . ! ? or … (plus closing quotes/brackets) before whitespace and a capital, digit or quote.
_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[A-Z0-9\u00c0-\u024f\u0400-\u04ff])")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof gen col lt sgt capt st mt no nos vs etc jr sr inc ltd co corp dept est approx fig "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_LINE = re.compile(r"[^\n]+")
# The context kept on each side of a mention: text without full stops (or one huge line) is one "sentence",
# and every popup and list that quotes a mention would otherwise carry all of it.
CONTEXT = 300


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the full stop ending at `end` belongs to an abbreviation or an initial (U.S., J. Smith)."""
    start = end
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:end].rstrip(".")
    return len(word) == 1 or "." in word or word.lower() in _ABBREVIATIONS


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence, without surrounding whitespace; a line break always ends one."""
    bounds = []
    for line in _LINE.finditer(text):
        start = line.start()
        for match in _END.finditer(text, line.start(), line.end()):
            if (text[match.start()] == "." and match.end() - match.start() == 1
                    and _is_abbreviation(text, match.start())):
                continue
            bounds.append((start, match.end()))
            start = match.end()
        bounds.append((start, line.end()))
    trimmed = []
    for start, end in bounds:
        chunk = text[start:end]
        stripped = chunk.strip()
        if stripped:
            lead = len(chunk) - len(chunk.lstrip())
            trimmed.append((start + lead, start + lead + len(stripped)))
    return trimmed


class Sentences:
    """The sentence bounds of one text, with a lookup of the sentence around a span."""

    def __init__(self, text: str):
        self.text = text
        self.bounds = sentence_bounds(text)
        self._starts = [start for start, _ in self.bounds]

    def around(self, start: int, end: int) -> tuple[int, int]:
        """Bounds of the sentence holding `start`, widened to cover `end` (a name may span a split), cut at a
        word to at most CONTEXT characters on each side of the span."""
        index = bisect.bisect_right(self._starts, start) - 1
        if index < 0:
            return start, end
        first, last = self.bounds[index]
        while last < end and index + 1 < len(self.bounds):
            index += 1
            last = self.bounds[index][1]
        first, last = min(first, start), max(last, end)
        if start - first > CONTEXT:
            space = self.text.find(" ", start - CONTEXT, start)
            first = space + 1 if space >= 0 else start - CONTEXT
        if last - end > CONTEXT:
            space = self.text.rfind(" ", end, end + CONTEXT)
            last = space if space > end else end + CONTEXT
        return first, last
