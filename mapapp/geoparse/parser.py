"""The Geoparser: recognition and resolution over one gazetteer (or a view of it with proposed edits)."""
from __future__ import annotations

import threading

from mapapp.errors import InvalidInput
from mapapp.geoparse import Mention
from mapapp.geoparse.recognize import NameIndex, Span, find_spans, previous_word
from mapapp.geoparse.resolve import LOCAL, MAYBE, NO, YES, ArticleContext, lookup, rank, verdict

_COMMA = (",", ", ", ",\u00a0")
_MAX_ALTERNATIVES = 5
_LOOKUP_CACHE = 50_000


class Geoparser:
    """Finds place mentions in text and resolves them against a gazetteer; safe to share between threads."""

    def __init__(self, gazetteer, *, ner: bool = False):
        self.gazetteer = gazetteer
        self.ner = ner
        self._lock = threading.Lock()
        self._index: NameIndex | None = None
        self._names: dict[str, object] = {}
        self._names_for = None

    # ------------------------------------------------------------------------------------------- caches
    def name_index(self, gazetteer=None) -> NameIndex:
        """The scan index of a gazetteer's keys, rebuilt only when its key set changed."""
        gazetteer = gazetteer or self.gazetteer
        keys = gazetteer.keys()
        with self._lock:
            index = self._index
            if index is not None and index.keys is keys:
                return index
            if index is not None and gazetteer is not self.gazetteer:
                return index.with_keys(keys)  # a view with proposed edits: derive, keep the base index
            self._index = index = NameIndex(keys)
            return index

    def _lookup(self, gazetteer, key: str):
        if gazetteer is not self.gazetteer:
            return lookup(gazetteer, key)
        stamp = (id(gazetteer.keys()), getattr(gazetteer, "version", None))
        if stamp != self._names_for or len(self._names) > _LOOKUP_CACHE:
            self._names, self._names_for = {}, stamp
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = lookup(gazetteer, key)
        return name

    # -------------------------------------------------------------------------------------------- parse
    def parse(self, text: str, *, gazetteer=None) -> list[Mention]:
        """Every place mention of `text`, by start offset, non-overlapping, each resolved or None."""
        if not isinstance(text, str):
            raise InvalidInput("text to geoparse must be a string", field="text")
        gazetteer = gazetteer or self.gazetteer
        def prefer_shorter(longer: str, shorter: str) -> bool:
            return self._lookup(gazetteer, shorter).best_prior >= self._lookup(gazetteer, longer).best_prior + 1

        spans = find_spans(text, self.name_index(gazetteer), prefer_shorter=prefer_shorter)
        if self.ner:
            from mapapp.geoparse.ner import add_entity_spans

            spans = add_entity_spans(text, spans, self.name_index(gazetteer))
        names = {span.key: self._lookup(gazetteer, span.key) for span in spans}
        accepted = self._accept(text, spans, names)
        return self._resolve(text, accepted, names)

    def _accept(self, text: str, spans: list[Span], names: dict) -> list[Span]:
        surnames = {span.key for span in spans if span.person_context}
        verdicts = []
        for number, span in enumerate(spans):
            following = spans[number + 1] if number + 1 < len(spans) else None
            followed_by_place = following is not None and text[span.end:following.start] in _COMMA \
                and bool(names[following.key].candidates)
            before = spans[number - 1] if number else None
            after_place = before is not None and before.end + 1 == span.start and text[before.end] == " " \
                and bool(names[before.key].candidates)
            if text[span.end:span.end + 1] == "$":
                verdicts.append(NO)  # US$, NZ$: a currency
                continue
            verdicts.append(verdict(span, text[span.start:span.end], names[span.key],
                                    previous_word(text, span.start), followed_by_place, after_place, surnames))
        sure = {span.key for span, said in zip(spans, verdicts) if said == YES}
        countries = {place.country_code for key in sure for place, _ in names[key].candidates[:1]}
        countries |= {place.country_code for key in sure for place in names[key].demonym_of[:1]}
        return [span for span, said in zip(spans, verdicts)
                if said == YES or (said in (MAYBE, LOCAL) and span.key in sure)
                or (said == LOCAL and any(p.country_code in countries for p, _ in names[span.key].candidates[:3]))]

    def _resolve(self, text: str, spans: list[Span], names: dict) -> list[Mention]:
        by_key: dict[str, list[Span]] = {}
        for span in spans:
            by_key.setdefault(span.key, []).append(span)
        hints = _containment_hints(text, spans, names)
        context = ArticleContext()
        for key, key_spans in by_key.items():
            name = names[key]
            if name.is_demonym:
                context.add(key, name.demonym_of[0], 0.5)
                continue
            ranked = rank(name, key_spans, None, hints)
            if ranked and ranked[0][1] >= 0.75:
                place = ranked[0][0]
                context.add(key, place, 1.0 + 0.25 * min(len(key_spans) - 1, 4))
        resolved: dict[str, tuple] = {}
        for key, key_spans in by_key.items():
            name = names[key]
            if name.is_demonym:
                resolved[key] = ("demonym", name.demonym_of[0], 1.0 / len(name.demonym_of),
                                 [(p.id, round(1.0 / len(name.demonym_of), 3)) for p in name.demonym_of[1:]])
                continue
            ranked = rank(name, key_spans, context, hints)
            place, confidence = ranked[0] if ranked else (None, 0.0)
            alternatives = [(p.id, round(c, 3)) for p, c in ranked[1:_MAX_ALTERNATIVES + 1]]
            resolved[key] = ("place", place, confidence, alternatives)
        mentions = []
        for span in spans:
            kind, place, confidence, alternatives = resolved[span.key]
            mentions.append(Mention(span.start, span.end, text[span.start:span.end], kind, place,
                                    round(confidence, 3), list(alternatives)))
        return mentions


def _containment_hints(text: str, spans: list[Span], names: dict) -> dict[str, float]:
    """"Paris, Texas": a name followed by a comma and a larger place favours candidates inside that place."""
    hints: dict[str, float] = {}
    for span, following in zip(spans, spans[1:]):
        if text[span.end:following.start] not in _COMMA:
            continue
        outer = [place for place, _ in names[following.key].candidates[:5]] + names[following.key].demonym_of[:0]
        for place, _ in names[span.key].candidates:
            for container in outer:
                if container.id == place.id:
                    continue
                if container.feature == "country" and place.country_code == container.country_code or \
                        container.feature in ("admin1", "state", "province") and \
                        (place.country_code, place.admin1) == (container.country_code, container.admin1):
                    hints[place.id] = max(hints.get(place.id, 0.0), 3.0)
    return hints
