"""The Geoparser: recognition and resolution over one gazetteer (or a view of it with proposed edits)."""
from __future__ import annotations

import itertools
import threading

from mapapp.cache import LRU, lru
from mapapp.errors import InvalidInput
from mapapp.gazetteer.names import normalise_name
from mapapp.geoparse import Mention
from mapapp.geoparse.model import Model, shipped_model
from mapapp.geoparse.recognize import (
    NameIndex,
    Span,
    find_spans,
    titled_names,
)
from mapapp.geoparse.resolve import (
    IMPORTANT,
    NO,
    YES,
    ArticleContext,
    lookup,
    rank,
    span_features,
    verdict,
)
from mapapp.geoparse.wordlists import first_names, surnames

_COMMA = (",", ", ", ",\u00a0")
#: The home region's place in the article's geography: a key no name has, weighing as much as a name read
#: twice (a fixed prior, not fitted: the corpora carry no home regions).
NEAR_KEY, NEAR_WEIGHT = "\x00near", 1.25
_MAX_ALTERNATIVES = 5


class Geoparser:
    """Finds place mentions in text and resolves them against a gazetteer; safe to share between threads."""

    def __init__(self, gazetteer, *, ner: bool = False, model: Model | None = None):
        self.gazetteer = gazetteer
        self.ner = ner
        self.model = model or shipped_model()
        self._lock = threading.Lock()
        self._index: NameIndex | None = None
        self._view_index: NameIndex | None = None
        self._index_for = None
        self._names: tuple[object, LRU] = (None, lru("resolved names"))  # (gazetteer stamp, cache)

    # ------------------------------------------------------------------------------------------- caches
    def name_index(self, gazetteer=None) -> NameIndex:
        """The scan index of a gazetteer's keys, rebuilt only when its key set changed."""
        gazetteer = gazetteer or self.gazetteer
        with self._lock:
            index = self._base_index()
            if gazetteer is self.gazetteer:
                return index
        keys = gazetteer.keys()
        with self._lock:
            # A view with proposed edits: derive from the base index (and keep it for the next text).
            view = self._view_index
            if view is None or view.keys is not keys:
                view = self._view_index = index.with_keys(keys)
            return view

    def _base_index(self) -> NameIndex:
        # Call with the lock held. The index file (written at `mapapp gazetteer build`, or here after an edit
        # changed the gazetteer's version) opens in milliseconds; building from SQLite takes seconds.
        gazetteer = self.gazetteer
        generation = getattr(gazetteer, "generation", None)
        index = self._index
        if index is not None and generation is not None and self._index_for == generation:
            return index
        if generation is None:  # a gazetteer without versions (a view as the base): follow its key set
            keys = gazetteer.keys()
            if index is None or index.keys is not keys:
                self._index = index = NameIndex(keys)
            return index
        from mapapp.geoparse import index_file

        stamp = gazetteer.index_stamp()
        opened = index_file.open_index(gazetteer.path, stamp)
        if opened is not None:
            index = NameIndex(*opened)
        else:
            index = index_file.refresh_index(gazetteer)
        self._index, self._index_for = index, generation
        return index

    def _lookup(self, gazetteer, key: str):
        if gazetteer is not self.gazetteer:
            return lookup(gazetteer, key, self.model)
        names = self._names_of(gazetteer)
        name = names.get(key)
        if name is None:
            name = names[key] = lookup(gazetteer, key, self.model)
        return name

    def _names_of(self, gazetteer) -> LRU:
        # The resolved names of this gazetteer's current version (a new cache when it changed).
        generation = getattr(gazetteer, "generation", None)
        stamp = (id(gazetteer.keys()) if generation is None else generation, getattr(gazetteer, "version", None))
        names_for, names = self._names
        if stamp != names_for:
            names = lru("resolved names")
            self._names = (stamp, names)
        return names

    # -------------------------------------------------------------------------------------------- parse
    def parse(self, text: str, *, gazetteer=None, trace: Trace | None = None, near=None) -> list[Mention]:
        """Every place mention of `text`, by start offset, non-overlapping, each resolved or None.

        `trace`, when given, receives the features of every span and candidate considered (`mapapp train`).
        `near`, a Place, is the text's home region (local news: "Lamar County, Texas"): the ranker reads every
        name as if the article had also named it, twice and surely, so local namesakes win.
        """
        if not isinstance(text, str):
            raise InvalidInput("text to geoparse must be a string", field="text")
        gazetteer = gazetteer or self.gazetteer

        def prefer_shorter(longer: str, shorter: str) -> bool:
            # A city whose own name ends in an ordinary word ("Kansas City", "Mexico City") keeps the word.
            whole = self._lookup(gazetteer, longer)
            if whole.named_prior and whole.named_prior >= whole.best_prior and whole.candidates[0][0].feature == "city":
                return False
            return self._lookup(gazetteer, shorter).best_prior >= whole.best_prior + 1

        spans = find_spans(text, self.name_index(gazetteer), prefer_shorter=prefer_shorter)
        if self.ner:
            from mapapp.geoparse.ner import add_entity_spans

            spans = add_entity_spans(text, spans, self.name_index(gazetteer))
        keys = {span.key for span in spans}
        if gazetteer is self.gazetteer and hasattr(gazetteer, "prefetch"):
            # One batch of queries for the names this process has not read yet, not one query per name.
            resolved = self._names_of(gazetteer)
            gazetteer.prefetch([key for key in keys if key not in resolved])
        names = {key: self._lookup(gazetteer, key) for key in keys}
        accepted = self._accept(text, spans, names, trace)
        return self._resolve(text, accepted, names, trace, near)

    def _accept(self, text: str, spans: list[Span], names: dict, trace=None) -> list[Span]:
        # A name seen as a person's ("Arch Walsh") is a person's throughout, unless it is a major place.
        persons = {span.key for span in spans if span.person_context and names[span.key].best_prior < IMPORTANT}
        # Names written after a title anywhere ("President Vladimir Putin") are people's, and so is a place
        # name right before one of them ("Russia Vladimir Putin": Vladimir).
        people = titled_names(text)
        if people:
            for span in spans:
                following = _next_token(text, span.end)
                if (span.key in people or (following and normalise_name(following) in people)) and \
                        span.tokens == 1 and not names[span.key].is_demonym \
                        and names[span.key].best_prior < IMPORTANT + 3:
                    persons.add(span.key)
        verdicts, flags = [], []
        memo: dict[tuple, str] = {}
        for number, span in enumerate(spans):
            following = spans[number + 1] if number + 1 < len(spans) else None
            followed_by_place = following is not None and text[span.end:following.start] in _COMMA \
                and bool(names[following.key].candidates)
            before = spans[number - 1] if number else None
            after_place = before is not None and before.end + 1 == span.start and text[before.end] == " " \
                and bool(names[before.key].candidates)
            after_comma_place = before is not None and text[before.end:span.start] in _COMMA \
                and bool(names[before.key].candidates)
            flags.append((followed_by_place, after_place, after_comma_place))
            if text[span.end:span.end + 1] == "$":
                verdicts.append(NO)  # US$, NZ$: a currency
                continue
            surface = text[span.start:span.end]
            # Every field of the span but its offsets, and the neighbours: equal contexts, equal verdicts.
            context = (surface, span.key, span.tokens, span.sentence_initial, span.all_caps, span.title_case_line,
                       span.person_context, span.capitalised_neighbour, span.admin_word, span.speaker,
                       span.previous, span.next_word, followed_by_place, after_place, span.key in persons,
                       after_comma_place)
            said = memo.get(context)
            if said is None:
                if len(memo) > 100_000:
                    memo.clear()
                said = memo[context] = verdict(span, surface, names[span.key], span.previous, followed_by_place,
                                               after_place, persons, after_comma_place=after_comma_place)
            verdicts.append(said)
        sure: dict[str, int] = {}
        counts: dict[str, int] = {}
        for span, said in zip(spans, verdicts):
            counts[span.key] = counts.get(span.key, 0) + 1
            if said == YES:
                sure[span.key] = sure.get(span.key, 0) + 1
        # The countries of the surest names, each with the names that vote for it (a name never votes for itself).
        voters: dict[str, set] = {}
        for key in sure:
            name = names[key]
            for place in ([name.candidates[0][0]] if name.candidates else name.demonym_of[:1]):
                voters.setdefault(place.country_code, set()).add(key)
        model = self.model
        first, surname_list = first_names(), surnames()
        accepted = []
        for number, span in enumerate(spans):
            said = verdicts[number]
            key = span.key
            name = names[key]
            agrees = any(voters.get(place.country_code, set()) - {key} for place, _ in name.candidates[:3])
            features = span_features(
                text, span, text[span.start:span.end], name, said, followed_by_place=flags[number][0],
                after_place=flags[number][1], after_comma_place=flags[number][2], titled=key in persons,
                sure_elsewhere=sure.get(key, 0) > (said == YES), country_agrees=agrees, mentions=counts[key],
                first=first, surname_list=surname_list)
            if name.is_demonym:
                # Adjectives of countries ("Turkish") are kept as demonyms whenever the rules allow; whether
                # they count as toponyms is a corpus convention that `evaluate` applies, not a guess here.
                if said == YES:
                    accepted.append(span)
                continue
            if trace is not None:
                trace.spans.append((span.start, span.end, features))
            # --ner: spaCy's location label is accepted as is (the span model is fitted without --ner, so it has
            # no weight of its own for that label).
            if span.entity or model.span_probability(features) >= model.threshold:
                accepted.append(span)
        return accepted

    @staticmethod
    def _context(by_key: dict, names: dict, ranked: dict, *, sure: float, near=None) -> ArticleContext:
        """The article's geography from the names read with at least `sure` confidence (and its demonyms)."""
        context = ArticleContext()
        if near is not None:
            context.add(NEAR_KEY, near, NEAR_WEIGHT)
        for key, key_spans in by_key.items():
            name = names[key]
            if name.is_demonym:
                context.add(key, name.demonym_of[0], 0.5)
            elif ranked[key] and ranked[key][0][1] >= sure:
                context.add(key, ranked[key][0][0], 1.0 + 0.25 * min(len(key_spans) - 1, 4))
        return context

    def _resolve(self, text: str, spans: list[Span], names: dict, trace=None, near=None) -> list[Mention]:
        by_key: dict[str, list[Span]] = {}
        for span in spans:
            by_key.setdefault(span.key, []).append(span)
        hints = _containment_hints(text, spans, names)
        # First read each name alone and keep only the sure ones as the article's geography; then read every
        # name against that geography, and once more against the geography those readings give.
        model = self.model
        focus = self._context({}, names, {}, sure=1.0, near=near) if near is not None else None
        ranked = {key: rank(names[key], key_spans, focus, hints, model) for key, key_spans in by_key.items()
                  if not names[key].is_demonym}
        context = self._context(by_key, names, ranked, sure=model.sure, near=near)
        ranked = {key: rank(names[key], by_key[key], context, hints, model) for key in ranked}
        context = self._context(by_key, names, ranked, sure=model.likely, near=near)
        records = trace.candidates if trace is not None else None
        final = {}
        for key in ranked:
            record = [] if records is not None else None
            final[key] = rank(names[key], by_key[key], context, hints, model, record)
            if record is not None:
                records.append(([(span.start, span.end) for span in by_key[key]], record))
        ranked = final
        resolved: dict[str, tuple] = {}
        for key in by_key:
            name = names[key]
            if name.is_demonym:
                share = round(1.0 / len(name.demonym_of), 3)
                resolved[key] = ("demonym", name.demonym_of[0], share, [(p.id, share) for p in name.demonym_of[1:]])
                continue
            place, confidence = ranked[key][0] if ranked[key] else (None, 0.0)
            alternatives = [(p.id, round(c, 3)) for p, c in ranked[key][1:_MAX_ALTERNATIVES + 1]]
            resolved[key] = ("place", place, round(confidence, 3), alternatives)
        return [Mention(span.start, span.end, text[span.start:span.end], kind, place, confidence, list(alternatives))
                for span in spans for kind, place, confidence, alternatives in (resolved[span.key],)]


class Trace:
    """What one parse considered, for fitting: every span with its features, and every resolved name's
    candidates with theirs."""

    def __init__(self):
        #: (start, end, span features) of every span that is not a demonym
        self.spans: list[tuple[int, int, list]] = []
        #: ([(start, end) of the name's spans], [(place, candidate features)])
        self.candidates: list[tuple[list, list]] = []


def _next_token(text: str, end: int) -> str:
    """The word after `end` when one space separates them."""
    if text[end:end + 1] != " ":
        return ""
    stop = end + 1
    while stop < len(text) and stop - end < 40 and text[stop].isalnum():
        stop += 1
    return text[end + 1:stop]


def _containment_hints(text: str, spans: list[Span], names: dict) -> dict[str, float]:
    """"Paris, Texas": a name followed by a comma and a larger place favours candidates inside that place."""
    hints: dict[str, float] = {}
    for span, following in itertools.pairwise(spans):
        if text[span.end:following.start] not in _COMMA:
            continue
        outer = [place for place, _ in names[following.key].candidates[:5]]
        for place, _ in names[span.key].candidates:
            for container in outer:
                if container.id == place.id:
                    continue
                if container.feature == "country" and place.country_code == container.country_code or \
                        container.feature in ("admin1", "state", "province") and \
                        (place.country_code, place.admin1) == (container.country_code, container.admin1):
                    hints[place.id] = max(hints.get(place.id, 0.0), 3.0)
    return hints
