"""Issue 10, fault 6: `mapapp geoparse` reports exactly the mentions `mapapp ingest` stores, for the same file.

geoparse used to read front matter as text (a headline word "Tornado" became Tornado, West Virginia) and
to index the raw file; both now read a file through mapapp.articles.documents.read_document.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_ingest import HTML

from mapapp.db import DATABASE_NAME, connect

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))

# The documents the test suite writes for ingest and geoparse, in every format and oddity they cover.
FIXTURES = {
    "tornado.md": "---\ntitle: Tornado tears through Paris, Texas\nsource: Example News\ndate: 2024-05-01\n"
                  "url: https://news.example/tornado\n---\nResidents of Paris, Texas returned home on Monday. "
                  "Crews from Dallas helped.\n",
    "page.html": HTML,
    "note.md": "# Talks in *Yerevan*\n\nDelegates met in **Baku** ([map](https://x.example/m)).\n",
    "plain.txt": "\ufeffHeadline\r\n\r\nBody in Baku.\r\n",
    "crlf.txt": "Réunion talks.\r\nTroops left Nagorno‑Karabakh’s capital for Yerevan.\r\n",
    "hostile.md": "---\ntitle: 'Talks \u202ein Baku'\n---\nDelegates met in Ba\u00adku\x07 today.\x1b[31m Officials\t"
                  "from Yerevan\u200b arrived; \u202eMoscow\u202c said nothing.\n",
    "entities.html": "<head><title>x</title></head><p>Rain in Baku&#7;&#x202e; and Yerevan &amp; Moscow.</p>",
    "d.txt": "Troops left Yerevan for Baku.",
    "local.md": "---\nnear: Lamar County, Texas\n---\nThe council in Paris voted to repave the square.\n",
}


@pytest.fixture
def documents(tmp_path) -> list[Path]:
    """Every seed and every fixture document, as files."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in FIXTURES.items():
        (folder / name).write_bytes(text.encode("utf-8"))
    return SEEDS + sorted(folder.iterdir())


def test_geoparse_reports_what_ingest_stores_mention_by_mention(runner, data_dir, documents):
    ingested = runner.invoke(["ingest", *map(str, documents)])
    assert ingested.exit_code == 0, ingested.output
    parsed = runner.invoke(["geoparse", *map(str, documents)])
    assert parsed.exit_code == 0, parsed.output
    reported = {record["document"]: record["mentions"] for record in map(json.loads, parsed.stdout.splitlines())}
    assert list(reported) == list(map(str, documents))

    conn = connect(data_dir / DATABASE_NAME)
    for path in documents:
        article = conn.execute("SELECT id, text FROM articles WHERE path = ?", (str(path.resolve()),)).fetchone()
        stored = [tuple(row) for row in conn.execute(
            "SELECT start, end, text, place_id FROM mentions WHERE article_id = ? ORDER BY start", (article["id"],))]
        geoparsed = [(m["start"], m["end"], m["text"], m["place"] and m["place"]["id"]) for m in reported[str(path)]]
        assert stored, path.name  # every document names places: the comparison is not vacuous
        assert geoparsed == stored, path.name
        assert all(article["text"][start:end] == text for start, end, text, _ in geoparsed), path.name
    conn.close()

    tornado = [m["text"] for m in reported[str(documents[-1].parent / "tornado.md")]]
    assert "Tornado" not in tornado and "Dallas" in tornado  # the front matter is not text
