"""Downloads of a map view (GeoJSON, CSV, KML, GeoPackage) and the density API, checked with real readers:
Python's csv, GDAL's ogrinfo (Debian gdal-bin), SQLite and an XML parser."""
from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET

import pytest
from mapdata import add_article

from mapapp.db import opened
from mapapp.maps.density import quantile_breaks
from mapapp.maps.downloads import CSV_COLUMNS, spreadsheet_safe

OGRINFO = shutil.which("ogrinfo")
needs_ogrinfo = pytest.mark.skipif(OGRINFO is None, reason="ogrinfo is missing: install Debian gdal-bin"
                                   " (`make gdal`, which `make test` runs)")
HOSTILE_TITLE = 'Talks <script>alert(1)</script> & "quotes"\nsecond line'
HOSTILE_SOURCE = "=cmd|' /C calc'!A0"
HOSTILE_PLACE = '<img src=x onerror=alert(1)> "Ar" & \'co\''


def ogrinfo(path) -> str:
    """`ogrinfo -al -so` of a file: the summary GDAL reads, or the test fails with GDAL's message."""
    result = subprocess.run([OGRINFO, "-ro", "-al", "-so", str(path)], check=False, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def layer_counts(summary: str) -> dict[str, int]:
    """Layer name -> feature count from an ogrinfo summary."""
    counts, name = {}, None
    for line in summary.splitlines():
        if line.startswith("Layer name: "):
            name = line.split(": ", 1)[1]
        elif line.startswith("Feature Count: ") and name:
            counts[name] = int(line.split(": ", 1)[1])
    return counts


@pytest.fixture
def hostile(sample, data_dir):
    """The sample articles plus one with hostile title, source and a hostile place name (Armenia renamed)."""
    with opened(data_dir / "mapapp.sqlite3") as conn:
        conn.execute("UPDATE places SET name = ?, version = version + 1 WHERE id = ?",
                     (HOSTILE_PLACE, sample["armenia"]))
        sample["hostile"] = add_article(conn, title=HOSTILE_TITLE, source=HOSTILE_SOURCE, published="2022-04-06",
                                        text="-1 said Armenia.\n@home in Yerevan.",
                                        places={"Armenia": sample["armenia"], "Yerevan": sample["yerevan"]})
    return sample


def read_csv(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data()
    assert b"\r\n" in body  # RFC 4180 line ends
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


def test_csv_has_one_row_per_mention_and_round_trips(client, sample, data_dir):
    response = client.get("/api/export.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="mapapp-view.csv"'
    rows = read_csv(response)
    with opened(data_dir / "mapapp.sqlite3") as conn:
        stored = conn.execute("SELECT COUNT(*) FROM mentions WHERE place_id IS NOT NULL AND kind = 'place'"
                              ).fetchone()[0]
    assert len(rows) == stored == 9
    assert tuple(rows[0]) == CSV_COLUMNS
    first = rows[0]
    assert first["article_id"] == str(sample["a1"]) and first["title"] == "Talks in Yerevan"
    assert first["published"] == "2022-03-26" and first["source"] == "Armenpress"
    yerevan = next(r for r in rows if r["place_id"] == sample["yerevan"] and "Officials" in r["sentence"])
    assert yerevan["sentence"] == "Officials met in Yerevan on Monday." and yerevan["place_name"] == "Yerevan"
    assert yerevan["feature"] == "city" and float(yerevan["confidence"]) == 1.0
    assert 40.0 < float(yerevan["lat"]) < 40.3 and 44.3 < float(yerevan["lon"]) < 44.7


def test_csv_follows_the_filters(client, sample):
    rows = read_csv(client.get("/api/export.csv?source=Azernews"))
    assert {r["article_id"] for r in rows} == {str(sample["a2"])}
    rows = read_csv(client.get(f"/api/export.csv?place={sample['corridor']}"))
    assert {r["place_id"] for r in rows} == {sample["corridor"]} and len(rows) == 2
    rows = read_csv(client.get("/api/export.csv?from=2023-01-01&feature=city"))
    assert [(r["place_name"], r["published"]) for r in rows] == [("Baku", "2023-12-30"), ("Baku", "2023-12-30")]


def test_csv_keeps_hostile_text_and_disarms_formulas(client, hostile):
    rows = read_csv(client.get(f"/api/export.csv?article={hostile['hostile']}"))
    assert rows and all(r["title"] == HOSTILE_TITLE for r in rows)  # quotes and the newline survive
    assert all(r["source"] == "'" + HOSTILE_SOURCE for r in rows)  # a formula: one leading apostrophe
    sentences = {r["sentence"] for r in rows}
    assert sentences == {"'-1 said Armenia.", "'\n@home in Yerevan."} or "'-1 said Armenia." in sentences
    assert {r["place_name"] for r in rows} >= {HOSTILE_PLACE}
    assert all(not r["lon"].startswith("'") for r in rows)  # numbers stay numbers


@pytest.mark.parametrize(("value", "safe"), [("=1+2", "'=1+2"), ("+1", "'+1"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"),
                                            ("\tx", "'\tx"), ("plain", "plain"), (-44.5, -44.5), ("", "")])
def test_spreadsheet_safe(value, safe):
    assert spreadsheet_safe(value) == safe


def test_geojson_download_is_the_map_view_in_lon_lat(client, sample):
    response = client.get("/api/export.geojson?source=Armenpress")
    assert response.mimetype == "application/geo+json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="mapapp-view.geojson"'
    collection = json.loads(response.get_data())
    assert collection["type"] == "FeatureCollection"
    assert collection == json.loads(client.get("/api/features?source=Armenpress").get_data())
    yerevan = next(f for f in collection["features"] if f["id"] == sample["yerevan"])
    lon, lat = yerevan["geometry"]["coordinates"]
    assert 44.3 < lon < 44.7 and 40.0 < lat < 40.3  # RFC 7946: longitude first
    for feature in collection["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] in (
            "Point", "Polygon", "MultiPolygon", "LineString")


@needs_ogrinfo
def test_geopackage_opens_in_gdal_with_points_regions_and_mentions(client, hostile, tmp_path):
    response = client.get("/api/export.gpkg")
    assert response.status_code == 200 and response.mimetype == "application/geopackage+sqlite3"
    path = tmp_path / "view.gpkg"
    path.write_bytes(response.get_data())
    summary = ogrinfo(path)
    assert "using driver `GPKG' successful" in summary
    counts = layer_counts(summary)
    assert counts == {"places": 2, "regions": 3, "mentions": 11}, summary
    assert 'ID["EPSG",4326]' in summary and "Geometry: Multi Polygon" in summary
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = {row[0] for row in conn.execute("SELECT name FROM places UNION SELECT name FROM regions")}
        assert HOSTILE_PLACE in names  # stored as data, intact
        titles = {row[0] for row in conn.execute("SELECT title FROM mentions")}
        assert HOSTILE_TITLE in titles
        blob = conn.execute("SELECT geom FROM places WHERE place_id = ?", (hostile["yerevan"],)).fetchone()[0]
        assert blob[:2] == b"GP"
    finally:
        conn.close()
    # ogrinfo reads the values back as GDAL sees them, with the coordinates in lon/lat
    detail = subprocess.run([OGRINFO, "-ro", str(path), "places", "-where", f"place_id = '{hostile['yerevan']}'"],
                            check=False, capture_output=True, text=True, timeout=60).stdout
    assert "POINT (44.5" in detail and "name (String) = Yerevan" in detail


@needs_ogrinfo
def test_kml_opens_in_gdal_and_escapes_every_text(client, hostile, tmp_path):
    response = client.get("/api/export.kml")
    assert response.status_code == 200 and response.mimetype == "application/vnd.google-earth.kml+xml"
    body = response.get_data()
    assert b"<script>" not in body and b"<img" not in body
    root = ET.fromstring(body)  # well-formed XML
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    names = [n.text for n in root.iterfind(".//k:Placemark/k:name", ns)]
    assert HOSTILE_PLACE in names and len(names) == 5
    descriptions = " ".join(d.text for d in root.iterfind(".//k:Placemark/k:description", ns))
    assert HOSTILE_TITLE in descriptions
    path = tmp_path / "view.kml"
    path.write_bytes(body)
    summary = ogrinfo(path)
    assert sum(layer_counts(summary).values()) == 5, summary


def test_kml_replaces_characters_xml_cannot_carry(client, sample, data_dir):
    with opened(data_dir / "mapapp.sqlite3") as conn:
        add_article(conn, title="Bell\x07 and\x1b escape", published="2022-05-01", text="Baku news.",
                    places={"Baku": sample["baku"]})
    body = client.get("/api/export.kml").get_data()
    root = ET.fromstring(body)
    assert "Bell\ufffd and\ufffd escape" in "".join(root.itertext())


@pytest.mark.parametrize("query, field", [("from=2024-13-01", "from"), ("article=abc", "article"),
                                          ("article=999999", "article"), ("place=nowhere", "place"),
                                          ("feature=spaceport", "feature")])
def test_bad_filters_are_400_naming_the_parameter(client, sample, query, field):
    for fmt in ("csv", "kml", "gpkg", "geojson"):
        response = client.get(f"/api/export.{fmt}?{query}")
        assert response.status_code == 400 and response.get_json()["field"] == field


def test_unknown_format_is_404(client, sample):
    response = client.get("/api/export.xlsx")
    assert response.status_code == 404 and response.get_json()["field"] == "format"


# ----------------------------------------------------------------------------------------------- CLI

@needs_ogrinfo
@pytest.mark.parametrize("fmt", ["gpkg", "kml"])
def test_cli_export_formats_open_in_gdal(runner, sample, tmp_path, fmt):
    out = tmp_path / f"view.{fmt}"
    result = runner.invoke(["export", "--format", fmt, "--source", "Armenpress", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    counts = layer_counts(ogrinfo(out))
    # a1: Yerevan (a point, named twice), the Lachin corridor and Armenia (shapes)
    if fmt == "gpkg":
        assert counts == {"places": 1, "regions": 2, "mentions": 4}
    else:
        assert sum(counts.values()) == 3, counts


def test_cli_export_csv_and_geojson(runner, sample, tmp_path):
    out = tmp_path / "view.csv"
    result = runner.invoke(["export", "--format", "csv", "--place", sample["corridor"], "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["place_id"] for r in rows} == {sample["corridor"]}
    out = tmp_path / "view.geojson"
    assert runner.invoke(["export", "--format", "geojson", "--out", str(out)]).exit_code == 0
    assert len(json.loads(out.read_text(encoding="utf-8"))["features"]) == 5


def test_cli_export_bad_input_is_one_line(runner, sample, tmp_path):
    result = runner.invoke(["export", "--format", "csv", "--from", "yesterday", "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "'from' must be a date" in result.output
    assert not (tmp_path / "x.csv").exists()
    result = runner.invoke(["export", "--format", "gpkg", "--out", str(tmp_path / "missing" / "x.gpkg")])
    assert result.exit_code == 1 and "does not exist" in result.output
    result = runner.invoke(["export", "--format", "xls", "--out", str(tmp_path / "x.xls")])
    assert result.exit_code == 2 and "xls" in result.output


@pytest.mark.parametrize("fmt, unit", [("csv", "mentions"), ("geojson", "places"), ("kml", "places"),
                                       ("gpkg", "rows")])
def test_cli_export_shows_a_truthful_progress_bar(runner, hostile, tmp_path, data_dir, fmt, unit):
    with opened(data_dir / "mapapp.sqlite3") as conn:
        mentions, places = conn.execute("SELECT COUNT(*), COUNT(DISTINCT place_id) FROM mentions"
                                        " WHERE place_id IS NOT NULL AND kind = 'place'").fetchone()
    total = {"csv": mentions, "geojson": places, "kml": places, "gpkg": 2 * (mentions + places)}[fmt]
    out = tmp_path / f"view.{fmt}"
    result = runner.invoke(["export", "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.stdout and f"export {fmt}" not in result.stdout  # the bar: stderr only
    frames = [frame for frame in result.stderr.replace("\n", "\r").split("\r") if frame.strip()]
    assert frames[0].startswith(f"export {fmt}") and f" 0/{total} " in frames[0]  # its total, from the start
    assert f" {total}/{total} " in frames[-1] and f"{unit}/s" in frames[-1] and "100%" in frames[-1]
    if fmt == "csv":  # what it counted is what was written
        with out.open(encoding="utf-8", newline="") as handle:
            assert len(list(csv.DictReader(handle))) == total
    quiet = runner.invoke(["export", "--format", fmt, "--quiet", "--out", str(tmp_path / f"quiet.{fmt}")])
    assert quiet.exit_code == 0 and quiet.stderr == ""


@pytest.mark.parametrize("fmt", ["csv", "geojson", "kml", "cached geojson"])
def test_text_downloads_start_before_the_view_is_read(data_dir, hostile, fmt):
    from mapapp.db import connect
    from mapapp.maps.downloads import CHUNKS, cached_geojson_chunks
    from mapapp.maps.filters import MapFilters

    conn = connect(data_dir / "mapapp.sqlite3")
    try:
        statements = []
        conn.set_trace_callback(statements.append)
        write = cached_geojson_chunks if fmt == "cached geojson" else CHUNKS[fmt]
        chunks = write(conn, MapFilters())
        first = next(chunks)
        assert first and not statements  # the opening (CSV header, GeoJSON and KML heads) before any query
        rest = list(chunks)
        assert statements and rest
    finally:
        conn.close()


def test_streamed_csv_and_geojson_are_well_formed(client, hostile):
    for query in ("", "?source=Azernews", "?from=2022-04-01&to=2022-12-31", f"?article={hostile['hostile']}"):
        response = client.get("/api/export.csv" + query, buffered=False)
        assert response.status_code == 200 and response.is_streamed
        chunks = list(response.response)
        response.close()
        assert chunks[0] == (",".join(CSV_COLUMNS) + "\r\n").encode()  # the header first, by itself
        rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8"), newline="")))
        assert rows[0] == list(CSV_COLUMNS) and all(len(row) == len(CSV_COLUMNS) for row in rows)
        assert rows == list(csv.reader(io.StringIO(client.get("/api/export.csv" + query).get_data(as_text=True),
                                                   newline="")))
        for row in rows[1:]:  # the formula guard holds in the stream
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row[1:9]), row
        response = client.get("/api/export.geojson" + query, buffered=False)
        assert response.status_code == 200 and response.is_streamed
        assert response.headers["Content-Disposition"] == 'attachment; filename="mapapp-view.geojson"'
        body = b"".join(response.response)
        response.close()
        # The map's own collection (hidden_undated too, with a date range), a Feature at a time.
        assert json.loads(body) == json.loads(client.get("/api/features" + query).get_data())
        assert body == client.get("/api/features" + query).get_data()  # byte for byte: the map's cached view
    assert "hidden_undated" in json.loads(client.get("/api/export.geojson?from=2022-04-01").get_data())


def test_a_bad_filter_is_a_400_before_any_byte_streams(client, sample):
    for fmt in ("csv", "geojson", "kml"):
        response = client.get(f"/api/export.{fmt}?article=999999")
        assert response.status_code == 400 and response.get_json()["field"] == "article"


# ------------------------------------------------------------------------------------------- density

def test_density_by_country_counts_articles_and_mentions(client, sample):
    body = client.get("/api/density?by=country&count=articles").get_json()
    counts = {f["properties"]["code"]: f["properties"]["count"] for f in body["features"]}
    # a1 names Yerevan and Armenia (AM) and the Lachin corridor (AZ); a2 Baku, corridor, Karabakh (AZ); a3 Armenia
    assert counts == {"AM": 2, "AZ": 2}
    assert body["total"] == 3 and body["unmapped"] == 0 and body["by"] == "country"
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in body["features"])
    mentions = client.get("/api/density?count=mentions").get_json()
    assert {f["properties"]["code"]: f["properties"]["count"] for f in mentions["features"]} == {"AM": 4, "AZ": 5}
    assert mentions["total"] == 9


def test_density_by_admin1_uses_the_places_admin_codes(client, sample):
    body = client.get("/api/density?by=admin1&count=mentions").get_json()
    by_code = {f["properties"]["code"]: f for f in body["features"]}
    assert set(by_code) == {"AM.11", "AZ.09"}  # Yerevan city and Baku city; countries have no admin1
    assert by_code["AM.11"]["properties"]["name"] == "Yerevan" and by_code["AM.11"]["properties"]["count"] == 2
    assert by_code["AM.11"]["id"].startswith("adm1:")


def test_density_honours_the_filters(client, sample):
    body = client.get("/api/density?source=Azernews").get_json()
    assert {f["properties"]["code"]: f["properties"]["count"] for f in body["features"]} == {"AZ": 1}
    body = client.get("/api/density?from=2022-01-01&to=2022-12-31").get_json()
    assert {f["properties"]["code"] for f in body["features"]} == {"AM", "AZ"} and body["total"] == 1
    body = client.get("/api/density?feature=city").get_json()
    assert {f["properties"]["code"] for f in body["features"]} == {"AM", "AZ"} and body["total"] == 2


def test_density_timeline_by_month_and_week(client, sample):
    body = client.get("/api/density?step=month").get_json()
    periods = body["periods"]
    assert periods[0] == {"start": "2022-03-01", "end": "2022-03-31",
                          "counts": {f["id"]: 1 for f in body["features"]}}
    assert periods[-1]["start"] == "2023-12-01" and periods[-1]["end"] == "2023-12-31"
    assert len(periods) == 22 and all(p["counts"] == {} for p in periods[1:-1])  # empty months are frames too
    weeks = client.get("/api/density?step=week").get_json()["periods"]
    assert weeks[0]["start"] == "2022-03-21" and weeks[0]["end"] == "2022-03-27"  # Monday to Sunday
    assert weeks[-1]["start"] == "2023-12-25"


@pytest.mark.parametrize("query, field", [("by=county", "by"), ("count=words", "count"), ("step=day", "step"),
                                          ("by=country&by=admin1", "by"), ("to=2020-02-30", "to")])
def test_density_bad_parameters_are_400_naming_them(client, sample, query, field):
    response = client.get(f"/api/density?{query}")
    assert response.status_code == 400 and response.get_json()["field"] == field


def test_quantile_breaks():
    assert quantile_breaks([]) == [] and quantile_breaks([0, 0]) == []
    assert quantile_breaks([1, 1, 1, 2, 5]) == [1, 2, 5]
    assert quantile_breaks(range(1, 11)) == [2, 4, 6, 8, 10]


# ------------------------------------------------------------------------------------- place timeline

def test_place_page_charts_mentions_by_week(client, hostile):
    html = client.get(f"/places/{hostile['armenia']}").get_data(as_text=True)
    assert 'role="img"' in html and "Mentions by week" in html
    # Armenia: a1 (week of 2022-03-21) once, the hostile article (week of 2022-04-04) once, a3 undated
    assert "2 mentions in 3 weeks from 2022-03-21 to 2022-04-04" in html
    assert "<title>Week of 2022-03-21: 1</title>" in html and "<title>Week of 2022-04-04: 1</title>" in html
    assert "1 mention in articles without a date" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    # the place's own data downloads from its page
    assert f'href="/api/export.gpkg?place={hostile["armenia"]}&amp;demonyms=1"' in html


def test_place_download_links_give_the_place_s_mentions(client, sample):
    html = client.get(f"/places/{sample['corridor']}").get_data(as_text=True)
    href = html.split('id="download-csv" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    rows = read_csv(client.get(href))
    assert {r["place_id"] for r in rows} == {sample["corridor"]} and len(rows) == 2


def test_article_download_links_give_the_article_s_mentions(client, sample):
    html = client.get(f"/articles/{sample['a2']}").get_data(as_text=True)
    href = html.split('id="download-csv" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    rows = read_csv(client.get(href))
    assert {r["article_id"] for r in rows} == {str(sample["a2"])} and len(rows) == 4
