"""Jinja syntax in article and place text stays data: map pages never evaluate it as a template."""
from __future__ import annotations

import pytest
from mapdata import add_article, data_layer_options

from mapapp.db import connect, transaction
from mapapp.maps.export import export_map

# Evaluated, these would print 49, "yes", and the Python class of the element being rendered.
TEMPLATE_TEXT = ["{{ 7*7 }}", "{% if true %}yes{% endif %}", "{{ this.__class__ }}"]
PLACE_ID = "test:jinja"


@pytest.fixture
def jinja_article(app) -> int:
    """One article named by Jinja syntax, about a place named by Jinja syntax."""
    name = " ".join(TEMPLATE_TEXT)
    conn = connect(app.config["DATABASE"])
    try:
        with transaction(conn):
            conn.execute("INSERT INTO places (id, name, feature, country_code, lat, lon, source)"
                         " VALUES (?, ?, 'city', 'AM', 40.1, 44.5, 'admin')", (PLACE_ID, name))
        return add_article(conn, title=name, source=name, published="2022-05-01",
                           text=f"Headline\nPeople in {name} waited.\n", places={name: PLACE_ID})
    finally:
        conn.close()


def mention_texts(options: dict) -> list[str]:
    """Every place name, title, source and sentence in a data layer's inline data."""
    texts = []
    for feature in options["data"]["features"]:
        texts.append(feature["properties"]["name"])
        for mention in feature["properties"]["mentions"]:
            texts += [mention["title"], mention["source"], mention["sentence"]]
    return texts


@pytest.mark.parametrize("route", ["/articles/{article}", "/places/{place}", "/embed/articles/{article}",
                                   "/embed/places/{place}"])
def test_map_pages_keep_jinja_syntax_as_literal_text(client, jinja_article, route):
    response = client.get(route.format(article=jinja_article, place=PLACE_ID))
    assert response.status_code == 200
    texts = mention_texts(data_layer_options(response.get_data(as_text=True)))
    assert texts and all(all(part in text for part in TEMPLATE_TEXT) for text in texts), texts


def test_exported_file_keeps_jinja_syntax_as_literal_text(app, jinja_article, tmp_path):
    conn = connect(app.config["DATABASE"])
    try:
        export_map(conn, app.config["DATABASE"], tmp_path / "map.html", filters_args={})
    finally:
        conn.close()
    options = data_layer_options((tmp_path / "map.html").read_text(encoding="utf-8"))
    texts = mention_texts(options)
    assert any(PLACE_ID == f["id"] for f in options["data"]["features"])
    jinja_texts = [text for text in texts if "{{" in text or "{%" in text]
    assert jinja_texts and all(all(part in text for part in TEMPLATE_TEXT) for text in jinja_texts), texts
