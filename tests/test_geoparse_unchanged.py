"""The speed work changes no output: the seeds parse exactly as stored, the name index file follows edits,
and `--jobs 2` writes what one process writes.

Regenerate the stored output only when a change of results is intended (the accuracy issue's work):
    PYTHONPATH=$PWD python tests/test_geoparse_unchanged.py DATA_DIR > tests/data/seeds_geoparse_expected.jsonl
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ROOT / "tests" / "data" / "seeds_geoparse_expected.jsonl"


def seed_records(parser) -> list[str]:
    """One JSON line per seed: every mention with its offsets, kind, place id, score and alternatives."""
    from mapapp.articles.documents import read_document

    lines = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        mentions = [[m.start, m.end, m.text, m.kind, m.place.id if m.place else None, m.score,
                     [list(alternative) for alternative in m.alternatives]]
                    for m in parser.parse(read_document(path).text)]
        lines.append(json.dumps({"seed": path.name, "mentions": mentions}, ensure_ascii=False))
    return lines


def test_the_seeds_parse_exactly_as_stored(geoparser):
    assert seed_records(geoparser) == EXPECTED.read_text(encoding="utf-8").splitlines()


def test_the_name_index_opens_from_its_file_and_parses_alike(data_dir, geoparser):
    from mapapp.gazetteer import Gazetteer
    from mapapp.geoparse import Geoparser

    database = data_dir / "mapapp.sqlite3"
    first = Geoparser(Gazetteer(database))
    first.name_index()
    assert any((data_dir / "mapapp.sqlite3.names").iterdir()), "no index file written"
    second = Geoparser(Gazetteer(database))
    index = second.name_index()
    assert not isinstance(index.keys, frozenset), "the index was rebuilt from SQLite instead of opened"
    assert seed_records(second) == seed_records(geoparser)


def test_the_index_file_follows_an_edit(data_dir):
    from mapapp.db import connect
    from mapapp.gazetteer import Gazetteer
    from mapapp.geoparse import Geoparser
    from mapapp.review import mark_not_place

    database = data_dir / "mapapp.sqlite3"
    parser = Geoparser(Gazetteer(database))
    text = "Talks were held in Yerevan on Monday."
    assert [m.text for m in parser.parse(text)] == ["Yerevan"]
    conn = connect(database)
    mark_not_place(conn, "Yerevan", "editor")
    conn.close()
    assert parser.gazetteer.refresh_if_stale()
    assert parser.parse(text) == []
    # A new process (a new parser) opens the index written for the new version, without Yerevan.
    fresh = Geoparser(Gazetteer(database))
    assert "yerevan" not in fresh.name_index().keys
    assert fresh.parse(text) == []


def test_jobs_2_writes_what_one_process_writes_in_the_same_order(runner, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe not utf-8")
    seeds = [str(path) for path in sorted((ROOT / "seeds").glob("*.txt"))]
    files = [seeds[0], str(bad), *reversed(seeds[1:])]
    for output_format in ("jsonl", "json", "text"):
        one = runner.invoke(["geoparse", "--jobs", "1", "--format", output_format, *files])
        two = runner.invoke(["geoparse", "--jobs", "2", "--format", output_format, *files])
        assert one.exit_code == two.exit_code == 1
        assert two.stdout == one.stdout and two.stderr == one.stderr
        assert str(bad) in two.stderr
    as_json = runner.invoke(["geoparse", "--jobs", "2", "--format", "json", *files]).stdout
    assert [record["document"] for record in json.loads(as_json)] == [seeds[0], *reversed(seeds[1:])]


if __name__ == "__main__":
    from mapapp.gazetteer import Gazetteer
    from mapapp.geoparse import Geoparser

    print("\n".join(seed_records(Geoparser(Gazetteer(Path(sys.argv[1]) / "mapapp.sqlite3")))))
