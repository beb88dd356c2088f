"""Name normalisation shared by the gazetteer (keys it stores) and the recogniser (keys it looks up).

The one normaliser: `normalise_name`. Plain ASCII text (most names, and every word the recogniser tries)
takes a fast path that gives the same key as the full Unicode path, `unicode_key`, without its work.
"""
from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_DASHES = re.compile(r"[\-\u2010-\u2015\u2212_/]+")
_DROP = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff.,]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# What _APOSTROPHES, _DROP and _DASHES do to ASCII characters, as one table.
_ASCII_MARKS = str.maketrans({"-": " ", "_": " ", "/": " ", ".": None, ",": None, "`": "'"})


def _drop_combining(match: re.Match) -> str:
    return "" if unicodedata.combining(match.group()) else match.group()


def normalise_name(name: str) -> str:
    """Lookup key for a place name: case-folded, no diacritics, hyphens and dots as spaces, one space."""
    if name.isascii():
        if name.isalnum():  # one plain word: nothing to translate or split
            return name.lower()
        return " ".join(name.translate(_ASCII_MARKS).split()).lower()
    return unicode_key(name)


def unicode_key(name: str) -> str:
    """normalise_name without its ASCII fast path (what the fast path must agree with)."""
    text = name.translate(_APOSTROPHES)
    if not text.isascii():
        # Whole article texts pass through here too: keep the per-character work to non-ASCII characters.
        text = _NON_ASCII.sub(_drop_combining, unicodedata.normalize("NFKD", text))
    text = _DASHES.sub(" ", _DROP.sub("", text))
    return " ".join(text.split()).casefold()
