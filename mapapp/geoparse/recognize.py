"""Recognition: find the spans of a text that spell a gazetteer name, with the lexical evidence around each.

The scan looks only at capitalised tokens (one regex), checks the first token against an index of the
gazetteer's keys (one dict lookup), and only then joins following tokens to try multi-word names, longest
first. Whether a span really is a place is decided later (`mapapp.geoparse.resolve`), from the evidence
gathered here: sentence position, capitalisation, titles and first names next to it, and how common the
word is in English.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from mapapp.gazetteer.names import normalise_name
from mapapp.geoparse.wordlists import first_names, surnames, word_commonness

#: Capitalised words at least this common (zipf) beside a name are ordinary words ("The", "President").
NEIGHBOUR_COMMONNESS = 4.5
#: Most remembered contexts per text (bounds memory on huge inputs).
_MEMO_LIMIT = 100_000
#: Longest name tried, in tokens (keeps a pathological key from making the scan quadratic).
MAX_TOKENS = 8

_UPPER = "".join(ch for ch in map(chr, range(0x10000)) if ch.isupper() and ch.isalpha())
# A capitalised token starting at a word boundary: the only places a name may begin.
# A hashtag may be written in lower case (#nigeria): its word may begin a name too.
_CAPITALISED = re.compile(r"(?<![^\W_])[%s][^\W_]*|(?<=#)[^\W\d_][^\W_]*" % re.escape(_UPPER))
# Where a run-together hashtag (#SouthSudan, #NewYork) changes from lower to upper case: a word boundary.
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# The words of a run-together hashtag (#GazaUnderAttack, #IranTalksNYC): each may be a name alone. Not @handles:
# those name accounts (@BBCAfrica, @NWSAtlanta), which the corpora do not count as places.
_TAG_PART = re.compile(r"[A-Z][a-z]+|[A-Z]+(?![a-z])|[a-z]+|[0-9]+")
_TAG_START = re.compile(r"#[^\W]*$")
# What may join two tokens of one name: a space, a hyphen, an apostrophe (d'Ivoire), a dot (St. Louis, U.S).
_NEXT_TOKEN = re.compile(r"(?:[.'\u2019]?[ \u00a0\-\u2010\u2011]|[.'\u2019])([^\W_]+)")
_TOKEN = re.compile(r"[^\W_]+")
_SENTENCE_END = frozenset(".!?:;\n\r\u2029\u2028|•")
_OPENERS = frozenset("\"'“‘«([{-–—*#> \t\u00a0\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff")

#: Words before a name that make it a person's (a title) rather than a place.
TITLES = frozenset("""
mr mrs ms miss mx dr prof professor sir dame lord lady madam president vice minister premier chancellor senator
sen rep representative congressman congresswoman governor gov mayor general gen col colonel lt lieutenant sgt
sergeant capt captain cmdr admiral maj king queen prince princess emperor sultan sheikh emir pope cardinal
bishop archbishop rev reverend ambassador secretary judge justice chairman chairwoman coach
spokesman spokeswoman detective inspector constable commissioner councillor councilman councilwoman
""".split())

#: English month and weekday names and their abbreviations (calendar module): capitalised by convention.
CALENDAR_WORDS = frozenset(word.lower() for word in (*calendar.month_name, *calendar.month_abbr, *calendar.day_name,
                                                     *calendar.day_abbr, "Sept") if word)
#: Verbs of saying: a name right before or after one is usually a person's.
SPEECH_VERBS = frozenset("said says added explained wrote noted replied stated argued insisted recalled "
                         "admitted tweeted".split())
#: Below this (zipf) a capitalised word is no ordinary English word: a name ("Putin").
RARE_COMMONNESS = 3.0
#: Capitalised words at least this common (zipf) are not taken for first names ("Will", "Mark", "Bill").
FIRST_NAME_COMMONNESS = 4.5

#: Generic words that, capitalised after a name, make one administrative mention ("Metcalfe County").
ADMIN_WORDS = {
    "county": "admin2", "district": "admin2", "province": "admin1", "region": "admin1", "oblast": "admin1",
    "governorate": "admin1", "prefecture": "admin1", "rayon": "admin2", "parish": "admin2",
    "municipality": "admin2", "borough": "admin2",
}
#: Capitalised compass words that make one mention with the name after them ("East Africa", "Southern China").
DIRECTIONS = frozenset("north south east west central northern southern eastern western northeast northwest "
                       "southeast southwest north-east north-west south-east south-west upper lower".split())


@dataclass(slots=True)
class Span:
    """A stretch of text whose normalised form is a gazetteer key, with the evidence around it."""

    start: int
    end: int
    key: str
    tokens: int
    sentence_initial: bool   # first word of a sentence, line or heading: capitalisation proves nothing
    all_caps: bool           # written in capitals (datelines, headings)
    title_case_line: bool    # inside a line where most words are capitalised (a headline)
    person_context: bool     # a title or a first name right before it, or a surname after it: a person's name
    capitalised_neighbour: bool  # glued to other capitalised words that are not names (an organisation...)
    admin_word: str = ""     # "county", "district"... when the mention was extended by one
    speaker: bool = False    # "Walsh said", "said Walsh": what people do, not places
    previous: str = ""       # the word right before the mention
    entity: bool = False     # a statistical NER (optional --ner mode) also tagged it as a location
    next_word: str = ""      # the word right after the mention
    hashtag: bool = False    # written as a hashtag (#nigeria): its case proves nothing


_TITLED_NAME = re.compile(r"(?<![^\W_])(?:%s)\.?[ \u00a0]+((?:[A-Z][^\W_]+[ \u00a0]){0,2}[A-Z][^\W_]+)"
                          % "|".join(sorted((t.capitalize() for t in TITLES), key=len, reverse=True)))


def titled_names(text: str) -> frozenset[str]:
    """Keys of the words of every name written after a title ("President Vladimir Putin": vladimir, putin)."""
    found = set()
    for match in _TITLED_NAME.finditer(text):
        found.update(key for key in map(normalise_name, match.group(1).split()) if key not in TITLES)
    return frozenset(found)


class NameIndex:
    """The gazetteer's keys arranged for scanning: first token -> the most tokens a key starting with it has."""

    def __init__(self, keys, longest=None):
        self.keys = keys
        # `longest` comes with `keys` when they were read from the index file (a trie, not a frozenset).
        self.longest = _longest_by_first_token(keys, {}) if longest is None else longest

    def __contains__(self, key: str) -> bool:
        return key in self.keys

    def with_keys(self, keys) -> "NameIndex":
        """An index over another key set (a gazetteer view) that shares this one's work for unchanged keys."""
        index = NameIndex(())
        index.keys = keys
        base = self.keys
        added = frozenset(keys) - base if isinstance(base, frozenset) else frozenset(k for k in keys if k not in base)
        index.longest = _longest_by_first_token(added, dict(self.longest.items())) if added else self.longest
        return index


def _longest_by_first_token(keys, longest: dict[str, int]) -> dict[str, int]:
    """Fill `longest` with first token -> most tokens of a key starting with it (fast path: plain words)."""
    get = longest.get
    for key in keys:
        if key.replace(" ", "").isalnum():
            first, _, _ = key.partition(" ")
            count = key.count(" ") + 1
        else:
            tokens = _TOKEN.findall(key)
            if not tokens:
                continue
            first, count = tokens[0], len(tokens)
        if count > MAX_TOKENS:
            count = MAX_TOKENS
        if count > get(first, 0):
            longest[first] = count
    return longest


class _Lines:
    """Whether the line holding an offset is a headline, for offsets visited in increasing order.

    Finding a line's bounds scans only forward from the last line, so a 50 MB single-line text stays linear.
    """

    def __init__(self, text: str):
        self.text = text
        self.start = self.end = -1
        self.title_case = False

    def is_title_case(self, index: int) -> bool:
        if not self.start <= index < self.end:
            text = self.text
            floor = max(self.end, 0)  # offsets only grow: no need to look back past the previous line
            newline = text.rfind("\n", floor, index)
            self.start = newline + 1 if newline != -1 else floor
            end = text.find("\n", index)
            self.end = len(text) if end == -1 else end
            self.title_case = _is_title_case(text[self.start:min(self.end, self.start + 400)])
        return self.title_case


def _is_title_case(line: str) -> bool:
    """A headline: at least three words and most of them capitalised (including short function words)."""
    words = _TOKEN.findall(line)
    words = [w for w in words if w[0].isalpha()]
    if len(words) < 3:
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised / len(words) >= 0.75


def _is_sentence_initial(text: str, start: int) -> bool:
    index = start - 1
    while index >= 0 and text[index] in _OPENERS:
        index -= 1
    return index < 0 or text[index] in _SENTENCE_END


def previous_word(text: str, start: int) -> str:
    """The word right before `start` when only one space (or a dot and a space: "Mr. X") separates them."""
    end = start - 1
    if end < 1 or text[end] not in " \u00a0":
        return ""
    if text[end - 1] == ".":
        end -= 1
    # Match forwards on the reversed tail: a regex search backwards would retry at every position.
    match = _TOKEN.match(text[max(0, end - 40):end][::-1])
    return match.group()[::-1] if match else ""


def _next_word(text: str, end: int) -> str:
    if end >= len(text) or text[end] not in " \u00a0":
        return ""
    match = _TOKEN.match(text, end + 1)
    return match.group() if match else ""


def find_spans(text: str, index: NameIndex, *, prefer_shorter=None) -> list[Span]:
    """Every longest gazetteer-name span of `text`, left to right, non-overlapping, with its evidence.

    `prefer_shorter(longer_key, shorter_key)` may veto a longer match that ends in an ordinary word when the
    name without it is the better place ("Kentucky State Police": Kentucky).
    """
    keys = index.keys
    longest = index.longest
    spans: list[Span] = []
    position = 0
    lines = _Lines(text)
    names = first_names()
    memo: dict = {}
    key_memo: dict[str, str] = {}
    for match in _CAPITALISED.finditer(text):
        start = match.start()
        if start < position:
            continue
        first = match.group()
        limit = longest.get(normalise_name(first))
        if not limit:
            if first[0].isupper() and not first.isupper() and not first[1:].islower() and first.isascii():
                camel = _CAMEL.sub(" ", first).lower()  # "SierraLeone": sierra leone
                if camel in keys:
                    spans.append(_evidence(text, start, match.end(), camel, camel.count(" ") + 1, lines, names,
                                           keys, position, memo))
                    position = spans[-1].end
                elif _TAG_START.search(text, max(0, start - 40), start + 1):
                    found = _tag_spans(text, start, first, keys, lines)
                    spans.extend(found)
                    position = found[-1].end if found else position
            continue
        ends = [match.end()]
        cursor = match.end()
        while len(ends) < limit:
            joined = _NEXT_TOKEN.match(text, cursor)
            if joined is None:
                break
            cursor = joined.end()
            ends.append(cursor)
        key = ""
        for count in range(len(ends), 0, -1):
            if count > 1:
                written = text[start:ends[count - 1]]
                candidate = key_memo.get(written)
                if candidate is None:
                    if len(key_memo) > _MEMO_LIMIT:
                        key_memo.clear()
                    candidate = key_memo[written] = normalise_name(written)
            else:
                candidate = normalise_name(first)
            if candidate in keys:
                key, end, tokens = candidate, ends[count - 1], count
                if count > 1 and prefer_shorter is not None and _ends_in_ordinary_word(candidate):
                    shorter = normalise_name(text[start:ends[count - 2]]) if count > 2 else normalise_name(first)
                    if shorter in keys and prefer_shorter(candidate, shorter):
                        key, end, tokens = shorter, ends[count - 2], count - 1
                break
        if not key:
            continue
        spans.append(_evidence(text, start, end, key, tokens, lines, names, keys, position, memo))
        position = spans[-1].end
    return spans


def _tag_spans(text: str, start: int, word: str, keys, lines) -> list[Span]:
    """Names inside one run-together hashtag, longest first from each of its words.

    Their context is the tag's other words: no case, sentence or neighbour evidence applies inside a tag.
    """
    parts = [(m.start(), m.end(), m.group()) for m in _TAG_PART.finditer(word)]
    spans: list[Span] = []
    index = 0
    while index < len(parts):
        for last in range(min(len(parts), index + MAX_TOKENS) - 1, index - 1, -1):
            key = " ".join(part.lower() for _, _, part in parts[index:last + 1])
            if key in keys and parts[index][2][0].isupper():
                begin, end = start + parts[index][0], start + parts[last][1]
                surface = text[begin:end]
                previous = parts[index - 1][2] if index else previous_word(text, start - 1)
                following = parts[last + 1][2] if last + 1 < len(parts) else _next_word(text, start + len(word))
                spans.append(Span(begin, end, key, last - index + 1, False, len(surface) > 1 and surface.isupper(),
                                  lines.is_title_case(begin), False, False, previous=previous,
                                  next_word=following, hashtag=True))
                index = last
                break
        index += 1
    return spans


def _ends_in_ordinary_word(key: str) -> bool:
    last = key.rsplit(" ", 1)[-1]
    return word_commonness().get(last, 0.0) >= 4.0


def _judge_context(surface, key, tokens, previous, previous_initial, next_word, names,
                   keys) -> tuple[bool, bool, bool]:
    """(person, speaker, capitalised neighbour): what the words on either side say about a name."""
    common = word_commonness()
    lowered_previous = previous.lower()
    person = lowered_previous in TITLES or (
        tokens == 1 and lowered_previous in names and previous[:1].isupper() and not previous.isupper()
        and common.get(lowered_previous, 0.0) < FIRST_NAME_COMMONNESS
        and normalise_name(f"{previous} {surface}") not in keys) or (
        # "Chad Smith", "Vladimir Putin": a first name followed by a surname or an unknown capitalised word
        tokens == 1 and key in names and next_word[:1].isupper() and not next_word.isupper()
        and (next_word.lower() in surnames() or (normalise_name(next_word) not in keys
                                                 and common.get(next_word.lower(), 0.0) < RARE_COMMONNESS)))
    speaker = next_word.lower() in SPEECH_VERBS or lowered_previous in SPEECH_VERBS
    neighbour = False
    for word, capitalised_anyway in ((previous, previous_initial), (next_word, False)):
        # An unknown capitalised word beside the name makes it part of a longer one ("Hulusi Akar", "Health
        # Centre"); a common word capitalised only because a sentence starts with it ("The") does not.
        lowered = word.lower()
        if word and word[0].isupper() and not word.isupper() and normalise_name(word) not in keys \
                and lowered not in CALENDAR_WORDS \
                and (common.get(lowered, 0.0) < NEIGHBOUR_COMMONNESS or not capitalised_anyway):
            neighbour = True
    return person, speaker, neighbour


def _evidence(text, start, end, key, tokens, lines, names, keys, floor, memo) -> Span:
    """Gather the lexical evidence around one matched span (and extend it over "County", "District"...)."""
    surface = text[start:end]
    # Abbreviations keep their final dot: "U.S." and "Ky." are how the name is written.
    # A short capitalised word and a dot after "Town, " is an abbreviation whatever follows ("Glasgow, Ky. (AP)").
    if end < len(text) and text[end] == "." and (("." in surface) or (len(surface) <= 4 and surface[0].isupper()
                                                                     and surface[1:].islower() and tokens == 1
                                                                     and (text[start - 2:start] == ", "
                                                                          or _next_is_lower(text, end + 1)))):
        end += 1
        surface = text[start:end]
    admin_word = ""
    following = _next_word(text, end)
    if following and following[0].isupper() and following.lower() in ADMIN_WORDS:
        admin_word = following.lower()
        end = end + 1 + len(following)
    title_line = lines.is_title_case(start)
    previous = previous_word(text, start)
    lowered_previous = previous.lower()
    if lowered_previous in DIRECTIONS and previous[0].isupper() and start - len(previous) - 1 >= floor:
        start -= len(previous) + 1
        previous = previous_word(text, start)
        lowered_previous = previous.lower()
    next_word = following if not admin_word else _next_word(text, end)
    # The words around a name repeat (a long list, an adversarial text): judge each context once.
    previous_initial = bool(previous) and _is_sentence_initial(text, start - len(previous) - 1)
    context = (surface, previous, previous_initial, next_word, tokens)
    judged = memo.get(context)
    if judged is None:
        if len(memo) > _MEMO_LIMIT:
            memo.clear()
        judged = memo[context] = _judge_context(surface, key, tokens, previous, previous_initial, next_word,
                                                names, keys)
    person, speaker, neighbour = judged
    all_caps = len(surface) > 1 and surface.isupper()
    hashtag = text[start - 1:start] == "#"
    lower_hashtag = hashtag and not surface[:1].isupper()
    return Span(start, end, key, tokens, _is_sentence_initial(text, start) or lower_hashtag, all_caps, title_line,
                person, neighbour, admin_word, speaker, previous, next_word=next_word, hashtag=hashtag)


def _next_is_lower(text: str, index: int) -> bool:
    """True when the next word after `index` starts in lower case (so a dot before it is not a full stop)."""
    match = _TOKEN.search(text, index, index + 40)
    return bool(match) and match.group()[0].islower()
