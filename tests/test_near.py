"""Home region of local news (issue 8 §4): front matter `near:`, `--near`, and DATA_DIR/sources.toml."""
from __future__ import annotations

import json

from mapapp.articles import reresolve
from mapapp.articles.documents import read_document
from mapapp.db import DATABASE_NAME, connect

STORY = "The council in Paris voted on Tuesday to repave the square, the mayor said.\n"
LAMAR = "adm2:US.TX.lamar-county"


def paris(data_dir) -> dict[str, tuple]:
    """{article key: (country, admin1) of its "Paris"} as stored."""
    conn = connect(data_dir / DATABASE_NAME)
    rows = conn.execute("SELECT a.key, p.country_code, p.admin1 FROM mentions m JOIN articles a ON a.id = m.article_id"
                        " JOIN places p ON p.id = m.place_id WHERE m.text = 'Paris'").fetchall()
    conn.close()
    return {row[0]: (row[1], row[2]) for row in rows}


def article_rows(data_dir) -> dict[str, str | None]:
    conn = connect(data_dir / DATABASE_NAME)
    rows = dict(conn.execute("SELECT key, near FROM articles").fetchall())
    conn.close()
    return rows


def test_front_matter_near_is_read(tmp_path):
    path = tmp_path / "local.md"
    path.write_text(f"---\ntitle: Square\nnear: 'Lamar County, Texas'\n---\n{STORY}", encoding="utf-8")
    document = read_document(path)
    assert document.near == "Lamar County, Texas"
    assert "near" not in document.text and document.text.startswith("The council")


def test_front_matter_near_makes_paris_texan_and_survives_reresolution(runner, data_dir, geoparser, tmp_path):
    (tmp_path / "local.md").write_text(f"---\nnear: Lamar County, Texas\n---\n{STORY}", encoding="utf-8")
    (tmp_path / "wire.md").write_text(STORY, encoding="utf-8")
    result = runner.invoke(["ingest", str(tmp_path)])
    assert result.exit_code == 0, result.output
    found = paris(data_dir)
    assert found["local.md"] == ("US", "TX") and found["wire.md"][0] == "FR"
    assert article_rows(data_dir) == {"local.md": LAMAR, "wire.md": None}
    # A gazetteer edit re-parses stored articles: the stored home region must be used again.
    conn = connect(data_dir / DATABASE_NAME)
    ids = [row[0] for row in conn.execute("SELECT id FROM articles")]
    assert reresolve(conn, geoparser, ids) == 0
    conn.close()
    assert paris(data_dir)["local.md"] == ("US", "TX")


def test_ingest_near_applies_to_the_whole_ingest_and_front_matter_wins(runner, data_dir, tmp_path):
    (tmp_path / "one.txt").write_text(STORY, encoding="utf-8")
    (tmp_path / "two.md").write_text(f"---\nnear: France\n---\n{STORY}", encoding="utf-8")
    result = runner.invoke(["ingest", "--near", "Lamar County, Texas", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert paris(data_dir)["one.txt"] == ("US", "TX")
    rows = article_rows(data_dir)
    assert rows["one.txt"] == LAMAR and rows["two.md"] != LAMAR
    assert paris(data_dir)["two.md"][0] == "FR"


def test_an_unknown_near_is_a_one_line_error_and_stores_nothing(runner, data_dir, tmp_path):
    (tmp_path / "one.txt").write_text(STORY, encoding="utf-8")
    result = runner.invoke(["ingest", "--near", "Nowhere Land Xq", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["Error: --near: no place named 'Nowhere Land Xq' in the gazetteer"]
    assert article_rows(data_dir) == {}


def test_an_unknown_front_matter_near_skips_that_file_only(runner, data_dir, tmp_path):
    (tmp_path / "bad.md").write_text(f"---\nnear: Nowhere Land Xq\n---\n{STORY}", encoding="utf-8")
    (tmp_path / "good.txt").write_text(STORY, encoding="utf-8")
    result = runner.invoke(["ingest", str(tmp_path)])
    assert result.exit_code == 1
    assert "bad.md: front matter near: no place named 'Nowhere Land Xq' in the gazetteer" in result.output
    assert set(article_rows(data_dir)) == {"good.txt"}


def test_sources_toml_gives_a_source_its_home_region(runner, data_dir, tmp_path):
    (data_dir / "sources.toml").write_text('["The Paris News"]\nnear = "Lamar County, Texas"\n', encoding="utf-8")
    (tmp_path / "local.md").write_text(f"---\nsource: The Paris News\n---\n{STORY}", encoding="utf-8")
    (tmp_path / "other.md").write_text(f"---\nsource: Le Monde\n---\n{STORY}", encoding="utf-8")
    result = runner.invoke(["ingest", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert paris(data_dir)["local.md"] == ("US", "TX")
    assert paris(data_dir)["other.md"][0] == "FR"


def test_a_bad_sources_toml_is_a_one_line_error(runner, data_dir, tmp_path):
    (tmp_path / "one.txt").write_text(STORY, encoding="utf-8")
    for text, message in (('["The Paris News"]\nnear = \n', "not valid TOML"),
                          ('["The Paris News"]\ncity = "Paris"\n', "needs a `near"),
                          ('["The Paris News"]\nnear = "Nowhere Land Xq"\n', "no place named 'Nowhere Land Xq'")):
        (data_dir / "sources.toml").write_text(text, encoding="utf-8")
        result = runner.invoke(["ingest", str(tmp_path)])
        assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
        assert message in result.output and "sources.toml" in result.output
    assert article_rows(data_dir) == {}


def test_geoparse_honours_front_matter_near_and_the_option(runner, tmp_path):
    local = tmp_path / "local.md"
    local.write_text(f"---\nnear: Lamar County, Texas\n---\n{STORY}", encoding="utf-8")
    wire = tmp_path / "wire.txt"
    wire.write_text(STORY, encoding="utf-8")

    def countries(*args):
        result = runner.invoke(["geoparse", *args])
        assert result.exit_code == 0, result.output
        return [[m["place"]["country_code"] for m in json.loads(line)["mentions"] if m["text"] == "Paris"]
                for line in result.output.splitlines()]

    assert countries(str(local), str(wire)) == [["US"], ["FR"]]
    assert countries("--near", "Lamar County, Texas", str(wire)) == [["US"]]
    result = runner.invoke(["geoparse", "--near", "Nowhere Land Xq", str(wire)])
    assert result.exit_code == 1 and "no place named 'Nowhere Land Xq'" in result.output


def test_an_older_database_gains_the_near_column_and_keeps_its_articles(tmp_path):
    import sqlite3

    from mapapp.migrations import migrate

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, title TEXT NOT NULL"
                 " DEFAULT '', source TEXT NOT NULL DEFAULT '', published TEXT, url TEXT, path TEXT, text TEXT"
                 " NOT NULL, content_hash TEXT NOT NULL, ingested_at TEXT NOT NULL)")
    conn.execute("INSERT INTO articles (key, text, content_hash, ingested_at) VALUES ('a.txt', 'x', 'h', 'now')")
    conn.commit()
    conn.isolation_level = None  # autocommit, as mapapp.db.connect opens it: each migration is a transaction
    migrate(conn)
    assert conn.execute("SELECT key, near FROM articles").fetchall() == [("a.txt", None)]
    conn.close()
