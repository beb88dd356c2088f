"""Redraw the curated Armenian and Azerbaijani regions from Natural Earth admin-1 shapes (run by hand, rarely).

    PYTHONPATH=. python scripts/curated_outlines.py      # rewrites gazetteer/curated.geojson in place

Each outline is the union of the Natural Earth shapes named below (by FIPS code and Natural Earth's
GeoNames-style name, since Natural Earth's own `name` field is wrong for some rayons: Lachin is "Lankaran").
Where Natural Earth is not good enough (KEPT), the hand-drawn outline stays and its notes say why.
The source of every outline is written into its feature's notes.
"""
from __future__ import annotations

import sys
from dataclasses import replace

import shapely
from shapely.geometry import mapping

from mapapp.gazetteer import boundaries
from mapapp.gazetteer.curated import CURATED_FILE, read_features, write_features

# curated id -> (Natural Earth shapes as (fips, gn_name), whether the result is still approximate, note)
OUTLINES = {
    "cur:syunik-province": ([("AM08", "Syunik'i Marz")], False, "Syunik Marz"),
    "cur:kalbajar-district": ([("AJ26", "Kalbacar Rayonu")], False, "Kalbajar Rayon"),
    "cur:nakhchivan": ([("AJ72", "Babek Rayon"), ("AJ73", "Julfa Rayon"), ("AJ75", "Nakhchivan City"),
                        ("AM10", "Sharur Rayon"), ("AJ77", "Sadarak Rayon"), ("AJ74", "Kangarli Rayon"),
                        ("AJ78", "Shahbuz Rayon"), ("AJ76", "Ordubad Rayon")], False,
                       ("the union of the rayons of Nakhchivan (Babek, Julfa, Nakhchivan City, Sharur, Sadarak, "
                        "Kangarli, Shahbuz, Ordubad)")),
}

# Hand-drawn outlines kept: Natural Earth's rayons around Karabakh are misplaced by kilometres there (its
# Shusha rayon holds Lachin town), so neither Lachin District nor an NKAO-like union of rayons is usable.
KEPT = ("cur:lachin-district", "cur:nagorno-karabakh", "cur:lachin-corridor")
KEPT_NOTE = ("Natural Earth admin-1 v4.1.0 was checked and not used here: its rayon shapes around Karabakh are "
             "kilometres out (its Shusha rayon holds Lachin town).")


def main() -> int:
    provinces = {(p.fips, p.gn_name): p.geom for p in boundaries.read_provinces()}
    places = []
    for place in read_features(CURATED_FILE):
        spec = OUTLINES.get(place.id)
        if spec is not None:
            keys, approximate, what = spec
            geom = shapely.union_all([provinces[key] for key in keys])
            geom = shapely.set_precision(shapely.make_valid(geom), 0.0001)
            notes = f"Outline: {what}, from {boundaries.SOURCE}." + (" Approximate in part." if approximate else "")
            place = replace(place, geometry=mapping(geom), approximate=approximate, notes=notes)
        elif place.id in KEPT and KEPT_NOTE not in place.notes:
            place = replace(place, notes=f"{place.notes} {KEPT_NOTE}")
        places.append(place)
    write_features(CURATED_FILE, places)
    return 0


if __name__ == "__main__":
    sys.exit(main())
