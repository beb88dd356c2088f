"""Recognition: which spans of a text are place mentions, with exact offsets, against the real gazetteer."""
from __future__ import annotations

import pytest

from mapapp.geoparse.recognize import NameIndex, find_spans


def spans(geoparser, text):
    """(text, kind) of every mention, checking the offsets on the way."""
    mentions = geoparser.parse(text)
    for mention in mentions:
        assert text[mention.start:mention.end] == mention.text
    return [(m.text, m.kind) for m in mentions]


def places(geoparser, text):
    return [m.text for m in geoparser.parse(text) if m.kind == "place"]


def test_multi_word_names_are_one_mention(geoparser):
    text = "She flew from New York to Buenos Aires, then on to the United Kingdom."
    assert places(geoparser, text) == ["New York", "Buenos Aires", "United Kingdom"]


@pytest.mark.parametrize("written", ["Nagorno-Karabakh", "Nagorno Karabakh", "Nagorno‑Karabakh"])
def test_hyphen_and_space_variants_find_the_same_place(geoparser, written):
    [mention] = geoparser.parse(f"Talks on {written} resumed.")
    assert mention.text == written
    assert mention.place.id == "cur:nagorno-karabakh"


@pytest.mark.parametrize("apostrophe", ["'", "\u2019"])
def test_possessive_is_left_out_of_the_mention(geoparser, apostrophe):
    text = f"Armenia{apostrophe}s prime minister spoke about Azerbaijan{apostrophe}s army."
    mentions = geoparser.parse(text)
    second = text.index("Azerbaijan")
    assert [(m.text, m.start, m.end) for m in mentions] == [("Armenia", 0, 7), ("Azerbaijan", second, second + 10)]
    assert [m.place.country_code for m in mentions] == ["AM", "AZ"]


def test_all_caps_datelines(geoparser):
    text = "YEREVAN, MARCH 26, ARMENPRESS. The talks went on.\nMOSCOW, November 12. /TASS/. Russia agreed."
    mentions = geoparser.parse(text)
    assert [m.text for m in mentions] == ["YEREVAN", "MOSCOW", "Russia"]
    assert mentions[0].place.name == "Yerevan" and mentions[0].place.country_code == "AM"
    assert mentions[1].place.name == "Moscow" and mentions[1].place.country_code == "RU"


def test_diacritics_and_case_variants(geoparser):
    mentions = geoparser.parse("From São Paulo and Sao Paulo to ZÜRICH and Zurich.")
    assert [m.text for m in mentions] == ["São Paulo", "Sao Paulo", "ZÜRICH", "Zurich"]
    assert mentions[0].place.id == mentions[1].place.id
    assert mentions[2].place.id == mentions[3].place.id


def test_longest_match_first(geoparser):
    text = "The Lachin corridor runs through the Lachin District past the town of Lachin in Azerbaijan."
    mentions = geoparser.parse(text)
    assert [m.text for m in mentions] == ["Lachin corridor", "Lachin District", "Lachin", "Azerbaijan"]
    assert [m.place.id for m in mentions[:2]] == ["cur:lachin-corridor", "cur:lachin-district"]
    assert mentions[2].place.feature == "city" and mentions[2].place.country_code == "AZ"


def test_demonyms_are_linked_to_their_country(geoparser):
    mentions = geoparser.parse("Azerbaijani forces and Russian peacekeepers met Armenian officials.")
    assert [(m.text, m.kind, m.place.country_code, m.place.feature) for m in mentions] == [
        ("Azerbaijani", "demonym", "AZ", "country"),
        ("Russian", "demonym", "RU", "country"),
        ("Armenian", "demonym", "AM", "country"),
    ]


@pytest.mark.parametrize("text", [
    "President Putin spoke with Senator Warren.",
    "Michael Jordan and Chad Smith played well.",
    "Mr Lincoln met Dr. Washington on Monday.",
])
def test_person_name_context_is_not_a_place(geoparser, text):
    assert places(geoparser, text) == []


def test_a_surname_stays_a_person_throughout_the_article(geoparser):
    text = "Arch Walsh of Mississauga waits for a liver. Walsh said he was tired. Walsh hopes."
    assert places(geoparser, text) == ["Mississauga"]


@pytest.mark.parametrize("text", [
    "In March and May the council met again.",
    "The Department Of Health said the Republic would act.",
    "Reading the report, she smiled.",
    "Nice work, everyone.",
    "Reading is fun on Sunday.",
    "Franklin Roosevelt was elected in November.",
])
def test_ordinary_words_and_calendar_names_are_not_places(geoparser, text):
    assert places(geoparser, text) == []


def test_diseases_named_after_places_are_not_places(geoparser):
    text = "Cases of West Nile virus and Lassa fever rose in Nigeria."
    assert places(geoparser, text) == ["Nigeria"]


def test_a_sentence_initial_article_with_ordinary_words_is_not_a_name(geoparser):
    assert places(geoparser, "The city said the village was flooded.") == []


def test_a_common_word_is_a_place_when_the_text_says_so(geoparser):
    mentions = geoparser.parse("The film festival in Nice, France drew crowds.")
    assert [(m.text, m.place.country_code) for m in mentions] == [("Nice", "FR"), ("France", "FR")]


def test_acronyms_and_currency_are_not_places(geoparser):
    text = "The MOD and TASS said the fine was US$400 and the UN was told."
    assert places(geoparser, text) == []


def test_abbreviations_keep_their_dot(geoparser):
    mentions = geoparser.parse("Troops from the U.S. arrived in the UK.")
    assert [(m.text, m.place.country_code) for m in mentions] == [("U.S.", "US"), ("UK", "GB")]


def test_mentions_are_sorted_and_do_not_overlap(geoparser):
    text = "Baku, Moscow and Yerevan; Armenia's Syunik Province; East Africa and West Virginia."
    mentions = geoparser.parse(text)
    assert len(mentions) >= 6
    for before, after in zip(mentions, mentions[1:]):
        assert before.end <= after.start


def test_name_index_scans_only_known_first_tokens():
    index = NameIndex(frozenset({"new york", "york", "lachin corridor", "lachin", "cote d'ivoire"}))
    assert index.longest == {"new": 2, "york": 1, "lachin": 2, "cote": 3}
    text = "From New York via Côte d’Ivoire to the Lachin corridor."
    found = [(text[s.start:s.end], s.key) for s in find_spans(text, index)]
    assert found == [("New York", "new york"), ("Côte d’Ivoire", "cote d'ivoire"),
                     ("Lachin corridor", "lachin corridor")]


def test_an_index_for_a_view_adds_new_names_without_rebuilding():
    base = NameIndex(frozenset({"paris"}))
    view = base.with_keys(frozenset({"paris", "new town of parukh"}))
    assert view.longest == {"paris": 1, "new": 4}
    assert base.longest == {"paris": 1}


def test_names_inside_run_together_hashtags_but_not_inside_handles(geoparser):
    text = "Stop the violence #GazaUnderAttack #PrayForBrazil, says @BBCAfrica"
    mentions = geoparser.parse(text)
    assert [(m.text, m.start) for m in mentions] == [("Gaza", text.index("Gaza")), ("Brazil", text.index("Brazil"))]
    assert mentions[1].place.country_code == "BR"


@pytest.mark.parametrize("text, name", [("They flew to Mexico City on Monday.", "Mexico City"),
                                        ("Kansas City police said on Monday.", "Kansas City"),
                                        ("Kentucky State Police said on Monday.", "Kentucky")])
def test_a_city_named_with_an_ordinary_last_word_keeps_it(geoparser, text, name):
    [mention] = geoparser.parse(text)
    assert mention.text == name
    assert mention.place.feature == ("city" if "City" in name else "admin1")
