"""The seed articles against the hand-made gold in shared/seeds/gold.json, scored by the rule written there."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from mapapp.geoparse.evaluate import evaluate_seeds, load_seed_gold

ROOT = Path(__file__).resolve().parent.parent
# The shared folder beside the repository (MAPAPP_SHARED overrides, e.g. from a git worktree elsewhere).
GOLD = Path(os.environ.get("MAPAPP_SHARED") or ROOT.parent / "shared") / "seeds" / "gold.json"


@pytest.fixture(scope="module")
def gold():
    if not GOLD.exists():
        pytest.fail(f"{GOLD} is missing: the seed gold lives in shared/ beside the repository")
    return load_seed_gold(GOLD)


def test_the_seed_gold_has_39_expected_pairs(gold):
    assert sum(len(article["expect"]) for article in gold["articles"].values()) == 39


def test_every_expected_place_is_found_and_resolved_with_at_most_3_false_positives(geoparser, gold):
    result = evaluate_seeds(geoparser, gold, ROOT / "seeds")
    assert result.expected == 39
    assert result.missing == []
    assert result.wrong == []
    assert len(result.resolved) == 39
    assert len(result.false_positives) <= 3, result.false_positives


def test_the_scorer_counts_a_wrong_answer_and_a_false_positive(geoparser, gold):
    """The rule itself: a parser that moves every place to Lima and adds a bogus mention scores badly."""
    from dataclasses import replace

    lima = geoparser.parse("Lima, Peru")[0].place
    assert lima.country_code == "PE"

    class Wrong:
        def parse(self, text):
            mentions = [replace(m, place=lima) for m in geoparser.parse(text)]
            return mentions + [replace(mentions[0], start=0, end=3, text=text[:3])]

    result = evaluate_seeds(Wrong(), gold, ROOT / "seeds")
    assert len(result.found) == 39
    assert len(result.resolved) == 0 and len(result.wrong) == 39
    assert len(result.false_positives) >= 5
