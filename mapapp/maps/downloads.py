"""Downloads of a map view for GIS and spreadsheets: GeoJSON, CSV (one row per mention), KML and GeoPackage.

Every format selects with the same MapFilters as the map, so a download holds what the view shows.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import struct
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import shapely
from shapely.geometry import MultiPolygon, Point, shape

from mapapp.db import dialect
from mapapp.maps.features import feature_collection, feature_collection_json
from mapapp.maps.filters import MapFilters
from mapapp.mentions import attach_sentences


@dataclass(frozen=True)
class Format:
    """One download format: its media type and file name extension."""

    name: str
    mimetype: str
    extension: str
    label: str


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("geojson", "application/geo+json", "geojson", "GeoJSON"),
    Format("csv", "text/csv; charset=utf-8", "csv", "CSV (one row per mention)"),
    Format("kml", "application/vnd.google-earth.kml+xml", "kml", "KML"),
    Format("gpkg", "application/geopackage+sqlite3", "gpkg", "GeoPackage"),
)}

# The CSV's header, in order: one row per mention of a place in an article.
CSV_COLUMNS = ("article_id", "title", "published", "source", "sentence", "mention", "place_id", "place_name",
               "feature", "lat", "lon", "confidence")
_TEXT_COLUMNS = ("title", "published", "source", "sentence", "mention", "place_id", "place_name", "feature")
# A spreadsheet runs a cell that starts with one of these as a formula ("=cmd|' /C calc'!A0").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BATCH = 2000

# Told how many rows (mentions or places) were just written: a progress bar's update.
Progress = Callable[[int], None] | None


def spreadsheet_safe(value):
    """Text that a spreadsheet would read as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def mention_rows(conn: sqlite3.Connection, filters: MapFilters) -> Iterator[dict]:
    """Every mention the view selects (oldest articles first), with its article, place and sentence."""
    filters.check(conn)
    where, params = filters.where(dialect(conn))
    cursor = conn.execute(
        "SELECT m.article_id, a.title, a.published, a.source, m.text AS mention, m.sentence_start, m.sentence_end,"
        " m.place_id, p.name AS place_name, p.feature, p.lat, p.lon, m.score AS confidence"
        f" FROM {filters.joins(articles=True)} JOIN places p ON p.id = m.place_id WHERE {where}"
        " ORDER BY a.published IS NULL, a.published, m.article_id, m.start, m.id", params)
    while batch := cursor.fetchmany(_BATCH):  # a batch at a time: memory stays a batch's, whatever the view
        rows = [dict(row) for row in batch]
        attach_sentences(conn, rows)
        yield from rows


def csv_chunks(conn: sqlite3.Connection, filters: MapFilters, progress: Progress = None) -> Iterator[str]:
    """The view's mentions as RFC 4180 CSV (CRLF, a header row), formula-like text cells prefixed with '.
    The header comes first, before any query: a download starts at once."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    number = 0
    for number, row in enumerate(mention_rows(conn, filters), 1):
        writer.writerow([spreadsheet_safe(row[c]) if c in _TEXT_COLUMNS else row[c] for c in CSV_COLUMNS])
        if number % _BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if progress:
                progress(_BATCH)
    yield buffer.getvalue()
    if progress and number % _BATCH:
        progress(number % _BATCH)


# How feature_collection_json() begins (its keys in feature_collection's order, compact separators).
_GEOJSON_OPENING = '{"type":"FeatureCollection","features":['
_SLICE = 1 << 16


def geojson_chunks(conn: sqlite3.Connection, filters: MapFilters, progress: Progress = None) -> Iterator[str]:
    """The view's GeoJSON FeatureCollection (RFC 7946, lon/lat), the map's own, a Feature at a time; its opening
    comes before any query, so a download starts at once."""
    yield _GEOJSON_OPENING
    collection = feature_collection(conn, filters)
    for number, feature in enumerate(collection.pop("features")):
        yield ("," if number else "") + json.dumps(feature, ensure_ascii=False, separators=(",", ":"))
        if progress:
            progress(1)
    del collection["type"]
    # The foreign members (hidden_undated) after the features.
    yield "]" + "".join(f",{json.dumps(key)}:{json.dumps(value)}" for key, value in collection.items()) + "}"


def cached_geojson_chunks(conn: sqlite3.Connection, filters: MapFilters) -> Iterator[str]:
    """As geojson_chunks, from the bytes the map itself loads (the views cache, shared with /api/features): the
    opening at once, then the rest in slices."""
    yield _GEOJSON_OPENING
    body = feature_collection_json(conn, filters).decode("utf-8")
    if not body.startswith(_GEOJSON_OPENING):
        raise ValueError("the map's GeoJSON no longer starts as downloads expect")
    for start in range(len(_GEOJSON_OPENING), len(body), _SLICE):
        yield body[start:start + _SLICE]


def row_total(conn: sqlite3.Connection, filters: MapFilters, fmt: str) -> int:
    """How many rows writing `fmt` goes through (what its progress counts): mentions for CSV, places for GeoJSON
    and KML, both for a GeoPackage, each twice (read, then written into its layer)."""
    where, params = filters.where(dialect(conn))
    places, mentions = conn.execute(f"SELECT COUNT(DISTINCT m.place_id), COUNT(*) FROM {filters.joins()}"
                                    f" WHERE {where}", params).fetchone()
    return {"csv": mentions, "geojson": places, "kml": places, "gpkg": 2 * (places + mentions)}[fmt]


# ------------------------------------------------------------------------------------------------- KML

# XML 1.0 cannot carry these characters at all, even escaped: they become U+FFFD.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value) -> str:
    """`value` as XML character data or attribute text: &, <, >, quotes escaped, forbidden characters replaced."""
    return escape(_NOT_XML.sub("\ufffd", "" if value is None else str(value)), {'"': "&quot;", "'": "&apos;"})


def _kml_coords(points) -> str:
    return " ".join(f"{x:.6f},{y:.6f}" for x, y, *_rest in points)


def _kml_geometry(geometry: dict) -> str:
    kind, coords = geometry["type"], geometry.get("coordinates")
    if kind == "Point":
        return f"<Point><coordinates>{_kml_coords([coords])}</coordinates></Point>"
    if kind == "LineString":
        return f"<LineString><coordinates>{_kml_coords(coords)}</coordinates></LineString>"
    if kind == "Polygon":
        boundary = "<{0}BoundaryIs><LinearRing><coordinates>{1}</coordinates></LinearRing></{0}BoundaryIs>"
        rings = [boundary.format("outer" if i == 0 else "inner", _kml_coords(ring)) for i, ring in enumerate(coords)]
        return f"<Polygon>{''.join(rings)}</Polygon>"
    parts = {"MultiPoint": "Point", "MultiLineString": "LineString", "MultiPolygon": "Polygon"}
    if kind in parts:
        inner = "".join(_kml_geometry({"type": parts[kind], "coordinates": c}) for c in coords)
        return f"<MultiGeometry>{inner}</MultiGeometry>"
    if kind == "GeometryCollection":
        return f"<MultiGeometry>{''.join(_kml_geometry(g) for g in geometry['geometries'])}</MultiGeometry>"
    raise ValueError(f"no KML for geometry type {kind!r}")


def _kml_description(properties: dict) -> str:
    lines = [f"{properties['mention_count']} mentions in {properties['article_count']} articles."]
    for m in properties["mentions"]:
        meta = ", ".join(v for v in (m.get("published") or "", m.get("source") or "") if v)
        title = m.get("title") or "(untitled article)"
        lines.append(f"{title}{f' ({meta})' if meta else ''}: {m.get('sentence') or ''}")
    return "\n".join(lines)


def kml_chunks(conn: sqlite3.Connection, filters: MapFilters, progress: Progress = None, *,
               title: str = "Places in the news") -> Iterator[str]:
    """The view's places as a KML 2.2 document: a Placemark each (point or shape), its counts and newest mentions.

    Every text is XML-escaped character data: a title such as "<script>" arrives as text, never as markup.
    """
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
           f"<name>{xml_text(title)}</name>\n")
    collection = feature_collection(conn, filters)
    for feature in collection["features"]:
        p = feature["properties"]
        data = "".join(f'<Data name="{name}"><value>{xml_text(p[name])}</value></Data>' for name in
                       ("place_id", "feature", "country_code", "mention_count", "article_count"))
        yield (f"<Placemark><name>{xml_text(p['name'])}</name>"
               f"<description>{xml_text(_kml_description(p))}</description>"
               f"<ExtendedData>{data}</ExtendedData>{_kml_geometry(feature['geometry'])}</Placemark>\n")
        if progress:
            progress(1)
    yield "</Document></kml>\n"


# ------------------------------------------------------------------------------------------ GeoPackage

# OGC GeoPackage 1.3 (OGC 12-128r18): the required metadata tables, and WGS 84 as srs_id 4326.
_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_VERSION = 10300
_WGS84_WKT = ('GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
              'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],'
              'UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]]')
_GPKG_SCHEMA = """
CREATE TABLE gpkg_spatial_ref_sys (
    srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
    organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
    table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
    description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
    CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
    table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
    srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
    CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
    CONSTRAINT uk_gc_table_name UNIQUE (table_name),
    CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
    CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
"""
_PLACE_COLUMNS = (("place_id", "TEXT"), ("name", "TEXT"), ("feature", "TEXT"), ("country_code", "TEXT"),
                  ("approximate", "BOOLEAN"), ("mention_count", "INTEGER"), ("article_count", "INTEGER"))
_MENTION_COLUMNS = tuple((c, "INTEGER" if c == "article_id" else "DOUBLE" if c in ("lat", "lon", "confidence")
                          else "TEXT") for c in CSV_COLUMNS)
# Layers: (table, geometry type, columns, description).
_LAYERS = (
    ("places", "POINT", _PLACE_COLUMNS, "Places shown as points, with their mention and article counts"),
    ("regions", "MULTIPOLYGON", _PLACE_COLUMNS, "Places with a shape (countries, provinces, regions)"),
    ("mentions", "POINT", _MENTION_COLUMNS, "One row per mention: article, sentence, place"),
)


def gpkg_geometry(geom) -> bytes:
    """A GeoPackage binary geometry: the 'GP' header (version 0, little-endian, srs 4326, envelope) and WKB."""
    if isinstance(geom, Point):
        header = struct.pack("<2sBBi", b"GP", 0, 0b0000_0001, 4326)  # no envelope for a point
    else:
        minx, miny, maxx, maxy = geom.bounds
        header = struct.pack("<2sBBi4d", b"GP", 0, 0b0000_0011, 4326, minx, maxx, miny, maxy)
    return header + shapely.to_wkb(geom, byte_order=1, output_dimension=2)


def _polygonal(geometry: dict):
    """The feature's shape as a MultiPolygon, or None when it is not a polygon (a point or a line)."""
    if geometry["type"] not in ("Polygon", "MultiPolygon"):
        return None
    geom = shape(geometry)
    return MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def write_gpkg(conn: sqlite3.Connection, filters: MapFilters, path: Path, progress: Progress = None) -> dict[str, int]:
    """Write the view as a GeoPackage at `path` (replaced atomically): layers places, regions and mentions.

    Returns the number of rows of each layer.
    """
    from mapapp.maps.export import check_out_path

    path = check_out_path(path)
    collection = feature_collection(conn, filters)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    counts = {}
    try:
        out = sqlite3.connect(temporary)
        try:
            out.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
            out.execute(f"PRAGMA user_version = {_GPKG_VERSION}")
            out.executescript(_GPKG_SCHEMA)
            out.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", [
                ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate system"),
                ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate system"),
                ("WGS 84 geodetic", 4326, "EPSG", 4326, _WGS84_WKT, "longitude/latitude coordinates in degrees"),
            ])
            rows: dict[str, list] = {"places": [], "regions": [], "mentions": []}
            for feature in collection["features"]:
                p = feature["properties"]
                geom = _polygonal(feature["geometry"])
                values = [p["place_id"], p["name"], p["feature"], p["country_code"], int(p["approximate"]),
                          p["mention_count"], p["article_count"]]
                if geom is None:
                    geom = Point(_point(conn, feature))
                    rows["places"].append((geom, values))
                else:
                    rows["regions"].append((geom, values))
                if progress:
                    progress(1)
            for m in mention_rows(conn, filters):
                rows["mentions"].append((Point(m["lon"], m["lat"]), [m[c] for c in CSV_COLUMNS]))
                if progress:
                    progress(1)
            for table, kind, columns, description in _LAYERS:
                _write_layer(out, table, kind, columns, description, rows[table], progress)
                counts[table] = len(rows[table])
            out.commit()
        finally:
            out.close()
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return counts


def _point(conn: sqlite3.Connection, feature: dict) -> tuple[float, float]:
    geometry = feature["geometry"]
    if geometry["type"] == "Point":
        return tuple(geometry["coordinates"][:2])
    lat, lon = conn.execute("SELECT lat, lon FROM places WHERE id = ?", (feature["id"],)).fetchone()
    return lon, lat  # a line (a route) is listed at its place's point


def _write_layer(out: sqlite3.Connection, table: str, kind: str, columns, description: str, rows: list,
                 progress: Progress = None) -> None:
    definitions = ", ".join(f'"{name}" {sql_type}' for name, sql_type in columns)
    out.execute(f'CREATE TABLE "{table}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {kind}, {definitions})')
    marks = ", ".join("?" * (len(columns) + 1))

    def written():
        for geom, values in rows:
            yield gpkg_geometry(geom), *values
            if progress:
                progress(1)

    out.executemany(f'INSERT INTO "{table}" (geom, {", ".join(name for name, _ in columns)}) VALUES ({marks})',
                    written())
    bounds = shapely.total_bounds([geom for geom, _values in rows]) if rows else [None] * 4
    out.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x,"
                " max_y, srs_id) VALUES (?, 'features', ?, ?, ?, ?, ?, ?, 4326)",
                (table, table, description, *[None if b is None else float(b) for b in bounds]))
    out.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)", (table, kind))


def gpkg_bytes(conn: sqlite3.Connection, filters: MapFilters) -> bytes:
    """The view as the bytes of a GeoPackage file (built in a temporary folder, then read)."""
    with tempfile.TemporaryDirectory(prefix="mapapp-gpkg-") as folder:
        path = Path(folder) / "view.gpkg"
        write_gpkg(conn, filters, path)
        return path.read_bytes()


# The formats written as text, a chunk at a time.
CHUNKS = {"geojson": geojson_chunks, "csv": csv_chunks, "kml": kml_chunks}


def write_download(conn: sqlite3.Connection, filters: MapFilters, fmt: str, path: Path,
                   progress: Progress = None) -> int:
    """Write the view in format `fmt` (geojson, csv, kml, gpkg) to `path` atomically, telling `progress` of the
    rows (row_total) as they are written; returns the size in bytes."""
    from mapapp.maps.export import write_atomic

    if fmt == "gpkg":
        write_gpkg(conn, filters, path, progress)
        return Path(path).stat().st_size
    if fmt not in CHUNKS:
        raise ValueError(f"unknown format {fmt!r}")
    return write_atomic(path, "".join(CHUNKS[fmt](conn, filters, progress)))

