"""Name normalisation shared by the gazetteer (keys it stores) and the recogniser (keys it looks up)."""
from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_DASHES = re.compile(r"[\-\u2010-\u2015\u2212_/]+")
_DROP = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff.,]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _drop_combining(match: re.Match) -> str:
    return "" if unicodedata.combining(match.group()) else match.group()


def normalise_name(name: str) -> str:
    """Lookup key for a place name: case-folded, no diacritics, hyphens and dots as spaces, one space."""
    text = name.translate(_APOSTROPHES)
    if not text.isascii():
        # Whole article texts pass through here too: keep the per-character work to non-ASCII characters.
        text = _NON_ASCII.sub(_drop_combining, unicodedata.normalize("NFKD", text))
    text = _DASHES.sub(" ", _DROP.sub("", text))
    return " ".join(text.split()).casefold()
