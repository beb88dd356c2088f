"""Redraw the curated Armenian and Azerbaijani regions from Natural Earth admin-1 shapes (run by hand, rarely).

    PYTHONPATH=. python scripts/curated_outlines.py      # rewrites gazetteer/curated.geojson in place

Each outline is the union of the Natural Earth shapes named below (by FIPS code and Natural Earth's
GeoNames-style name, since Natural Earth's own `name` field is wrong for some rayons: Lachin is "Lankaran").
The source of every outline is written into its feature's notes.
"""
from __future__ import annotations

import sys
from dataclasses import replace

import shapely
from shapely.geometry import mapping, shape

from mapapp.gazetteer import boundaries
from mapapp.gazetteer.curated import CURATED_FILE, read_features, write_features

# curated id -> (Natural Earth shapes as (fips, gn_name), whether the result is still approximate, note)
OUTLINES = {
    "cur:syunik-province": ([("AM08", "Syunik'i Marz")], False, "Syunik Marz"),
    "cur:kalbajar-district": ([("AJ26", "Kalbacar Rayonu")], False, "Kalbajar Rayon"),
    "cur:lachin-district": ([("AJ55", "Lacin Rayonu")], False, "Lachin Rayon"),
    "cur:nakhchivan": ([("AJ72", "Babek Rayon"), ("AJ73", "Julfa Rayon"), ("AJ75", "Nakhchivan City"),
                        ("AM10", "Sharur Rayon"), ("AJ77", "Sadarak Rayon"), ("AJ74", "Kangarli Rayon"),
                        ("AJ78", "Shahbuz Rayon"), ("AJ76", "Ordubad Rayon")], False,
                       "the union of the rayons of Nakhchivan (Babek, Julfa, Nakhchivan City, Sharur, Sadarak, "
                       "Kangarli, Shahbuz, Ordubad)"),
    "cur:nagorno-karabakh": ([("AJ64", "Xankandi Sahari"), ("AJ64", "Xocali Rayonu"), ("AJ55", "Susa Rayonu"),
                              ("AJ55", "Susa Sahari"), ("AJ65", "Xocavand Rayonu")], True,
                             "the union of the rayons that lie within the former Nagorno-Karabakh Autonomous "
                             "Oblast (Khankendi, Khojaly, Shusha, Khojavend), plus the part of the earlier "
                             "hand-drawn outline inside Tartar and Kalbajar rayons, standing for the NKAO's "
                             "Mardakert (Aghdara) district that was split between them after 1991 (that part is "
                             "approximate)"),
}


def main() -> int:
    provinces = {(p.fips, p.gn_name): p.geom for p in boundaries.read_provinces()}
    places = []
    for place in read_features(CURATED_FILE):
        spec = OUTLINES.get(place.id)
        if spec is not None:
            keys, approximate, what = spec
            geom = shapely.union_all([provinces[key] for key in keys])
            if place.id == "cur:nagorno-karabakh":
                rest = shapely.union_all([provinces[("AJ57", "Tartar Rayon")], provinces[("AJ26", "Kalbacar Rayonu")]])
                geom = shapely.union_all([geom, shape(place.geometry).intersection(rest)])
            geom = shapely.set_precision(shapely.make_valid(geom), 0.0001)
            notes = f"Outline: {what}, from {boundaries.SOURCE}." + (" Approximate in part." if approximate else "")
            place = replace(place, geometry=mapping(geom), approximate=approximate, notes=notes)
        places.append(place)
    write_features(CURATED_FILE, places)
    return 0


if __name__ == "__main__":
    sys.exit(main())
