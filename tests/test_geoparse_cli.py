"""The `mapapp geoparse` contract (issue 2) and `mapapp evaluate`, through the real command."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLACE_KEYS = {"id", "name", "feature", "country_code", "lat", "lon", "geometry_type", "geometry", "score"}


def read(path) -> str:
    """The text offsets index: the article text as ingest stores it (CRLF made LF), not the raw file."""
    from mapapp.articles.documents import read_document

    return read_document(Path(path)).text


@pytest.fixture
def files(tmp_path):
    """Two good files (one with CRLF newlines and non-ASCII text) and three bad ones."""
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes("Réunion talks.\r\nTroops left Nagorno‑Karabakh’s capital for Yerevan.\r\n".encode("utf-8"))
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Caf\xe9 in Paris".encode("latin-1"))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    folder = tmp_path / "folder"
    folder.mkdir()
    return {"crlf": str(crlf), "latin1": str(latin1), "empty": str(empty), "folder": str(folder)}


def test_jsonl_contract_order_offsets_and_errors(runner, files):
    seed = str(ROOT / "seeds" / "002_78ba372d644b4f3f.txt")
    args = ["geoparse", files["latin1"], seed, files["empty"], files["crlf"], files["folder"], "--format", "jsonl"]
    result = runner.invoke(args)
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["document"] for r in records] == [seed, files["crlf"]]  # in order, bad files skipped
    for record in records:
        content = read(record["document"])
        assert record["mentions"], record["document"]
        previous_end = 0
        for mention in record["mentions"]:
            assert set(mention) == {"start", "end", "text", "kind", "place"}
            assert content[mention["start"]:mention["end"]] == mention["text"]
            assert mention["start"] >= previous_end
            previous_end = mention["end"]
            assert mention["kind"] in ("place", "demonym")
            place = mention["place"]
            if place is not None:
                assert set(place) == PLACE_KEYS
                assert -90 <= place["lat"] <= 90 and -180 <= place["lon"] <= 180
                assert 0 <= place["score"] <= 1
                assert place["geometry"] is None or place["geometry"]["type"] == place["geometry_type"]
    crlf = records[1]["mentions"]
    assert [(m["text"], m["place"]["id"]) for m in crlf if m["text"] != "Réunion"][:1] == [
        ("Nagorno‑Karabakh", "cur:nagorno-karabakh")]
    assert "Yerevan" in [m["text"] for m in crlf]
    seed_texts = [m["text"] for m in records[0]["mentions"]]
    assert "Lachin corridor" in seed_texts and "MOSCOW" in seed_texts
    region = next(m for m in records[0]["mentions"] if m["text"] == "Lachin corridor")["place"]
    assert region["geometry_type"] != "Point" and region["geometry"]["type"] == region["geometry_type"]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 3
    for line, name in zip(errors, ("latin1", "empty", "folder")):
        assert files[name] in line and "Traceback" not in line
    assert "not UTF-8" in errors[0] and "empty" in errors[1] and "directory" in errors[2]


def test_all_good_files_exit_zero_and_other_formats(runner):
    seed = str(ROOT / "seeds" / "000_a684e645084e4b31.txt")
    jsonl = runner.invoke(["geoparse", seed])
    assert jsonl.exit_code == 0 and jsonl.stderr == ""
    as_json = runner.invoke(["geoparse", seed, "--format", "json"])
    assert json.loads(as_json.stdout) == [json.loads(jsonl.stdout)]
    table = runner.invoke(["geoparse", seed, "--format", "text"])
    assert table.exit_code == 0 and "Parukh [cur:parukh]" in table.stdout


def test_help_on_both_commands(runner):
    assert "--format" in runner.invoke(["geoparse", "--help"]).stdout
    assert "--corpus" in runner.invoke(["evaluate", "--help"]).stdout


def test_evaluate_seeds_command(runner, shared_dir):
    gold = shared_dir / "seeds" / "gold.json"
    result = runner.invoke(["evaluate", str(gold), "--format", "json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert scores["expected"] == 39 and scores["resolved"] == 39 and scores["false_positives"] <= 3


def test_evaluate_rejects_a_malformed_corpus(runner, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<articles><article docid='1'><text>oops")
    result = runner.invoke(["evaluate", str(broken), "--corpus", "trnews"])
    assert result.exit_code == 1
    assert "broken.xml" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_missing_gazetteer_is_built_first(tmp_path):
    """A fresh --data folder: the real command builds the gazetteer (progress on stderr), then geoparses."""
    document = tmp_path / "doc.txt"
    document.write_text("YEREVAN, March 26. Talks in Armenia.", encoding="utf-8")
    fresh = tmp_path / "fresh-data"
    env = {k: v for k, v in os.environ.items() if k != "MAPAPP_DATA"}
    done = subprocess.run([sys.executable, "-m", "mapapp", "geoparse", "--data", str(fresh), str(document)],
                          capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "gazetteer" in done.stderr  # the build's progress bar
    assert (fresh / "mapapp.sqlite3").exists()
    [record] = [json.loads(line) for line in done.stdout.splitlines()]
    found = [(m["text"], m["place"]["country_code"]) for m in record["mentions"]]
    assert found == [("YEREVAN", "AM"), ("Armenia", "AM")]


def test_geoparse_loads_neither_the_web_app_nor_shapely(data_dir, tmp_path):
    """`mapapp geoparse` imports only its own command: not the web package, folium, the articles store, shapely
    (which a text needs only for a point inside a region's box), nor an SSL context for geopy."""
    document = tmp_path / "doc.txt"
    document.write_text("Talks in Yerevan, Armenia.", encoding="utf-8")
    script = ("import ssl, sys\n"
              "contexts = []\n"
              "ssl.create_default_context = lambda *a, **k: contexts.append(1)\n"
              "from mapapp.cli import main\n"
              "try:\n"
              f"    main(['geoparse', '--data', {str(data_dir)!r}, {str(document)!r}])\n"
              "except SystemExit as stop:\n"
              "    assert not stop.code, stop.code\n"
              "loaded = [m for m in ('mapapp.web', 'folium', 'mapapp.articles.store', 'shapely') if m in sys.modules]\n"
              "print('loaded:', loaded, 'ssl contexts:', len(contexts), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"Yerevan"' in done.stdout
    assert "loaded: [] ssl contexts: 0" in done.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_each_mention_carries_its_own_places_stored_shape(runner, data_dir, jobs):
    """The outline written for a mention is its place's, as stored, on both paths (with --jobs the workers leave
    the outlines out and the parent writes them in by place id)."""
    from mapapp.gazetteer import Gazetteer

    seeds = [str(path) for path in sorted((ROOT / "seeds").glob("*.txt"))]
    result = runner.invoke(["geoparse", "--jobs", jobs, *seeds])
    assert result.exit_code == 0, result.stderr
    gazetteer = Gazetteer(data_dir / "mapapp.sqlite3")
    shapes = set()
    for line in result.stdout.splitlines():
        for mention in json.loads(line)["mentions"]:
            place = mention["place"]
            if place is not None:
                assert place["geometry"] == gazetteer.get(place["id"]).geometry, place["id"]
                assert place["geometry_type"] == gazetteer.get(place["id"]).geometry_type
                if place["geometry"] is not None:
                    shapes.add(place["id"])
    assert len(shapes) >= 5, "the seeds name countries and regions: their outlines should be in the output"
    gazetteer.close()
