"""Test helper for the map tests: store an article and its mentions straight into the database."""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3

from mapapp.db import transaction


def place_id(conn: sqlite3.Connection, name: str, feature: str | None = None) -> str:
    """The id of the most populous gazetteer place called `name` (optionally of one feature type)."""
    sql = "SELECT id FROM places WHERE name = ?" + (" AND feature = ?" if feature else "")
    row = conn.execute(sql + " ORDER BY population DESC LIMIT 1", (name, feature) if feature else (name,)).fetchone()
    assert row, f"no place {name!r} in the gazetteer"
    return row[0]


def add_article(conn: sqlite3.Connection, *, text: str, places: dict[str, str], title: str = "", source: str = "",
                published: str | None = None, url: str | None = None, key: str | None = None) -> int:
    """Store an article; every occurrence of each name in `places` becomes a mention of that place id.

    Sentences are the text between full stops / line breaks, which is all these tests need.
    """
    key = key or hashlib.sha1((title + text).encode()).hexdigest()
    with transaction(conn):
        article_id = conn.execute(
            "INSERT INTO articles (key, title, source, published, url, path, text, content_hash, ingested_at)"
            " VALUES (?, ?, ?, ?, ?, NULL, ?, ?, '2024-01-01T00:00:00Z') RETURNING id",
            (key, title, source, published, url, text, hashlib.sha1(text.encode()).hexdigest())).fetchone()[0]
        for name, pid in places.items():
            for match in re.finditer(re.escape(name), text):
                start, end = match.span()
                s_start = max(text.rfind(".", 0, start), text.rfind("\n", 0, start)) + 1
                ends = [i for i in (text.find(".", end), text.find("\n", end)) if i >= 0]
                s_end = min(ends) + 1 if ends else len(text)
                conn.execute(
                    'INSERT INTO mentions (article_id, start, "end", text, kind, place_id, score, sentence_start,'
                    " sentence_end, alternatives) VALUES (?, ?, ?, ?, 'place', ?, 1.0, ?, ?, ?)",
                    (article_id, start, end, name, pid, s_start, s_end, json.dumps([])))
    return article_id


def data_layer_options(html: str) -> dict:
    """The JSON options a rendered map page passes to mapapp.dataLayer (data, state, links, ...)."""
    import re

    match = re.search(r"mapapp\.dataLayer\(map_\w+, ", html)
    assert match, "no data layer on the page"
    options, _end = json.JSONDecoder().raw_decode(html, match.end())
    return options


def seed_sample(conn: sqlite3.Connection) -> dict:
    """Three small articles naming points, a region, a corridor and a country; returns their ids by name."""
    ids = {"yerevan": place_id(conn, "Yerevan", "city"), "baku": place_id(conn, "Baku", "city"),
           "armenia": place_id(conn, "Armenia", "country"), "corridor": "cur:lachin-corridor",
           "karabakh": "cur:nagorno-karabakh"}
    ids["a1"] = add_article(
        conn, title="Talks in Yerevan", source="Armenpress", published="2022-03-26", url="https://example.org/a1",
        text="Talks in Yerevan\nOfficials met in Yerevan on Monday. Armenia asked for help.\n"
             "Traffic on the Lachin corridor stopped.",
        places={"Yerevan": ids["yerevan"], "Armenia": ids["armenia"], "Lachin corridor": ids["corridor"]})
    ids["a2"] = add_article(
        conn, title="Baku statement", source="Azernews", published="2023-12-30",
        text="Baku statement\nBaku said the Lachin corridor reopened. Nagorno-Karabakh was calm.",
        places={"Baku": ids["baku"], "Lachin corridor": ids["corridor"], "Nagorno-Karabakh": ids["karabakh"]})
    ids["a3"] = add_article(
        conn, title="Undated note", source="", published=None,
        text="Undated note\nA note about Armenia.", places={"Armenia": ids["armenia"]})
    return ids
