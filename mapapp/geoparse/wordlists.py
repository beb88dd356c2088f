"""The two word lists the recogniser ships with, and how they are made from registry packages.

- `data/common_words.tsv`: English words that a dictionary writes in lower case (Webster's 2nd, from
  `english-words`), with their Zipf frequency (from `wordfreq`): how often "nice", "reading", "march" are
  ordinary words. Proper nouns ("london") are not in it, though wordfreq counts them as frequent.
- `data/first_names.txt`: US census first names (from `names`), for "Franklin Roosevelt" = a person;
- `data/surnames.txt`: the 5,000 commonest US census surnames (from `names`): "Walsh said" is a person.

Shipped as files so that a command starts fast; regenerate with `python -m mapapp.geoparse.wordlists`
(needs the `wordlists` extra). tests/test_geoparse_wordlists.py checks the shipped files match.
"""
from __future__ import annotations

import functools
import math
from importlib import resources
from pathlib import Path

DATA = Path(__file__).with_name("data")
COMMON_WORDS = DATA / "common_words.tsv"
FIRST_NAMES = DATA / "first_names.txt"
SURNAMES = DATA / "surnames.txt"
SURNAME_COUNT = 5000
MIN_FREQUENCY = 1e-6  # Zipf 3: rarer words never make a place name doubtful


@functools.lru_cache(maxsize=1)
def word_commonness() -> dict[str, float]:
    """Zipf frequency of each lower-case English word of the shipped list."""
    with open(COMMON_WORDS, encoding="utf-8") as handle:
        return {word: float(zipf) for word, zipf in (line.rstrip("\n").split("\t") for line in handle if line.strip())}


@functools.lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Lower-cased first names of the shipped list."""
    with open(FIRST_NAMES, encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


@functools.lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    """Lower-cased common surnames of the shipped list."""
    with open(SURNAMES, encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def make_common_words() -> dict[str, float]:
    """Compute the common-word list from wordfreq and english-words."""
    from english_words import get_english_words_set
    from wordfreq import get_frequency_dict

    lower = {word for word in get_english_words_set(["web2"], lower=False, alpha=True) if word.islower()}
    common = {}
    for word, frequency in get_frequency_dict("en").items():
        if frequency < MIN_FREQUENCY:
            continue
        plural = word.endswith("s") and not word.endswith(("ss", "is", "us")) and word[:-1] in lower
        if word in lower or plural:
            common[word] = round(math.log10(frequency) + 9, 2)
    return common


def make_first_names() -> set[str]:
    """Read the US census first-name lists shipped in the `names` package."""
    found: set[str] = set()
    for filename in ("dist.male.first", "dist.female.first"):
        data = resources.files("names").joinpath(filename).read_text(encoding="ascii", errors="ignore")
        found.update(line.split(None, 1)[0].lower() for line in data.splitlines() if line.strip())
    return found


def make_surnames() -> set[str]:
    """The commonest surnames of the US census list shipped in the `names` package."""
    data = resources.files("names").joinpath("dist.all.last").read_text(encoding="ascii", errors="ignore")
    return {line.split(None, 1)[0].lower() for line in data.splitlines()[:SURNAME_COUNT] if line.strip()}


def write_wordlists(folder: Path = DATA) -> None:
    """(Re)write both shipped lists into `folder`, sorted so a change is a readable diff."""
    folder.mkdir(parents=True, exist_ok=True)
    common = make_common_words()
    with open(folder / COMMON_WORDS.name, "w", encoding="utf-8", newline="\n") as handle:
        handle.writelines(f"{word}\t{common[word]}\n" for word in sorted(common))
    with open(folder / FIRST_NAMES.name, "w", encoding="utf-8", newline="\n") as handle:
        handle.writelines(f"{name}\n" for name in sorted(make_first_names()))
    with open(folder / SURNAMES.name, "w", encoding="utf-8", newline="\n") as handle:
        handle.writelines(f"{name}\n" for name in sorted(make_surnames()))


if __name__ == "__main__":  # pragma: no cover
    write_wordlists()
