"""Articles: metadata detected from the seeds, sentence bounds, stored mentions, re-resolution and seeds."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from mapapp.articles import affected_articles, ingest_paths, load_seeds, preview_reresolve, reresolve
from mapapp.articles.metadata import detect_metadata
from mapapp.articles.sentences import Sentences, sentence_bounds
from mapapp.db import DATABASE_NAME, connect, transaction
from mapapp.gazetteer.names import normalise_name
from mapapp.maps.features import data_version

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

# What each seed's own text states. Where it is silent, the field stays empty even if gold.json knows more:
# 001 (Meduza) and 002 (TASS) never state the year, and 003 never names The Jerusalem Post.
EXPECTED = {
    "000_a684e645084e4b31.txt": ("Artsakh authorities officially ask Putin to ramp up peacekeeping presence amid "
                                 "Azerbaijani ceasefire violations", "Armenpress", "2022-03-26"),
    "001_bd64627ce80388ef.txt": ("Pashinyan asks Putin for military aid amid tensions at the Armenian-Azerbaijani "
                                 "border", "Meduza", None),
    "002_78ba372d644b4f3f.txt": ("Putin decrees to send 1,960 peacekeepers to Karabakh, rotate personnel every six "
                                 "months", "TASS", None),
    "003_3f978acfd462ee6c.txt": ("Russian MOD: Ceasefire violated again by Azerbaijani forces", "", "2022-04-13"),
    "004_2845e4e534468d56.txt": ("Baku, Moscow ponder solution to issue of peacekeepers in Garabagh", "Azernews",
                                 "2023-12-30"),
}


@pytest.fixture
def conn(seeded_template, tmp_path):
    from conftest import copy_data_dir

    folder = copy_data_dir(seeded_template, tmp_path / "seeded")
    connection = connect(folder / DATABASE_NAME)
    yield connection
    connection.close()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_metadata_is_detected_from_the_text(name):
    title, source, published = EXPECTED[name]
    found = detect_metadata((SEEDS / name).read_text(encoding="utf-8"))
    assert found == {"title": title, "source": source, "published": published}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_detected_metadata_agrees_with_gold_where_the_text_states_it(name, shared_dir):
    gold = json.loads((shared_dir / "seeds" / "gold.json").read_text(encoding="utf-8"))["articles"][name]
    found = detect_metadata((SEEDS / name).read_text(encoding="utf-8"))
    # Never a wrong value: either gold's value or empty (the text does not say).
    assert found["source"] in (gold["source"], "")
    assert found["published"] in (gold["date"], None)


@pytest.mark.parametrize("text, expected", [
    ("MOSCOW, November 12. /TASS/. Putin signed.", {"source": "TASS", "published": None}),
    ("YEREVAN, MARCH 26, 2021, ARMENPRESS. Talks.", {"source": "Armenpress", "published": "2021-03-26"}),
    ("Title here\n\nBy X\nPublished: APRIL 13, 2022 17:28\nBody.", {"source": "", "published": "2022-04-13"}),
    ("Title here\nFriday May 24 2024\nBody text.", {"source": "", "published": None}),
    ("Talks resumed, Interfax reported on May 14.", {"source": "", "published": None}),
    ("Talks resumed in the capital, Azernews reports.", {"source": "Azernews", "published": None}),
    ("Title\n30 December 2023 12:59 (UTC+04:00)\nBody.", {"source": "", "published": "2023-12-30"}),
    ("Title\nPublished: FEBRUARY 30, 2022\nBody.", {"source": "", "published": None}),  # no such day
])
def test_metadata_patterns(text, expected):
    found = detect_metadata(text)
    assert {key: found[key] for key in expected} == expected


def test_title_skips_navigation_and_dates():
    assert detect_metadata("All news\n\nFriday May 24 2024\n\nReal headline here\n\nBody.")["title"] == \
        "Real headline here"


def test_sentence_bounds_split_on_stops_and_lines_but_not_abbreviations():
    text = "Dr. Smith flew to St. Petersburg. He met the U.S. envoy!\nHeading line\nLast one? Yes."
    sentences = [text[start:end] for start, end in sentence_bounds(text)]
    assert sentences == ["Dr. Smith flew to St. Petersburg.", "He met the U.S. envoy!", "Heading line",
                         "Last one?", "Yes."]


def test_sentence_around_a_span_crossing_a_split_covers_it():
    text = "He went to St. Louis. Then home."
    sentences = Sentences(text)
    start = text.index("Then")
    assert text[slice(*sentences.around(start, start + 4))] == "Then home."


def test_seeds_are_stored_with_detected_metadata_and_mentions(conn):
    rows = {row["key"]: row for row in conn.execute("SELECT * FROM articles")}
    assert set(rows) == set(EXPECTED)
    for key, (title, source, published) in EXPECTED.items():
        row = rows[key]
        assert (row["title"], row["source"], row["published"]) == (title, source, published)
        assert row["text"] == (SEEDS / key).read_text(encoding="utf-8").strip()
        assert row["path"].endswith(key)
        assert len(row["content_hash"]) == 64
    mentions = conn.execute("SELECT m.*, a.text AS article FROM mentions m JOIN articles a ON a.id = m.article_id")
    mentions = mentions.fetchall()
    assert len(mentions) > 50
    for m in mentions:
        assert m["article"][m["start"]:m["end"]] == m["text"]
        assert m["sentence_start"] <= m["start"] < m["end"] <= m["sentence_end"]
        assert m["kind"] in ("place", "demonym")
        assert isinstance(json.loads(m["alternatives"]), list)
    resolved = {(m["text"], m["place_id"]) for m in mentions}
    assert ("Lachin corridor", "cur:lachin-corridor") in resolved
    # The sentence of the dateline mention is the dateline itself.
    moscow = next(m for m in mentions if m["text"] == "MOSCOW")
    assert moscow["article"][moscow["sentence_start"]:moscow["sentence_end"]] == \
        "MOSCOW, November 12. /TASS/."


def test_load_seeds_does_nothing_when_articles_exist(conn, geoparser):
    before = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    assert load_seeds(conn, geoparser, progress=False) == []
    assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == before == 5


def test_load_seeds_ingests_the_seed_folder_into_an_empty_database(data_dir, geoparser):
    conn = connect(data_dir / DATABASE_NAME)
    ids = load_seeds(conn, geoparser, progress=False)
    assert len(ids) == 5
    assert {row[0] for row in conn.execute("SELECT key FROM articles")} == set(EXPECTED)


def test_affected_articles_by_name_and_by_place(conn):
    ids = {row["key"]: row["id"] for row in conn.execute("SELECT id, key FROM articles")}
    # Whole words only, case and diacritics folded: "Garabagh" is only in the Azernews article.
    assert affected_articles(conn, names=["GARABAGH"]) == [ids["004_2845e4e534468d56.txt"]]
    assert affected_articles(conn, names=["Garabag"]) == []
    assert affected_articles(conn, names=["Sev Lake"]) == [ids["001_bd64627ce80388ef.txt"]]
    corridor = sorted(row[0] for row in conn.execute(
        "SELECT DISTINCT article_id FROM mentions WHERE place_id = 'cur:lachin-corridor'"))
    assert corridor and affected_articles(conn, place_ids=["cur:lachin-corridor"]) == corridor
    assert affected_articles(conn) == []


def _normalising_every_text(conn, names) -> list[int]:
    """affected_articles by names as it was before the word index: every text normalised and searched."""
    keys = sorted({key for key in map(normalise_name, names) if key})
    if not keys:
        return []
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, keys)) + r")(?!\w)")
    return sorted(article_id for article_id, text in conn.execute("SELECT id, text FROM articles")
                  if pattern.search(normalise_name(text)))


TRICKY_TEXTS = [
    "Flights to O’Hare and the U.S. were cancelled; Côte d'Ivoire (Abidjan) and St. John's replied.",
    "İstanbul, Straße, ﬁnal: Ağdam–Füzuli road, Nagorno-Karabakh/Artsakh, 1,960 peacekeepers.",
    "Paris' mayor met Parisians in \ue000Lyon and «Nice»; e-mail: a_b@c.d; Sev\u00a0Lake; x.y.z",
    "Ends with a name: Yerevan",
]


def test_affected_articles_by_name_finds_what_normalising_every_text_finds(conn, geoparser, tmp_path):
    (tmp_path / "ingested.txt").write_text("Note\n\n" + TRICKY_TEXTS[0], encoding="utf-8")
    ingest_paths(conn, geoparser, [tmp_path / "ingested.txt"], progress=False)  # indexed as it is saved
    with transaction(conn):  # written straight into the table: indexed on first use
        for number, text in enumerate(TRICKY_TEXTS[1:]):
            conn.execute("INSERT INTO articles (key, text, content_hash, ingested_at) VALUES (?, ?, 'h', 'now')",
                         (f"straight-{number}", text))
    texts = [row[0] for row in conn.execute("SELECT text FROM articles")]
    rng = random.Random(7)
    names = ["U.S.", "US", "O'Hare", "o hare", "Cote d’Ivoire", "St John's", "Istanbul", "strasse", "final",
             "Agdam", "Füzuli", "Nagorno Karabakh", "Karabakh Artsakh", "1960", "1,960", "Paris", "Paris'",
             "Lyon", "Nice", "a b", "Sev Lake", "x y z", "Yerevan", "Garabag", "'", "-", "(", "Abidjan)", ""]
    for _ in range(300):  # runs of words as written, and slices that cut words in two
        text = rng.choice(texts)
        words = text.split()
        start = rng.randrange(len(words))
        names.append(" ".join(words[start:start + rng.randint(1, 3)]))
        cut = rng.randrange(len(text))
        names.append(text[cut:cut + rng.randint(1, 12)])
    for name in names:
        assert affected_articles(conn, names=[name]) == _normalising_every_text(conn, [name]), name
    for _ in range(30):
        group = rng.sample(names, 5)
        assert affected_articles(conn, names=group) == _normalising_every_text(conn, group), group
    # The index follows texts that change or go (the triggers drop their rows; the next use adds them back).
    with transaction(conn):
        conn.execute("UPDATE articles SET text = 'Now only Lyon.' WHERE key = 'straight-1'")
        conn.execute("DELETE FROM articles WHERE key = 'straight-2'")
    for name in ["Paris", "Lyon", "Yerevan", "Nice"]:
        assert affected_articles(conn, names=[name]) == _normalising_every_text(conn, [name]), name


def test_reresolve_restores_mentions_changed_behind_its_back(conn, geoparser):
    stored = conn.execute("SELECT article_id, start, place_id FROM mentions WHERE place_id = 'cur:lachin-corridor'"
                          ).fetchall()
    with transaction(conn):
        conn.execute("UPDATE mentions SET place_id = 'gn:0-wrong' WHERE place_id = 'cur:lachin-corridor'")
    articles = sorted({row["article_id"] for row in stored})
    version = data_version(conn)
    assert preview_reresolve(conn, geoparser, articles) == (len(stored), len(articles))
    assert conn.execute("SELECT COUNT(*) FROM mentions WHERE place_id = 'gn:0-wrong'").fetchone()[0] == len(stored)
    assert reresolve(conn, geoparser, articles) == len(stored)
    assert conn.execute("SELECT COUNT(*) FROM mentions WHERE place_id = 'gn:0-wrong'").fetchone()[0] == 0
    assert conn.execute("SELECT article_id, start, place_id FROM mentions WHERE place_id = 'cur:lachin-corridor'"
                        ).fetchall() == stored
    assert data_version(conn) != version
    # Nothing left to change.
    assert preview_reresolve(conn, geoparser, articles) == (0, 0)
    assert reresolve(conn, geoparser, articles) == 0


def test_reresolve_ignores_unknown_article_ids(conn, geoparser):
    assert reresolve(conn, geoparser, [999999]) == 0
    assert preview_reresolve(conn, geoparser, []) == (0, 0)


def test_ingest_paths_returns_ids_of_stored_articles(data_dir, geoparser, tmp_path):
    (tmp_path / "a.txt").write_text("Talks in Yerevan.\n\nOfficials met in Yerevan and Baku.", encoding="utf-8")
    conn = connect(data_dir / DATABASE_NAME)
    ids = ingest_paths(conn, geoparser, [tmp_path / "a.txt"], progress=False)
    row = conn.execute("SELECT * FROM articles WHERE id = ?", ids).fetchone()
    assert (row["key"], row["title"]) == ("a.txt", "Talks in Yerevan.")
    names = [r[0] for r in conn.execute("SELECT text FROM mentions WHERE article_id = ? ORDER BY start", ids)]
    assert names == ["Yerevan", "Yerevan", "Baku"]


def test_affected_articles_folds_diacritics_and_apostrophes(conn, geoparser, tmp_path):
    (tmp_path / "x.txt").write_text("Note\n\nThe streets of Şuşa’s old town were quiet.", encoding="utf-8")
    [article_id] = ingest_paths(conn, geoparser, [tmp_path / "x.txt"], progress=False)
    assert affected_articles(conn, names=["Susa's"]) == [article_id]
    assert affected_articles(conn, names=["ŞUŞA"]) == [article_id]
    assert affected_articles(conn, names=["Şuş"]) == []
