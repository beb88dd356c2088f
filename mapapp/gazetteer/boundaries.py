"""Real outlines of countries and first-level divisions, matched to the GeoNames divisions of the gazetteer.

Source: Natural Earth 1:10m Admin 1 (states, provinces) v4.1.0, public domain, in the generalised form QGIS
ships as `world_map.gpkg` (Debian package `qgis-common`; a GeoPackage is SQLite, read here without GDAL).
$MAPAPP_BOUNDARIES names another copy of that file.

Natural Earth's own codes do not line up with GeoNames' admin1 codes everywhere (FIPS in most countries, ISO
or national codes in others; France's admin-1 are departments, GeoNames' regions), so each Natural Earth
shape goes to the GeoNames division that most of the GeoNames places inside it belong to, and a division's
outline is the union of its shapes. A country's outline is the union of the shapes matched to its divisions,
so countries and divisions share their borders (and follow GeoNames where Natural Earth disagrees: Crimea).
"""
from __future__ import annotations

import os
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

DEFAULT_FILE = Path("/usr/share/qgis/resources/data/world_map.gpkg")
SOURCE = "Natural Earth 10m admin-1 v4.1.0 (public domain), as generalised in QGIS's world_map.gpkg"
DIVISION_NOTE = f"Shape: {SOURCE}."
COUNTRY_NOTE = f"Outline: union of its first-level divisions, {SOURCE}."
# A division whose own places fall inside its matched shapes less often than this keeps its Voronoi shape.
MIN_SHARE = 0.5
# Shapes (iso_a2, gn_name) that are kilometres out and would answer reverse() wrongly: they count for their
# country's outline but give no division its shape (Natural Earth's Shusha rayon holds Lachin town).
MISPLACED = {("AZ", "Susa Rayonu"), ("AZ", "Susa Sahari"), ("AZ", "Lacin Rayonu")}
# GeoPackage geometry header: 8 bytes, then an envelope whose size the flags' bits 1-3 give.
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


class BoundariesMissing(FileNotFoundError):
    """The boundary file is not installed; the message says how to install it."""


def boundaries_file() -> Path:
    """The GeoPackage to read: $MAPAPP_BOUNDARIES, else QGIS's copy; BoundariesMissing when it is absent."""
    path = Path(os.environ.get("MAPAPP_BOUNDARIES") or DEFAULT_FILE)
    if not path.is_file():
        raise BoundariesMissing(f"{path} is missing: the real boundaries come from Debian's qgis-common "
                                f"(as root: apt-get install --no-install-recommends qgis-common), "
                                f"or set MAPAPP_BOUNDARIES to a copy of world_map.gpkg")
    return path


def _geometry(blob: bytes):
    envelope = (blob[3] >> 1) & 7
    return shapely.from_wkb(bytes(blob[8 + _ENVELOPE_BYTES[envelope]:]))


@dataclass
class Province:
    """One Natural Earth admin-1 shape with the fields used to match it."""

    iso_a2: str
    name: str
    fips: str
    gn_name: str
    geom: object


def _layer_rows(path: Path | None, columns: str, layer: str) -> list[tuple]:
    # The file opened read-only; the rows of one layer that have a shape, in file order.
    conn = sqlite3.connect(f"file:{path or boundaries_file()}?mode=ro", uri=True)
    try:
        return conn.execute(f"SELECT {columns}, geom FROM {layer} WHERE geom IS NOT NULL ORDER BY fid").fetchall()
    finally:
        conn.close()


def read_provinces(path: Path | None = None) -> list[Province]:
    """Every admin-1 shape of the file (made valid), in file order."""
    rows = _layer_rows(path, "iso_a2, name, fips, gn_name", "states_provinces")
    provinces = []
    for iso_a2, name, fips, gn_name, blob in rows:
        geom = _geometry(blob)
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        provinces.append(Province(iso_a2 or "", name or "", fips or "", gn_name or "", geom))
    return provinces


def read_disputed_borders(path: Path | None = None) -> list[tuple[str, str, object]]:
    """Every line of the file's Natural Earth disputed-border layer as (name, adm0_a3 on its left, geometry)."""
    rows = _layer_rows(path, "name, adm0_a3_l", "disputed_borders")
    return [(name or "", adm0 or "", _geometry(blob)) for name, adm0, blob in rows]


@dataclass
class Matched:
    """Real shapes by GeoNames division and country, and how well they matched."""

    divisions: dict = field(default_factory=dict)   # (cc, admin1) -> shapely geometry
    countries: dict = field(default_factory=dict)   # cc -> shapely geometry
    report: dict = field(default_factory=dict)


def match(provinces: list[Province], admin1_points: dict) -> Matched:
    """Give each Natural Earth shape to the GeoNames division (cc, admin1) most of whose places it holds.

    `admin1_points` maps (cc, admin1) to the (lon, lat) points of its GeoNames places. Shapes holding no
    place go to the division whose code is the shape's FIPS code, else to their country only (they still
    belong to its outline). A division is matched when at least MIN_SHARE of its places fall in its shapes.
    """
    labels, xs, ys = [], [], []
    for label, points in admin1_points.items():
        for lon, lat in points:
            labels.append(label)
            xs.append(lon)
            ys.append(lat)
    tree = shapely.STRtree([p.geom for p in provinces])
    point_index, shape_index = tree.query(shapely.points(np.column_stack([xs, ys])), predicate="intersects")
    votes = defaultdict(Counter)
    for i, j in zip(point_index.tolist(), shape_index.tolist()):
        votes[j][labels[i]] += 1
    known = set(admin1_points)
    owner, by_fips = {}, 0
    for j, province in enumerate(provinces):
        if (province.iso_a2, province.gn_name) in MISPLACED:
            continue
        if votes[j]:
            owner[j] = votes[j].most_common(1)[0][0]
        else:
            label = (province.iso_a2, province.fips[2:])
            if label in known:
                owner[j] = label
                by_fips += 1
    members = defaultdict(list)
    for j, label in owner.items():
        members[label].append(j)
    totals = Counter(labels)
    result = Matched()
    for label, shapes in members.items():
        inside = sum(votes[j][label] for j in shapes)
        if totals[label] and inside / totals[label] >= MIN_SHARE or not totals[label]:
            result.divisions[label] = shapely.union_all([provinces[j].geom for j in shapes])
    by_country = defaultdict(list)
    for j, province in enumerate(provinces):
        cc = owner[j][0] if j in owner else province.iso_a2  # a misplaced shape still belongs to its country
        if len(cc) == 2 and cc.isalpha():
            by_country[cc].append(province.geom)
    result.countries = {cc: shapely.union_all(parts) for cc, parts in by_country.items()}
    with_places = [label for label in admin1_points if admin1_points[label]]
    matched_places = sum(totals[label] for label in result.divisions)
    inside_places = sum(votes[j][label] for label in result.divisions for j in members[label])
    fips_agree = sum(1 for j, label in owner.items() if provinces[j].fips[2:] == label[1])
    result.report = {
        "geonames_divisions": len(with_places),
        "matched_divisions": sum(1 for label in with_places if label in result.divisions),
        "natural_earth_shapes": len(provinces),
        "shapes_used": sum(len(members[label]) for label in result.divisions),
        "shapes_matched_by_fips_only": by_fips,
        "shapes_whose_fips_equals_the_admin1_code": fips_agree,
        "places_inside_their_division": round(inside_places / matched_places, 4) if matched_places else 0.0,
        "countries": len(result.countries),
    }
    return result


def division_points(cities) -> dict:
    """(cc, admin1) -> the (lon, lat) points of its places, from the build's city tuples."""
    points = defaultdict(list)
    for _gid, _name, lat, lon, cc, _population, admin1, _alternates in cities:
        if admin1 and admin1 != "00":
            points[(cc, admin1)].append((lon, lat))
    return points



def outside_real(fallbacks: dict, real_divisions: dict) -> dict:
    """Approximate first-level shapes by (cc, admin1), less the real shapes of their country's other divisions.

    A Voronoi cell knows nothing of a real border; cut, it cannot claim a town that a real shape holds (nor
    win reverse() there by being smaller). A shape that nothing would be left of stays as it was.
    """
    taken_by_country = defaultdict(list)
    for (cc, _admin1), geom in real_divisions.items():
        taken_by_country[cc].append(geom)
    result, taken = {}, {}
    for label, geom in fallbacks.items():
        parts = taken_by_country.get(label[0])
        if geom is None or not parts:
            result[label] = geom
            continue
        if label[0] not in taken:
            taken[label[0]] = shapely.union_all([part.simplify(0.002) for part in parts])
        try:
            rest = geom.difference(taken[label[0]])
        except shapely.errors.GEOSException:
            rest = geom
        polygons = [p for p in getattr(rest, "geoms", [rest]) if p.geom_type in ("Polygon", "MultiPolygon")]
        result[label] = shapely.union_all(polygons) if polygons and rest.area > 0.0001 else geom
    return result
