"""Resolution: decide which spans are places and which place each one means, with the evidence a reader uses.

Evidence, in order of weight: how the name is written and what surrounds it (recognize.Span), how common
the word is in English against how important the best place of that name is, the feature class and
population of each candidate, the other places of the same article (its countries and regions, containment
in a region it names, distance to the places it is most sure of), and a name's sense staying the same
throughout one article.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from geopy.distance import EARTH_RADIUS

from mapapp.cache import memoize
from mapapp.coords import geojson_bounds
from mapapp.gazetteer.place import Place
from mapapp.geoparse.model import (
    CANDIDATE_FEATURES,
    Model,
    base_candidate_features,
    feature_class,
)
from mapapp.geoparse.recognize import ADMIN_WORDS, CALENDAR_WORDS, Span
from mapapp.geoparse.wordlists import surnames, word_commonness

#: Feature classes as a news reader ranks them (log10-population units added to a candidate's score).
#: Not the geocoder's ranking (gazetteer.store.importance, with its SEAT_BONUS by feature code): the two
#: answer different questions and are tuned apart, so each keeps its own table.
FEATURE_PRIOR = {
    "continent": 6.0, "ocean": 5.5, "country": 6.0, "sea": 4.5, "admin1": 2.5, "province": 3.0, "state": 3.0,
    "region": 3.5, "corridor": 3.0, "district": 2.0, "admin2": 0.8, "city": 0.0, "village": 1.0,
    # Physical features carry no population: their bonus stands for how often news names them.
    "gulf": 4.0, "strait": 4.0, "desert": 4.0, "peninsula": 4.0, "island": 3.5, "mountains": 3.5,
    "mountain": 3.0, "river": 3.0, "lake": 3.0,
}
#: Features that are divisions (what "County", "District"... after a name asks for).
DIVISIONS = {"admin1", "admin2", "province", "state", "region", "district"}
FIRST_LEVEL = {"admin1", "province", "state"}
LARGE_AREAS = {"continent", "ocean", "country", "sea", "admin1", "province", "state", "region", "gulf", "desert",
               "peninsula", "mountains"}
#: Words after a place name that make it part of another name (diseases are named after places).
NAMED_AFTER = frozenset("virus ebolavirus fever flu influenza disease syndrome".split())
#: Prepositions that introduce a location ("in Nice", "near Parukh").
LOCATIVES = frozenset("in at near from to into across outside inside around toward towards via through "
                      "between throughout within".split())

COMMON_WORD = 4.3      # zipf frequency from which a word is ordinary English ("nice", "reading")
RARE_WORD = 3.0        # below this a word is no ordinary English ("edmonton", "parukh")
IMPORTANT = 9.0        # score of a place known to everyone (countries; cities of millions)


def _prior(place: Place, key: str, kind: str) -> float:
    """What a reader assumes before context: big and important places first, the place's own name first."""
    score = math.log10(max(place.population, 0) + 10) + FEATURE_PRIOR.get(place.feature, 1.0)
    if place.feature_code == "PPLC":
        score += 3.0  # news names capitals for their governments: "Washington", "Ottawa"
    if kind == "name":
        score += 1.0
    elif kind == "abbreviation":
        score += 0.5
    if place.source in ("curated", "admin"):
        score += 1.0
    return score


class ArticleContext:
    """What one article says about where it is: its countries, divisions, regions and surest places.

    Each name contributes once; `bonus` leaves out the name being ranked, so a name never votes for itself.
    """

    def __init__(self):
        self.countries: dict[str, float] = {}
        self.admin1: dict[tuple[str, str], float] = {}
        self.own: dict[str, tuple[Place, float]] = {}
        self.divisions: dict[str, float] = {}  # weight of first-level divisions named, by country
        self.regions: list[tuple[str, tuple]] = []  # (key, (place id, place, bounds))
        self.anchors: list[tuple[str, Place]] = []
        self.total = 0.0

    def add(self, key: str, place: Place, weight: float) -> None:
        """Count a confidently resolved name as evidence about the article's geography."""
        self.own[key] = (place, weight)
        self.total += weight
        if place.country_code:
            self.countries[place.country_code] = self.countries.get(place.country_code, 0.0) + weight
        if place.admin1 and place.country_code:
            division = (place.country_code, place.admin1)
            self.admin1[division] = self.admin1.get(division, 0.0) + weight
        if place.feature in FIRST_LEVEL and place.country_code:
            self.divisions[place.country_code] = self.divisions.get(place.country_code, 0.0) + weight
        if place.feature not in ("country", "continent") and place.geometry_type in ("Polygon", "MultiPolygon"):
            bounds = _bounds(place)  # once per region here, not once per candidate tested
            if bounds is not None:
                self.regions.append((key, (place.id, place, bounds)))
        if len(self.anchors) < 8 and place.feature not in LARGE_AREAS:
            self.anchors.append((key, place))

    def evidence(self, place: Place, key: str) -> tuple[float, float, float, float, float]:
        """How the rest of the article supports reading `key` as `place`: (share of its countries, sibling
        first-level divisions, share of its first-level division, inside a region it names, nearness to its
        surest places), each in [0, 1]; the ranker weighs them."""
        own_place, own_weight = self.own.get(key, (None, 0.0))
        total = self.total - own_weight
        country = siblings = division = inside = near = 0.0
        if total > 0 and place.country_code:
            weight = self.countries.get(place.country_code, 0.0)
            if own_place is not None and own_place.country_code == place.country_code:
                weight -= own_weight
            country = min(1.0, 2 * weight / total)
            if place.feature in FIRST_LEVEL:
                # Among other states of one country, "Georgia" is the state: siblings name siblings.
                count = self.divisions.get(place.country_code, 0.0)
                if own_place is not None and own_place.feature in FIRST_LEVEL and \
                        own_place.country_code == place.country_code:
                    count -= own_weight
                siblings = min(1.0, count)
            if place.feature not in ("country", "admin1") and place.admin1:
                weight = self.admin1.get((place.country_code, place.admin1), 0.0)
                if own_place is not None and (own_place.country_code, own_place.admin1) == \
                        (place.country_code, place.admin1):
                    weight -= own_weight
                division = min(1.0, weight)
        if place.feature not in LARGE_AREAS:
            regions = [region for other, region in self.regions if other != key]
            if regions and _inside_any(place, regions):
                inside = 1.0
            anchors = [anchor for other, anchor in self.anchors if other != key]
            if anchors:
                nearest = min(distance_km(place.lat, place.lon, a.lat, a.lon) for a in anchors)
                near = max(0.0, 1.0 - math.log10(1 + nearest) / 3)
        return country, siblings, division, inside, near


# Keyed by the place object too: a view's proposed edit may reuse a place's id and version. The entry holds
# that object, so while it is cached no other object can have its id().
@memoize("region shapes", key=lambda place: (place.id, place.version, id(place)))
def _prepared(place: Place) -> tuple:
    """(place, shape, bounds) of a place's geometry, the shape prepared for fast tests."""
    import shapely

    try:
        # From the stored JSON text: GEOS reads it in C, twice as fast as shape() over the decoded dict.
        geometry = shapely.from_geojson(place.geometry_text())
        shapely.prepare(geometry)
        bounds = geometry.bounds
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
        geometry, bounds = None, None
    return place, geometry, bounds


@memoize("region bounds", key=lambda place: (place.id, place.version, id(place.geometry)))
def _bounds(place: Place) -> tuple | None:
    """The box of a place's shape, from its GeoJSON: shapely (and its import) is needed only for the points
    that fall inside a box."""
    return geojson_bounds(place.geometry)


def region_shape(place: Place):
    """The place's shape, prepared for fast containment tests (None when it has none or it is broken)."""
    return _prepared(place)[1]


def _inside_any(place: Place, regions: list[tuple[str, Place, tuple]]) -> bool:
    """True when the place's point lies in one of `regions` (place id, place, bounds) but its own."""
    x, y = place.lon, place.lat
    for region_id, region, bounds in regions:
        # The bounding box first: most candidates lie far outside it, and comparing floats costs nothing; the
        # shape is made (shapely imported) only for a point inside the box.
        if region_id != place.id and bounds[0] <= x <= bounds[2] and bounds[1] <= y <= bounds[3]:
            shape = _prepared(region)[1]
            if shape is not None:
                from shapely import contains_xy

                if contains_xy(shape, x, y):
                    return True
    return False


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on geopy's mean Earth radius (geopy's great_circle without its Point parsing,
    which costs more than a whole mention's resolution; tests check the two agree)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi, half_dlambda = (phi2 - phi1) / 2, math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS * math.asin(min(1.0, math.sqrt(a)))


def commonness(span: Span, surface: str) -> float:
    """How ordinary an English word the span is (0 for multi-word names and acronyms like "US")."""
    if span.tokens > 1:
        return 0.0
    letters = [ch for ch in surface if ch.isalpha()]
    if len(letters) <= 4 and all(ch.isupper() for ch in letters) and ("." in surface or not span.title_case_line):
        return 0.0
    return word_commonness().get(span.key, 0.0)


@dataclass
class _Name:
    """Everything known about one key in one article: its candidates with their priors, demonym countries."""

    key: str
    candidates: list[tuple[Place, float]]
    demonym_of: list[Place]
    named_prior: float = 0.0  # best prior among places that carry the key as their name (not an alias)
    abbreviation: bool = False  # some place has the key as an abbreviation ("Ky." for Kentucky)
    #: (place, context-free candidate features, their learned score), best score first
    ranked: list = field(default_factory=list)

    @property
    def best_prior(self) -> float:
        return self.candidates[0][1] if self.candidates else 0.0

    @property
    def is_demonym(self) -> bool:
        # "Azeri" is also a village in Estonia: the adjective wins unless a place of that name is important.
        return bool(self.demonym_of) and self.best_prior < IMPORTANT


def lookup(gazetteer, key: str, model: Model) -> _Name:
    """The candidates of `key` with their priors (best first), and the countries it is a demonym of."""
    kinds = gazetteer.name_kinds(key)
    candidates, demonym_of, ranked = [], [], []
    for place_id, kind in kinds.items():
        try:
            place = gazetteer.get(place_id)
        except LookupError:
            continue
        if kind == "demonym":
            demonym_of.append(place)
        else:
            candidates.append((place, _prior(place, key, kind)))
            row = base_candidate_features(place, kind)
            ranked.append((place, row, model.candidate_score(row)))
    candidates.sort(key=lambda item: (-item[1], item[0].id))
    ranked.sort(key=lambda item: (-item[2], item[0].id))
    demonym_of.sort(key=lambda place: (-place.population, place.id))
    named = max((prior for place, prior in candidates if kinds.get(place.id) in ("name", "abbreviation")),
                default=0.0)
    return _Name(key, candidates, demonym_of, named, "abbreviation" in kinds.values(), ranked)


# Verdicts on a span: accepted; rejected for good; rejected for want of evidence unless the article names
# the place elsewhere with evidence (one sense per discourse); or accepted only when the article's sure places
# lie in the same country (a small village of a region the article is about).
YES, NO, MAYBE, LOCAL = "yes", "no", "maybe", "local"


def verdict(span: Span, surface: str, name: _Name, previous_word: str, followed_by_place: bool,
            after_place: bool, persons: set[str], *, after_comma_place: bool = False) -> str:
    """Is this span a place (or a demonym)? Decided from how it is written, where, and how common the word is."""
    if span.key in CALENDAR_WORDS or span.person_context or span.key in persons:
        return NO
    if not surface[:1].isupper() and not surface[:1].isdigit() and not span.hashtag:
        return NO
    if span.next_word.lower() in NAMED_AFTER:
        return NO  # "West Nile virus", "Lassa fever": a disease named after a place, not the place
    if span.tokens > 1 and word_commonness().get(span.key.split(" ", 1)[0], 0.0) >= 6.0 \
            and not any(ch.isupper() for ch in surface[1:]):
        return NO  # "The village", "The city": a sentence-initial article and ordinary words
    if name.abbreviation and after_comma_place and (surface.endswith(".") or span.all_caps):
        return YES  # "Glasgow, Ky.", "Dubbo, NSW": a division's abbreviation only as written after a place
    if len(span.key.replace(" ", "")) <= 2 and not span.all_caps:
        return NO
    if name.is_demonym:
        return YES
    if not name.candidates:
        return NO
    if span.entity:
        return YES  # --ner: the statistical model read it as a location in this sentence
    best = name.best_prior
    if span.admin_word:
        best = max([prior for place, prior in name.candidates if place.feature in DIVISIONS] or [best])
    common = commonness(span, surface)
    no_case_evidence = span.sentence_initial or span.all_caps or span.title_case_line
    located = previous_word.lower() in LOCATIVES or followed_by_place
    if best >= IMPORTANT + 3:
        return YES  # a country or continent: "China has", "Turkey says" are the places whatever the word means
    if span.all_caps and best < IMPORTANT - 2 and not located:
        return NO  # acronyms and bylines (MOD, TASS, JOFFRE); datelines name big places
    if after_place and common >= COMMON_WORD:
        return NO  # the second word of a longer proper name ("Garabagh War")
    if common >= COMMON_WORD:
        if best >= IMPORTANT + 1 and not (no_case_evidence and common >= 5.0):
            return YES
        return YES if located and not no_case_evidence else MAYBE if not no_case_evidence else NO
    if span.speaker and best < IMPORTANT - 1.5:
        return NO
    if span.capitalised_neighbour and best < IMPORTANT - 2 and not located:
        return MAYBE
    if span.tokens == 1 and span.key in surnames() and best < IMPORTANT - 2 and not located:
        return MAYBE  # "Walsh", "Steele": far more often a person than a small town
    if name.named_prior < best - 1.0 and best < IMPORTANT - 2.5 and not located:
        return LOCAL  # only a small place's alternate name (GeoNames lists many spellings)
    if common >= RARE_WORD and best < IMPORTANT - 2 and no_case_evidence and not located:
        return LOCAL
    return YES


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of a word list written as one string."""
    return frozenset(text.split())


#: Words after a name that make it part of an organisation's or product's name ("Chelsea FC", "Air Canada").
ORG_AFTER = _words("""
inc inc. corp corporation co company companies ltd llc plc group holdings party university college school
institute academy hospital clinic fc afc club united rovers airlines airline airways air bank telecom motors
energy oil petroleum gas times post news herald journal tribune gazette daily press mail express review
star chronicle observer magazine radio tv television channel network broadcasting council association
federation league union foundation fund society committee commission agency authority police army navy
guard force forces team rangers stadium arena airport station street road avenue boulevard square hotel
church cathedral mosque temple museum theatre theater festival cup open marathon grand prix derby
""")
#: Words before a name (or before "of" before it) that start an organisation's name ("Bank of America").
ORG_BEFORE = _words("""
air bank university college institute radio royal club team church museum hospital school council academy
league
""")
#: Words that stand alone for no place: directions, religions, holidays ("North", "Catholic", "Easter").
GENERIC_WORDS = _words("""
north south east west northeast northwest southeast southwest central northern southern eastern western
midwest catholic catholics christian christians muslim muslims islam islamic jewish jews orthodox protestant
hindu hindus buddhist sunni shia shiite easter christmas ramadan eid thanksgiving passover diwali hanukkah
halloween lent advent
""")
#: Nouns that, before "of", announce a place's name ("the town of Lachin", "the province of Aceh").
PLACE_NOUNS = _words("""
town towns city cities village villages province provinces region regions district districts state states
county counties capital port island islands suburb suburbs area areas outskirts streets country countries
municipality community communities neighbourhood neighborhood territory republic kingdom island
""")
#: Verbs that take a place as their object ("entered Lachin", "hit Queensland").
MOTION_VERBS = _words("""
entered enter enters visited visit visits visiting reached reach reaches left leave leaves fled flee hit hits
struck strike strikes toured tour evacuated bombed shelled captured seized attacked arrived returned
travelled traveled flew fly moved move headed heading invaded occupied crossed cross crossing swept sweeps
ravaged devastated battered flooded
""")


def span_features(text: str, span: Span, surface: str, name: _Name, rule: str, *, followed_by_place: bool,
                  after_place: bool, after_comma_place: bool, titled: bool, sure_elsewhere: bool,
                  country_agrees: bool, mentions: int, first: frozenset, surname_list: frozenset) -> list[float]:
    """The span model's features of one span (see model.SPAN_FEATURES for their order)."""
    best = name.best_prior
    common = commonness(span, surface)
    lowered_previous = span.previous.lower()
    best_place = name.candidates[0][0] if name.candidates else None
    best_class = feature_class(best_place) if best_place is not None else ""
    before = text[span.start - 1:span.start] if span.start else ""
    after = text[span.end:span.end + 2]
    org_before = lowered_previous in ORG_BEFORE or (
        lowered_previous == "of" and _word_before_of(text, span.start).lower() in ORG_BEFORE)
    located = lowered_previous in LOCATIVES
    person_name = span.tokens == 1 and (span.key in surname_list or span.key in first)
    return [
        1.0, rule == YES, rule == MAYBE, rule == LOCAL, rule == NO, sure_elsewhere, country_agrees,
        span.sentence_initial, span.all_caps, span.title_case_line, span.person_context,
        span.capitalised_neighbour, span.speaker, bool(span.admin_word), span.tokens > 1, common / 7.0,
        common >= COMMON_WORD, common < RARE_WORD, best / 10.0, best >= IMPORTANT, (best - name.named_prior) / 10.0,
        name.is_demonym, located, followed_by_place, after_place, after_comma_place,
        span.tokens == 1 and span.key in surname_list, span.tokens == 1 and span.key in first, titled,
        span.next_word.lower() in ORG_AFTER and span.next_word[:1].isupper(), org_before,
        before == "-" or (after[:1] == "-" and after[1:2].isalpha()), span.key in GENERIC_WORDS, span.entity,
        not surface[:1].isupper(), before == "#", math.log10(1 + len(name.candidates)) / 3,
        best_class == "country", best_class == "admin1", best_class == "city",
        best_class in ("physical", "water"), name.abbreviation, min(mentions - 1, 4) / 4,
        after in ("'s", "\u2019s"), lowered_previous == "the",
        lowered_previous == "of" and _word_before_of(text, span.start).lower() in PLACE_NOUNS,
        lowered_previous in MOTION_VERBS, span.next_word.lower() in LOCATIVES,
        # Interactions a linear model cannot form itself: evidence that overrides other evidence.
        located and person_name, located and best >= IMPORTANT - 2, person_name and best >= IMPORTANT - 2,
        span.capitalised_neighbour and best >= IMPORTANT,
        (span.sentence_initial or span.title_case_line) and common >= COMMON_WORD,
    ]


def _word_before_of(text: str, start: int) -> str:
    """The word before "of " right before `start` ("Bank" in "Bank of America")."""
    from mapapp.geoparse.recognize import previous_word

    return previous_word(text, start - 3) if text[start - 3:start] == "of " else ""


def _probabilities(scored: list[tuple[Place, float]]) -> list[tuple[Place, float]]:
    """Softmax of candidate scores (the ranker's log-odds units): the confidence of each reading."""
    if not scored:
        return []
    top = max(score for _, score in scored)
    weights = [(place, math.exp(score - top)) for place, score in scored]
    total = sum(weight for _, weight in weights)
    return sorted(((place, weight / total) for place, weight in weights), key=lambda item: -item[1])


def _capital_over_division(name: _Name, spans: list[Span]) -> Place | None:
    """The capital that a division of its country shares its name with, unless the text says "... state".

    News writes the division out ("Washington state") and lets the bare name stand for the capital.
    """
    if any(span.next_word.lower() == "state" for span in spans):
        return None
    top = name.candidates[:5]
    for place, _ in top:
        if place.feature_code == "PPLC" and any(
                other.feature in FIRST_LEVEL and other.country_code == place.country_code for other, _ in top):
            return place
    return None


def _outnumbered_divisions(name: _Name) -> set[str]:
    """Ids of divisions that a more populous city of their name in another country outnumbers.

    A bare name read as a far-away province over the known city of that name ("Gaza": the city, not
    Mozambique's province) is the error; the ranker weighs the evidence.
    """
    top = name.candidates[:5]
    cities = [place for place, _ in top if place.feature == "city"]
    return {place.id for place, _ in top if place.feature in DIVISIONS and any(
        city.country_code != place.country_code and city.population >= place.population for city in cities)}


_F = {name: number for number, name in enumerate(CANDIDATE_FEATURES)}
_CONTEXT_SLOTS = tuple(_F[name] for name in ("context_country", "context_siblings", "context_admin1",
                                             "context_inside", "context_near"))
#: How many of a name's candidates (best context-free score first) the ranker reads in context.
MAX_CANDIDATES = 30


def rank(name: _Name, spans: list[Span], context: ArticleContext | None, hints: dict[str, float],
         model: Model, record: list | None = None) -> list:
    """Candidates of one name in one article, best first, as (place, confidence).

    `record`, when given, receives (place, features) of every candidate scored (for `mapapp train`).
    """
    admin_words = {ADMIN_WORDS[s.admin_word] for s in spans if s.admin_word}
    capital = _capital_over_division(name, spans)
    outnumbered = _outnumbered_divisions(name)
    weights = model.candidate_weights
    scored = []
    for place, base, base_score in name.ranked[:MAX_CANDIDATES]:
        row = None
        score = base_score
        extra = []
        if place is capital:
            extra.append((_F["capital_over_division"], 1.0))
        if place.id in outnumbered:
            extra.append((_F["division_outnumbered"], 1.0))
        if admin_words:
            extra.append((_F["admin_word_match"] if place.feature in DIVISIONS else _F["admin_word_mismatch"], 1.0))
        if hints.get(place.id):
            extra.append((_F["comma_container"], 1.0))
        if context is not None:
            extra.extend(zip(_CONTEXT_SLOTS, context.evidence(place, name.key)))
        for slot, value in extra:
            score += weights[slot] * value
        if record is not None:
            row = list(base)
            for slot, value in extra:
                row[slot] = value
            record.append((place, row))
        scored.append((place, score))
    return _probabilities(scored)
