"""Hostile input never breaks the parser: property-based (hypothesis) and adversarial cases."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapapp.errors import InvalidInput
from mapapp.gazetteer.names import normalise_name, unicode_key

NAMES = ["Armenia", "Armenia’s", "YEREVAN", "Nagorno-Karabakh", "Lachin corridor", "New York", "U.S.",
         "Paris, Texas", "Azerbaijani", "São Paulo", "Mr Putin", "March", "East Africa", "Kentucky State Police"]
ODD = ["\u200b", "\u200d", "\ufeff", "\u202e", "\u202d", "\u0301", "\r\n", "\n\n", "\t", "'s", "’", "-", ".",
       ",", "  ", "\u00a0", "مرحبا", "שלום", "𝔄𝔯𝔪𝔢𝔫𝔦𝔞", "ǅ", "İstanbul", "ß", "\x00"]

unicode_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
pieces = st.lists(st.one_of(unicode_text, st.sampled_from(NAMES), st.sampled_from(ODD)), max_size=40)


def check(mentions, text):
    previous_end = 0
    for mention in mentions:
        assert 0 <= mention.start < mention.end <= len(text)
        assert text[mention.start:mention.end] == mention.text
        assert mention.start >= previous_end  # sorted and non-overlapping
        previous_end = mention.end
        assert mention.kind in ("place", "demonym")
        assert 0.0 <= mention.score <= 1.0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces)
def test_any_text_parses_with_exact_offsets(geoparser, parts):
    text = "".join(parts)
    check(geoparser.parse(text), text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127, blacklist_categories=("Cs",)), max_size=60))
def test_the_fast_ascii_key_equals_the_unicode_key(text):
    assert normalise_name(text) == unicode_key(text)


def test_non_text_input_is_refused_clearly(geoparser):
    with pytest.raises(InvalidInput):
        geoparser.parse(b"Armenia")


def test_empty_and_blank_text(geoparser):
    assert geoparser.parse("") == []
    assert geoparser.parse(" \n\t\u200b ") == []


def test_zero_width_and_rtl_characters_around_names(geoparser):
    text = "\u202eArmenia\u202c and \u200bYerevan\u200b and \ufeffBaku\u2066."
    mentions = geoparser.parse(text)
    check(mentions, text)
    assert [m.text for m in mentions] == ["Armenia", "Yerevan", "Baku"]


@pytest.mark.slow
def test_a_million_repetitions_of_one_name(geoparser):
    text = "Armenia " * 1_000_000
    mentions = geoparser.parse(text)
    assert len(mentions) == 1_000_000
    assert mentions[0].start == 0 and mentions[-1].end == len(text) - 1
    assert all(m.text == "Armenia" for m in mentions[::9973])
    assert {m.place.id for m in mentions[::50_000]} == {mentions[0].place.id}


@pytest.mark.slow
def test_fifty_megabytes(geoparser):
    paragraph = "the quick brown fox jumps over the lazy dog by the river. " * 300 + "Troops left Yerevan for Baku.\n"
    text = paragraph * (50_000_000 // len(paragraph) + 1)
    assert len(text) >= 50_000_000
    mentions = geoparser.parse(text)
    assert len(mentions) == 2 * text.count("Troops")
    check(mentions[:1000] + mentions[-1000:], text)


@pytest.mark.slow
def test_a_very_long_line(geoparser):
    text = "Baku and Moscow and the lazy dog, " * 50_000  # 1.7 MB, no newline
    mentions = geoparser.parse(text)
    assert len(mentions) == 100_000
    check(mentions, text)


def test_binary_looking_text(geoparser):
    text = bytes(range(256)).decode("latin-1") * 200 + " Armenia"
    mentions = geoparser.parse(text)
    check(mentions, text)
    assert mentions[-1].text == "Armenia"
