"""The learned decisions of the geoparser: which spans are places, and how candidates of a name rank.

Both are linear models fitted by `mapapp train` (scikit-learn, only at training time) and shipped as
`data/model.json`: feature names, weights, and the span threshold. Prediction here is plain Python over
short feature lists, so parsing needs neither scikit-learn nor numpy.

- The span model is a logistic regression over the evidence the recogniser gathers (`span_features`):
  how the span is written and where, the words around it, how common the word is, person and organisation
  cues, the gazetteer's candidates, what the hand rules of `resolve.verdict` say, and the article's other
  names. A span is a mention when its probability reaches the fitted threshold.
- The candidate ranker is a pairwise logistic regression (right candidate minus wrong candidate, no
  intercept) over `candidate_features`: population, feature class, the kind of name matched, capitals,
  the article's countries and first-level divisions, containment, distance to the article's surest places.
  A candidate's score is the dot product; the softmax of the scores of one name is its confidence.
"""
from __future__ import annotations

import functools
import json
import math
import operator
from dataclasses import dataclass
from pathlib import Path

from mapapp.errors import MalformedFile

MODEL_FILE = Path(__file__).with_name("data") / "model.json"

#: Every span feature, in the order of the weight vector.
SPAN_FEATURES = (
    "bias", "rule_yes", "rule_maybe", "rule_local", "rule_no", "sure_elsewhere", "country_agrees",
    "sentence_initial", "all_caps", "title_case_line", "person_context", "capitalised_neighbour", "speaker",
    "admin_word", "multi_token", "commonness", "common", "rare", "best_prior", "important", "named_gap",
    "demonym", "located", "followed_by_place", "after_place", "after_comma_place", "surname", "first_name",
    "titled_person", "org_after", "org_before", "hyphen_joined", "generic_word", "entity", "lower_case",
    "hashtag", "namesakes", "best_country", "best_admin1", "best_city", "best_physical", "abbreviation",
    "mentions_of_key", "possessive", "the_before", "place_noun_of", "motion_verb", "locative_after",
    "located_person_name", "located_known", "person_name_known", "neighbour_important", "uncased_common",
)
#: Every candidate feature, in the order of the weight vector; the first BASE_COUNT need no article context.
CANDIDATE_FEATURES = (
    "log_population", "continent", "water", "country", "admin1", "region", "admin2", "city", "village",
    "physical", "other_feature", "capital", "admin_capital", "kind_name", "kind_alias", "kind_abbreviation",
    "curated", "capital_over_division", "admin_word_match", "admin_word_mismatch", "comma_container",
    "division_outnumbered",
    "context_country", "context_siblings", "context_admin1", "context_inside", "context_near",
)
BASE_COUNT = CANDIDATE_FEATURES.index("context_country")

_WATER = {"ocean", "sea", "gulf", "strait"}
_PHYSICAL = {"desert", "peninsula", "island", "mountains", "mountain", "river", "lake", "corridor"}
_FIRST_LEVEL = {"admin1", "province", "state"}
_DISTRICTS = {"admin2", "district"}


def feature_class(place) -> str:
    """The candidate feature naming a place's class (one of a few groups)."""
    feature = place.feature
    if feature in ("continent", "country", "region", "city", "village"):
        return feature
    if feature in _WATER:
        return "water"
    if feature in _FIRST_LEVEL:
        return "admin1"
    if feature in _DISTRICTS:
        return "admin2"
    if feature in _PHYSICAL:
        return "physical"
    return "other_feature"


_CANDIDATE_INDEX = {name: number for number, name in enumerate(CANDIDATE_FEATURES)}


def base_candidate_features(place, kind: str) -> list[float]:
    """The context-free features of one candidate (population, class, the kind of name it carries)."""
    row = [0.0] * len(CANDIDATE_FEATURES)
    row[0] = math.log10(max(place.population, 0) + 10)
    row[_CANDIDATE_INDEX[feature_class(place)]] = 1.0
    if place.feature_code == "PPLC":
        row[_CANDIDATE_INDEX["capital"]] = 1.0
    elif place.feature_code == "PPLA":
        row[_CANDIDATE_INDEX["admin_capital"]] = 1.0
    if kind in ("name", "alias", "abbreviation"):
        row[_CANDIDATE_INDEX["kind_" + kind]] = 1.0
    if place.source in ("curated", "admin"):
        row[_CANDIDATE_INDEX["curated"]] = 1.0
    return row


@dataclass(frozen=True)
class Model:
    """Fitted weights of the span model and the candidate ranker, and the span threshold."""

    span_weights: tuple[float, ...]
    threshold: float
    candidate_weights: tuple[float, ...]
    sure: float = 0.9          # confidence from which a reading joins the article's geography (first round)
    likely: float = 0.5        # the same for the second round
    meta: tuple = ()

    def span_probability(self, features) -> float:
        """P(the span is a place mention) from its features."""
        # map(mul) is about three times faster than a generator; the zero terms it adds leave every partial
        # sum as it was, so the scores are bit for bit those of summing the non-zero terms alone.
        z = sum(map(operator.mul, self.span_weights, features))
        return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0

    def candidate_score(self, features) -> float:
        """A candidate's ranking score (log-odds units; compare within one name)."""
        return sum(map(operator.mul, self.candidate_weights, features))

    def to_json(self) -> dict:
        """The model as the shipped JSON file holds it."""
        return {"about": "Fitted by `mapapp train`; see mapapp/geoparse/model.py for the features.",
                "span_features": list(SPAN_FEATURES),
                "span_weights": [round(w, 6) for w in self.span_weights],
                "threshold": round(self.threshold, 4),
                "candidate_features": list(CANDIDATE_FEATURES),
                "candidate_weights": [round(w, 6) for w in self.candidate_weights],
                "sure": self.sure, "likely": self.likely, **dict(self.meta)}

    @classmethod
    def from_json(cls, data: dict, path: str = "model") -> Model:
        """Read a model written by `to_json`, checking that its features are the ones this code computes."""
        try:
            if tuple(data["span_features"]) != SPAN_FEATURES or \
                    tuple(data["candidate_features"]) != CANDIDATE_FEATURES:
                raise MalformedFile("model features differ from this version's: rerun `mapapp train`", path=path)
            return cls(tuple(map(float, data["span_weights"])), float(data["threshold"]),
                       tuple(map(float, data["candidate_weights"])), float(data.get("sure", 0.9)),
                       float(data.get("likely", 0.5)))
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedFile(f"not a geoparser model ({error})", path=path) from None


def save_model(model: Model, path: Path = MODEL_FILE) -> None:
    """Write the model as sorted, rounded JSON (so refitting the same data gives the same bytes)."""
    path.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")


def load_model(path: Path | str) -> Model:
    """Read a model file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise MalformedFile(f"cannot read the model ({error})", path=str(path)) from None
    return Model.from_json(data, str(path))


@functools.lru_cache(maxsize=1)
def shipped_model() -> Model:
    """The model shipped in the package (data/model.json)."""
    return load_model(MODEL_FILE)
