"""The Flask app's shared Geoparser (`get_geoparser`): one instance per app, following gazetteer edits."""
from __future__ import annotations

from mapapp.geoparse import Geoparser, get_geoparser


def test_get_geoparser_is_shared_and_parses(app):
    with app.app_context():
        parser = get_geoparser()
        assert isinstance(parser, Geoparser)
        assert get_geoparser() is parser
        assert app.extensions["mapapp.geoparser"] is parser
        [mention] = parser.parse("Talks in Yerevan.")
        assert mention.place.country_code == "AM"


def test_get_geoparser_sees_an_edit_made_by_another_process(app, data_dir):
    """Another process marks "Parukh" not a place and bumps gazetteer_version: the shared parser follows."""
    from mapapp.db import DATABASE_NAME, connect, transaction

    with app.app_context():
        assert [m.text for m in get_geoparser().parse("Shelling near Parukh.")] == ["Parukh"]
    conn = connect(data_dir / DATABASE_NAME)
    with transaction(conn):
        conn.execute("INSERT INTO not_places (key, name, user, at) VALUES ('parukh', 'Parukh', 'test', 'now')")
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'gazetteer_version'")
    conn.close()
    with app.app_context():
        assert get_geoparser().parse("Shelling near Parukh.") == []
