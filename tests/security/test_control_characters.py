"""Issue 7, fault 7: control and bidi characters reach neither the terminal nor the stored and served articles.

A file name with a newline and an ANSI escape used to make a two-line coloured error; ESC/BEL in article text
and U+202E in titles were stored and served.
"""
from __future__ import annotations

import os
import re

import pytest

from mapapp import create_app
from mapapp.db import DATABASE_NAME, connect
from mapapp.escaping import is_invisible, strip_invisible, terminal_text

HOSTILE_NAME = "bad\n\x1b[31mred\x07\u202eelif.txt"
ESCAPED_NAME = "bad\\n\\x1b[31mred\\x07\\u202eelif.txt"


def invisible(text: str) -> list[str]:
    """The invisible characters of `text`, newline and tab excepted."""
    return [ch for ch in text if is_invisible(ch) and ch not in "\n\t"]


@pytest.mark.parametrize("value, shown", [
    ("a\nb", "a\\nb"), ("\x1b[31mred", "\\x1b[31mred"), ("bell\x07", "bell\\x07"), ("tab\there", "tab\\there"),
    ("rtl\u202eoverride", "rtl\\u202eoverride"), ("line\u2028sep", "line\\u2028sep"), ("nul\x00", "nul\\x00"),
    ("undecodable \udcff", "undecodable \\xff"), ("tag \U000e0041", "tag \\U000e0041"),
    ("Stepanakert Ստեփանակերտ 😀 می‌خواهم", "Stepanakert Ստեփանակերտ 😀 می‌خواهم"),  # ZWNJ and letters stay
])
def test_terminal_text_escapes_what_a_terminal_would_act_on(value, shown):
    assert terminal_text(value) == shown


def test_strip_invisible_keeps_newlines_tabs_and_joiners():
    assert strip_invisible("a\x1b[31mb\x07\u202ec\u200bd\u00ade\n\tf\x0cg\u200ch\u200di\U000e0041") == (
        "a[31mbcde\n\tf g\u200ch\u200di")


@pytest.fixture
def hostile_file(tmp_path):
    path = tmp_path / HOSTILE_NAME
    path.write_bytes(b"binary\x00data")
    return path


def test_ingest_error_for_a_hostile_file_name_is_one_escaped_line(runner, hostile_file):
    result = runner.invoke(["ingest", str(hostile_file)])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
    # Every line that shows part of the name (the progress bar's \r-separated redraws aside).
    lines = [line for line in re.split(r"[\r\n]+", result.stderr) if "bad" in line or "elif" in line]
    assert lines == [f"error: {terminal_text(hostile_file)}: binary file, not text"]
    assert ESCAPED_NAME in lines[0]
    assert result.stderr.rstrip().endswith("Error: 1 file could not be ingested")


def test_geoparse_error_for_a_hostile_file_name_is_one_escaped_line(runner, hostile_file):
    result = runner.invoke(["geoparse", str(hostile_file)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"Error: {terminal_text(hostile_file)}: binary file, not text\n"


def test_usage_errors_escape_the_names_click_quotes(runner, tmp_path):
    missing = tmp_path / HOSTILE_NAME
    result = runner.invoke(["evaluate", str(missing)])
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and ESCAPED_NAME in result.stderr
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert ESCAPED_NAME in error


def test_an_undecodable_file_name_is_shown_not_a_crash(runner, tmp_path):
    name = os.fsdecode(b"caf\xe9.txt")  # Latin-1 bytes on a UTF-8 system: a lone surrogate in Python
    result = runner.invoke(["geoparse", str(tmp_path / name)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "caf\\xe9.txt" in result.stderr and "no such file" in result.stderr.lower()


def test_control_and_bidi_characters_are_stripped_from_stored_articles(runner, data_dir, tmp_path):
    markdown = tmp_path / "news.md"
    markdown.write_text(
        "---\ntitle: \"Talks in \u202eukaB\x1b[2J\"\nsource: \"Wire\x07 \u2066Service\u2069\"\n---\n"
        "Delegates met in Ba\u00adku\x07 today.\x1b[31m Officials\tfrom Yerevan\u200b arrived.\n\n"
        "\u202eMoscow\u202c said nothing; \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 in Tehran.\x0cParis too.\n",
        encoding="utf-8")
    page = tmp_path / "page.html"
    page.write_text("<head><title>Baku &#x202e;news&#x1b;</title></head>"
                    "<p>Rain in Baku&#7;&#x202e; and &#x1b;[31mYerevan.</p>",
                    encoding="utf-8")
    named = tmp_path / "\u202eevil\x1b[2Jname.txt"
    named.write_text("Ufa", encoding="utf-8")  # too short for a title line: the title comes from the file name
    result = runner.invoke(["ingest", str(markdown), str(page), str(named)])
    assert result.exit_code == 0, result.output

    conn = connect(data_dir / DATABASE_NAME)
    articles = {row["key"]: row for row in conn.execute("SELECT * FROM articles")}
    assert set(articles) == {"news.md", "page.html", named.name}
    news = articles["news.md"]
    assert news["title"] == "Talks in ukaB[2J" and news["source"] == "Wire Service"
    assert news["text"] == ("Delegates met in Baku today.[31m Officials\tfrom Yerevan arrived.\n\n"
                            "Moscow said nothing; \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 in Tehran. "
                            "Paris too.")
    assert articles["page.html"]["title"] == "Baku news" and articles["page.html"]["text"] == (
        "Rain in Baku and [31mYerevan.")
    assert articles[named.name]["title"] == "evil[2Jname"
    for article in articles.values():
        assert invisible(article["text"]) == [] and invisible(article["title"] + article["source"]) == []

    # Mention offsets index the stored text, and the names split by invisible characters are found.
    mentions = conn.execute("SELECT m.*, a.text AS article FROM mentions m JOIN articles a ON a.id = m.article_id"
                            " WHERE a.key = 'news.md' ORDER BY m.start").fetchall()
    assert [m["text"] for m in mentions][:4] == ["Baku", "Yerevan", "Moscow", "Tehran"]
    for mention in mentions:
        assert mention["article"][mention["start"]:mention["end"]] == mention["text"]
        assert mention["sentence_start"] <= mention["start"] < mention["end"] <= mention["sentence_end"]
    article_id = news["id"]
    conn.close()

    client = create_app(data_dir, {"TESTING": True, "LOAD_SEEDS": False, "SECRET_KEY": "t",
                                   "TILES_URL": ""}).test_client()
    served = client.get(f"/api/articles/{article_id}")
    assert served.status_code == 200
    body = served.get_data(as_text=True)
    assert "\\u202e" not in body.lower() and "\\u001b" not in body.lower() and "\u202e" not in body
    assert served.get_json()["title"] == "Talks in ukaB[2J"
    page_html = client.get(f"/articles/{article_id}").get_data(as_text=True)
    assert "\u202e" not in page_html and "\x1b" not in page_html and "\x07" not in page_html


@pytest.mark.parametrize("url", ["https://news.example/a\u202eb", "https://news.example/\x1b[31m"])
def test_urls_with_invisible_characters_are_refused(runner, data_dir, tmp_path, url):
    path = tmp_path / "a.txt"
    path.write_text(f"---\nurl: \"{url}\"\n---\nTalks in Baku.", encoding="utf-8")
    result = runner.invoke(["ingest", str(path)])
    assert result.exit_code == 1 and "not an http(s) URL" in result.stderr and "\x1b" not in result.stderr
    conn = connect(data_dir / DATABASE_NAME)
    assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0
    conn.close()
