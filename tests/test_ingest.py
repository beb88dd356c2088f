"""Ingest: text, Markdown, HTML, front matter, folders, re-ingest, and bad files (`mapapp ingest`)."""
from __future__ import annotations

import sqlite3

import pytest

from mapapp.articles import ingest_paths
from mapapp.articles.documents import read_document
from mapapp.db import DATABASE_NAME, connect
from mapapp.errors import MalformedFile

HTML = """<!doctype html><html><head><title>Site | Page</title>
<meta property="og:title" content="Peacekeepers leave Stepanakert">
<meta property="og:site_name" content="Example News">
<meta property="article:published_time" content="2024-04-17T09:30:00+04:00">
<link rel="canonical" href="https://news.example/peacekeepers">
<style>p { color: red }</style><script>var Baku = "<p>not text</p>"; alert(1)</script></head>
<body><nav>Home</nav><h1>Peacekeepers leave Stepanakert</h1>
<p>Russian peacekeepers left <b>Stepanakert</b> &amp; headed to Yerevan.</p>
<noscript>Enable JavaScript in Moscow</noscript><p>Talks&nbsp;continue.</p></body></html>"""


def stored(data_dir) -> list[sqlite3.Row]:
    conn = connect(data_dir / DATABASE_NAME)
    rows = conn.execute("SELECT a.*, (SELECT COUNT(*) FROM mentions m WHERE m.article_id = a.id) AS mentions"
                        " FROM articles a ORDER BY a.key").fetchall()
    conn.close()
    return rows


def test_read_plain_text(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_bytes("\ufeffHeadline\r\n\r\nBody in Baku.\r\n".encode("utf-8"))
    document = read_document(path)
    assert (document.text, document.key, document.title, document.url) == ("Headline\n\nBody in Baku.",
                                                                          "plain.txt", "", None)


def test_read_markdown_strips_markup_and_takes_the_heading_as_title(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("# Talks in *Yerevan*\n\nDelegates met in **Baku** ([map](https://x.example/m)).\n",
                    encoding="utf-8")
    document = read_document(path)
    assert document.title == "Talks in Yerevan"
    assert document.text == "Talks in Yerevan\n\nDelegates met in Baku (map)."


def test_read_html_keeps_visible_text_and_meta(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")
    document = read_document(path)
    assert document.text == ("Home\n\nPeacekeepers leave Stepanakert\n\nRussian peacekeepers left Stepanakert & "
                             "headed to Yerevan.\n\nTalks continue.")
    assert "alert" not in document.text and "color" not in document.text and "Moscow" not in document.text
    assert (document.title, document.source, document.published, document.url) == (
        "Peacekeepers leave Stepanakert", "Example News", "2024-04-17", "https://news.example/peacekeepers")
    assert document.key == "https://news.example/peacekeepers"


def test_front_matter_overrides_detection(tmp_path):
    path = tmp_path / "fm.txt"
    path.write_text('---\ntitle: "Front title"\nsource: Wire\ndate: 2021-05-14\nurl: https://wire.example/1\n'
                    "ignored: yes\n---\nMOSCOW, November 12. /TASS/. Talks in Moscow.\n", encoding="utf-8")
    document = read_document(path)
    assert (document.title, document.source, document.published, document.url) == (
        "Front title", "Wire", "2021-05-14", "https://wire.example/1")
    assert document.text == "MOSCOW, November 12. /TASS/. Talks in Moscow."


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
    (b"Caf\xe9 in Baku", "not UTF-8"),
    (b"   \n\n  ", "empty file"),
    (b"<html><script>x()</script></html>", "empty file"),
    (b"---\ntitle: x\n", "never closed"),
    (b"---\ndate: 12 May\n---\nBody", "not a date"),
    (b"---\nurl: javascript:alert(1)\n---\nBody", "not an http(s) URL"),
    (b"---\njust words\n---\nBody", "key: value"),
])
def test_bad_files_raise_malformed_file_naming_the_file(tmp_path, content, message):
    path = tmp_path / ("bad.html" if content.startswith(b"<html") else "bad.txt")
    path.write_bytes(content)
    with pytest.raises(MalformedFile) as caught:
        read_document(path)
    assert message in caught.value.message and str(path) in caught.value.message
    assert "\n" not in caught.value.message


def test_unsupported_suffix_is_refused(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(MalformedFile, match="unsupported file type"):
        read_document(path)


def test_ingest_folder_of_every_format_with_the_cli(runner, data_dir, tmp_path):
    folder = tmp_path / "articles"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.txt").write_text("Talks in Yerevan\n\nDelegates met in Yerevan.", encoding="utf-8")
    (folder / "two.md").write_text("# Baku summit\n\nLeaders met in **Baku**.", encoding="utf-8")
    (folder / "sub" / "three.html").write_text(HTML, encoding="utf-8")
    (folder / "notes.csv").write_text("skipped,not an article", encoding="utf-8")
    (folder / ".hidden.txt").write_text("Hidden file in Moscow.", encoding="utf-8")
    result = runner.invoke(["ingest", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Ingested 3 articles" in result.output
    rows = {row["key"]: row for row in stored(data_dir)}
    assert set(rows) == {"one.txt", "two.md", "https://news.example/peacekeepers"}
    assert rows["two.md"]["title"] == "Baku summit" and rows["two.md"]["text"] == "Baku summit\n\nLeaders met in Baku."
    assert rows["one.txt"]["mentions"] == 2
    html = rows["https://news.example/peacekeepers"]
    assert (html["source"], html["published"]) == ("Example News", "2024-04-17")
    assert "<" not in html["text"] and html["mentions"] >= 2


def test_reingest_updates_instead_of_duplicating(runner, data_dir, tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("Story\n\nTalks in Yerevan.", encoding="utf-8")
    assert runner.invoke(["ingest", str(path)]).exit_code == 0
    [first] = stored(data_dir)
    path.write_text("Story, updated\n\nTalks moved from Yerevan to Baku.", encoding="utf-8")
    assert runner.invoke(["ingest", str(path)]).exit_code == 0
    [second] = stored(data_dir)
    assert second["id"] == first["id"]
    assert second["text"] == "Story, updated\n\nTalks moved from Yerevan to Baku."
    assert second["title"] == "Story, updated" and second["content_hash"] != first["content_hash"]
    conn = connect(data_dir / DATABASE_NAME)
    assert [r[0] for r in conn.execute("SELECT text FROM mentions ORDER BY start")] == ["Yerevan", "Baku"]


def test_bad_files_are_reported_one_line_each_and_the_rest_ingested(runner, data_dir, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("Good\n\nNews from Baku.", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (folder / "latin1.txt").write_bytes("Caf\xe9 in Yerevan".encode("latin-1"))
    (folder / "empty.md").write_text("", encoding="utf-8")
    result = runner.invoke(["ingest", str(folder), str(tmp_path / "missing.txt")])
    assert result.exit_code == 1
    errors = [line for line in result.output.replace("\r", "\n").splitlines() if line.startswith("error:")]
    assert len(errors) == 4
    for name, message in [("binary.txt", "binary file"), ("latin1.txt", "not UTF-8"), ("empty.md", "empty file"),
                          ("missing.txt", "no such file")]:
        assert any(name in line and message in line for line in errors), (name, errors)
    assert "4 files could not be ingested" in result.output
    assert "Traceback" not in result.output
    assert [row["key"] for row in stored(data_dir)] == ["good.txt"]


def test_ingest_needs_a_path(runner):
    result = runner.invoke(["ingest"])
    assert result.exit_code == 2 and "Missing argument" in result.output


def test_ingest_help(runner):
    result = runner.invoke(["ingest", "--help"])
    assert result.exit_code == 0 and "optional front matter" in " ".join(result.output.split())


def test_ingest_paths_raises_without_an_error_handler(data_dir, geoparser, tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"\x00")
    conn = connect(data_dir / DATABASE_NAME)
    with pytest.raises(MalformedFile):
        ingest_paths(conn, geoparser, [tmp_path / "bad.txt"], progress=False)
    assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0


def _stored_mentions(data_dir) -> list[tuple]:
    conn = connect(data_dir / DATABASE_NAME)
    rows = conn.execute(
        "SELECT a.id, a.key, a.title, a.source, a.published, a.near, a.text, m.start, m.end, m.kind, m.place_id,"
        " m.score, m.sentence_start, m.sentence_end, m.alternatives FROM articles a"
        " LEFT JOIN mentions m ON m.article_id = a.id ORDER BY a.id, m.start").fetchall()
    conn.close()
    return [tuple(row) for row in rows]


def test_ingest_jobs_2_stores_what_one_process_stores(runner, data_dir, gazetteer_template, tmp_path):
    from conftest import copy_data_dir

    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(12):
        (folder / f"{number:02d}.txt").write_text(f"Story {number}\n\nTalks in Yerevan and Baku, day {number}.",
                                                  encoding="utf-8")
    (folder / "03.txt").write_text("---\nnear: Lamar County, Texas\n---\nNews from Paris.", encoding="utf-8")
    (folder / "07.txt").write_bytes(b"\x00\x01binary")  # a worker's error reaches the one report, in order
    other = copy_data_dir(gazetteer_template, tmp_path / "other")
    one = runner.invoke(["ingest", "--jobs", "1", "--near", "Armenia", str(folder)])
    two = runner.invoke(["ingest", "--jobs", "2", "--near", "Armenia", "--data", str(other), str(folder)])
    assert one.exit_code == two.exit_code == 1
    for result in (one, two):
        errors = [line for line in result.output.replace("\r", "\n").splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "07.txt" in errors[0] and "binary file" in errors[0]
    stored_one, stored_two = _stored_mentions(data_dir), _stored_mentions(other)
    assert len({row[0] for row in stored_one}) == 11 and stored_one == stored_two
    assert {row[5] for row in stored_one if row[1] == "03.txt"} != {row[5] for row in stored_one if row[1] == "00.txt"}
