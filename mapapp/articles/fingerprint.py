"""Text fingerprints: a 64-bit simhash of an article's normalised words, to spot the same story twice."""
from __future__ import annotations

import hashlib
import re

from mapapp.gazetteer.names import normalise_name

BITS = 64
# Two texts whose fingerprints differ in at most this many bits are one story: a syndicated copy with a changed
# headline, or one changed word in a 200-word article, differs in 2-5 bits; different articles in about half of
# them (the chance that two unrelated texts come within 6 bits is about 1 in 10^11).
NEAR_BITS = 6
_WORD = re.compile(r"\w+")
_SHINGLE = 3  # words per feature: word order matters, single words alone would match unrelated articles


def words(text: str) -> list[str]:
    """The text's words, case, accents and punctuation aside (as the gazetteer normalises names)."""
    return _WORD.findall(normalise_name(text))


def fingerprint(text: str) -> int:
    """The simhash of `text`'s 3-word shingles, as a signed 64-bit integer (what SQLite stores)."""
    tokens = words(text)
    shingles = [" ".join(tokens[i:i + _SHINGLE]) for i in range(max(1, len(tokens) - _SHINGLE + 1))]
    # Each bit's vote is (shingles with it set) - (shingles without): the set ones are counted a column at a
    # time over the hashes written in binary (C loops, not 64 Python steps per shingle).
    hashes = [format(int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest(), "big"),
                     "064b") for shingle in shingles]
    columns = ["".join(column) for column in zip(*hashes)]  # columns[0] is the highest bit
    unsigned = sum(1 << (BITS - 1 - position) for position, column in enumerate(columns)
                   if 2 * column.count("1") > len(hashes))
    return unsigned - (1 << BITS) if unsigned >= 1 << (BITS - 1) else unsigned


def distance(a: int, b: int) -> int:
    """How many of the 64 bits differ between two fingerprints."""
    return ((a ^ b) & ((1 << BITS) - 1)).bit_count()
