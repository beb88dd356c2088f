"""Name normalisation shared by the gazetteer (keys it stores) and the recogniser (keys it looks up)."""
from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_DASHES = re.compile(r"[\-\u2010-\u2015\u2212_/]+")
_DROP = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff.,]")
_SPACES = re.compile(r"\s+")


def normalise_name(name: str) -> str:
    """Lookup key for a place name: case-folded, no diacritics, hyphens and dots as spaces, one space."""
    text = unicodedata.normalize("NFKD", name.translate(_APOSTROPHES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _DROP.sub("", text)
    text = _DASHES.sub(" ", text)
    return _SPACES.sub(" ", text).strip().casefold()
