"""The word lists shipped with the recogniser are exactly what their registry packages produce."""
from __future__ import annotations

from mapapp.geoparse import wordlists


def test_shipped_lists_match_a_fresh_build(tmp_path):
    wordlists.write_wordlists(tmp_path)
    for shipped in (wordlists.COMMON_WORDS, wordlists.FIRST_NAMES, wordlists.SURNAMES):
        assert (tmp_path / shipped.name).read_text(encoding="utf-8") == shipped.read_text(encoding="utf-8")


def test_common_words_are_lower_case_words_not_proper_nouns():
    common = wordlists.word_commonness()
    for word in ("nice", "reading", "march", "republic", "of"):
        assert common[word] >= 4.0
    for proper in ("london", "georgia", "edmonton", "toronto"):
        assert proper not in common


def test_names():
    assert {"michael", "franklin", "victoria"} <= wordlists.first_names()
    assert {"walsh", "smith"} <= wordlists.surnames()
