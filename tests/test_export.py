"""`mapapp export`: one self-contained HTML file with the map, its data and its popups' articles inline."""
from __future__ import annotations

import re

import pytest
from mapdata import data_layer_options

from mapapp.db import connect
from mapapp.maps.vendor import MAP_ASSETS


@pytest.fixture
def outdir(tmp_path):
    """An empty folder for exported files (the data folder lives beside it)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def export(runner, outdir, *args, name="map.html"):
    """Run `mapapp export --out <outdir>/name ARGS`; returns (result, path)."""
    out = outdir / name
    return runner.invoke(["export", "--out", str(out), *args]), out


def test_export_is_self_contained(runner, sample, outdir):
    result, out = export(runner, outdir)
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output and "5 places from 3 articles" in result.output
    html = out.read_text(encoding="utf-8")
    # no external script, stylesheet or image: everything is inline
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+rel=\"stylesheet\"", html)
    leaflet = next(a for a in MAP_ASSETS if a.url.endswith("/leaflet.js")).path.read_text(encoding="utf-8")
    assert leaflet[:2000] in html
    assert 'url("data:image/png;base64,' in html  # leaflet.css images as data: URIs
    options = data_layer_options(html)
    assert options["dataUrl"] is None
    assert all(v.startswith("data:image/png;base64,") for v in options["icons"].values())
    ids = {f["id"] for f in options["data"]["features"]}
    assert ids == {sample[k] for k in ("yerevan", "baku", "armenia", "corridor", "karabakh")}
    # the offline basemap travels with it
    outlines = re.search(r"mapapp\.outlineBasemap\(map_\w+,\s*(\w+), ", html)
    assert outlines and '"data":{"type":"FeatureCollection","features":[{' in html


def test_export_carries_the_stored_shapes_since_it_cannot_ask_for_finer(runner, sample, outdir, client):
    result, out = export(runner, outdir)
    assert result.exit_code == 0, result.output
    options = data_layer_options(out.read_text(encoding="utf-8"))
    assert options["detailZoom"] is None and "zoom=" not in (options["initialUrl"] or "")
    stored = {f["id"]: f["geometry"] for f in client.get("/api/features").get_json()["features"]}
    assert {f["id"]: f["geometry"] for f in options["data"]["features"]} == stored


def density_options(html: str) -> dict:
    """The JSON options an exported file passes to mapapp.densityView."""
    import json

    match = re.search(r"mapapp\.densityView\(data_layer_\w+, ", html)
    assert match, "no density view in the file"
    return json.JSONDecoder().raw_decode(html, match.end())[0]


def test_export_carries_the_density_view_with_every_answer_it_can_ask_for(runner, sample, outdir, client):
    result, out = export(runner, outdir, "--source", "Armenpress", "--source", "Azernews")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert 'id="view-density"' in html and 'id="density-play"' in html  # the switch and the timeline
    options = density_options(html)
    assert options["url"] is None and set(options["ids"]) >= {"markers", "density", "play", "by", "count", "step"}
    data = options["data"]
    assert len(data["views"]) == 12  # country/admin1 x articles/mentions x totals, week, month
    for key, answer in data["views"].items():
        by, count, step = key.split("/")
        served = client.get("/api/density", query_string={
            "by": by, "count": count, **({"step": step} if step else {}),
            "source": ["Armenpress", "Azernews"]}).get_json()
        # The file's answer is the server's for the exported filters, its outlines kept once per level.
        for feature in served["features"]:
            assert data["outlines"][by][feature["id"]] == feature.pop("geometry")
        assert answer == served
    assert data["views"]["country/articles/"]["features"]  # something to shade


def test_export_of_one_article_or_place_has_no_density_view(runner, sample, outdir):
    for args in (["--article", str(sample["a1"])], ["--place", sample["karabakh"]]):
        result, out = export(runner, outdir, *args)
        assert result.exit_code == 0, result.output
        html = out.read_text(encoding="utf-8")
        assert "mapapp.densityView(" not in html and 'id="view-density"' not in html


def test_export_without_base_url_carries_the_article_texts(runner, sample, outdir, data_dir):
    result, out = export(runner, outdir)
    assert result.exit_code == 0, result.output
    options = data_layer_options(out.read_text(encoding="utf-8"))
    assert options["links"]["mode"] == "reader"
    conn = connect(data_dir / "mapapp.sqlite3")
    for article_id in (sample["a1"], sample["a2"], sample["a3"]):
        stored = conn.execute("SELECT text, title FROM articles WHERE id = ?", (article_id,)).fetchone()
        carried = options["articles"][str(article_id)]
        assert carried["text"] == stored["text"] and carried["title"] == stored["title"]
        spans = conn.execute("SELECT start, end, place_id FROM mentions WHERE article_id = ? ORDER BY start",
                             (article_id,)).fetchall()
        assert carried["mentions"] == [list(span) for span in spans]
    conn.close()
    assert 'id="reader"' in out.read_text(encoding="utf-8")


def test_export_with_base_url_links_to_the_server(runner, sample, outdir):
    result, out = export(runner, outdir, "--base-url", "https://maps.example.org/news/")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    options = data_layer_options(html)
    assert options["links"] == {"mode": "server", "base": "https://maps.example.org/news"}
    assert options["articles"] is None and 'id="reader"' not in html


def test_export_one_article(runner, sample, outdir):
    result, out = export(runner, outdir, "--article", str(sample["a2"]))
    assert result.exit_code == 0, result.output
    options = data_layer_options(out.read_text(encoding="utf-8"))
    assert {f["id"] for f in options["data"]["features"]} == {sample["baku"], sample["corridor"], sample["karabakh"]}
    assert set(options["articles"]) == {str(sample["a2"])}


def test_export_one_place(runner, sample, outdir):
    result, out = export(runner, outdir, "--place", sample["corridor"])
    assert result.exit_code == 0, result.output
    (feature,) = data_layer_options(out.read_text(encoding="utf-8"))["data"]["features"]
    assert feature["id"] == sample["corridor"] and feature["geometry"]["type"] == "Polygon"
    assert {m["article_id"] for m in feature["properties"]["mentions"]} == {sample["a1"], sample["a2"]}


def test_export_filters_like_the_api(runner, sample, outdir):
    result, out = export(runner, outdir, "--source", "Azernews", "--from", "2023-01-01", "--feature", "city")
    assert result.exit_code == 0, result.output
    (feature,) = data_layer_options(out.read_text(encoding="utf-8"))["data"]["features"]
    assert feature["id"] == sample["baku"]


def test_export_without_tiles_uses_only_the_outline_basemap(runner, sample, outdir):
    result, out = export(runner, outdir, "--tiles", "")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "L.tileLayer" not in html
    assert re.search(r"mapapp\.outlineBasemap\(map_\w+,\s*null, ", html)


@pytest.mark.parametrize("args, message", [
    (["--from", "2022-13-01"], "'from' must be a date"),
    (["--article", "999999"], "no article with id 999999"),
    (["--article", "abc"], "no article with id 'abc'"),
    (["--place", "gn:0"], "no place with id 'gn:0'"),
    (["--feature", "spaceport"], "unknown feature type"),
    (["--base-url", "javascript:alert(1)"], "--base-url must be an http(s) URL"),
    (["--base-url", "ftp://example.org"], "--base-url must be an http(s) URL"),
])
def test_export_errors_are_one_line_and_leave_the_old_file(runner, sample, outdir, args, message):
    out = outdir / "map.html"
    out.write_text("previous export")
    result = runner.invoke(["export", "--out", str(out), *args])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and message in result.output
    assert "Traceback" not in result.output
    assert out.read_text() == "previous export"
    assert [p.name for p in outdir.iterdir()] == ["map.html"]  # no temporary file left behind


def test_export_article_and_place_together_is_a_usage_error(runner, sample, outdir):
    result, out = export(runner, outdir, "--article", "1", "--place", "gn:1")
    assert result.exit_code == 2 and "not both" in result.output
    assert not out.exists()


@pytest.mark.parametrize("target, message", [("missing-folder/map.html", "does not exist"), (".", "is a directory")])
def test_export_to_a_bad_path_fails_cleanly(runner, sample, outdir, target, message):
    result = runner.invoke(["export", "--out", str(outdir / target)])
    assert result.exit_code != 0 and message in result.output


def test_export_without_a_database_says_so(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from mapapp.cli import main

    result = CliRunner().invoke(main, ["export", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "m.html")])
    assert result.exit_code == 1 and "no database" in result.output
    assert not (tmp_path / "empty").exists()


def test_export_replaces_an_existing_file_atomically(runner, sample, outdir):
    out = outdir / "map.html"
    out.write_text("old")
    result = runner.invoke(["export", "--out", str(out)])
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>") or "<!doctype html>" in out.read_text()
    assert sorted(p.name for p in outdir.iterdir()) == ["map.html"]


def test_export_help(runner):
    result = runner.invoke(["export", "--help"])
    assert result.exit_code == 0
    for option in ("--out", "--article", "--place", "--source", "--from", "--to", "--base-url", "--data"):
        assert option in result.output
