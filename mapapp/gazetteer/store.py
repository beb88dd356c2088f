"""The Gazetteer: read access to the `places` tables, as a geopy geocoder and as the recogniser's name index.

Name index, for the recogniser (stable API):
- `keys()` -> frozenset of every lookup key (normalise_name of names, aliases, abbreviations, demonyms),
  minus the keys an editor marked "not a place" (`not_places`);
- `candidates(key) -> list[Place]`: every place with that key, in any kind, most important first (cached);
- `name_kinds(key) -> dict[place_id, kind]`: how each candidate carries the key, kind one of 'name', 'alias',
  'abbreviation', 'demonym' (the strongest when several: name > alias > abbreviation > demonym);
- `demonyms(key) -> list[Place]`: the places (countries) that `key` is a demonym of;
- `importance(place) -> float`: the ranking weight used by geocode (population, boosted by feature class,
  so that countries and continents outrank cities named alike).
"""
from __future__ import annotations

import math
import os
import sqlite3
import threading

from geopy.adapters import BaseSyncAdapter
from geopy.distance import EARTH_RADIUS
from geopy.exc import GeocoderServiceError
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from geopy.point import Point

from mapapp.cache import lru, memoize
from mapapp.coords import check_lat_lon
from mapapp.db import connect, dialect, is_url, location
from mapapp.errors import GazetteerMissing, InvalidCoordinates, InvalidInput, NotFound
from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.place import Place, read_place, read_places

_KIND_RANK = {"name": 0, "alias": 1, "abbreviation": 2, "demonym": 3}
# Countries and continents must outrank cities named alike, whatever their populations; physical features
# have no population, so their class gives them a floor.
FEATURE_WEIGHT = {"continent": 1000.0, "country": 100.0}
FEATURE_FLOOR = {"ocean": 9.5, "sea": 8.0, "gulf": 7.5, "desert": 7.0, "river": 6.5, "mountains": 6.5,
                 "peninsula": 6.5, "region": 6.5, "lake": 6.0, "strait": 6.0, "island": 6.0, "mountain": 5.5,
                 "corridor": 5.0}
# By GeoNames feature code, not class: a capital (PPLC) or a first-level seat (PPLA) beats a namesake of its
# size. (The geoparser's own prior by feature class is geoparse.resolve.FEATURE_PRIOR: a different scale.)
SEAT_BONUS = {"PPLC": 1.0, "PPLA": 0.5}
#: How far reverse() looks for the nearest place without a shape: 10 degrees of arc (before the spatial index
#: it searched boxes of up to 10 degrees of latitude and longitude around the point).
NEAREST_WITHIN_KM = math.radians(10.0) * EARTH_RADIUS


def importance(place: Place) -> float:
    """Ranking weight of a place: log10 of its population, floored and weighted by its feature class."""
    base = max(math.log10(max(place.population, 0) + 10), FEATURE_FLOOR.get(place.feature, 1.0))
    # A city beats a division of the same name and size ("Moscow", "Istanbul"): news mean the city.
    base += SEAT_BONUS.get(place.feature_code, 0.0) + (1.0 if place.feature == "city" else 0.0)
    return base * FEATURE_WEIGHT.get(place.feature, 1.0)


def _string_agg(conn, column: str) -> str:
    # The column's values joined by newlines, in one string: group_concat in SQLite, string_agg in PostgreSQL.
    return f"string_agg({column}, chr(10))" if dialect(conn) == "postgresql" else f"group_concat({column}, char(10))"


def _parse_point(query) -> tuple[float, float]:
    """(lat, lon) from what geopy's reverse accepts: (lat, lon), a geopy Point, or "lat, lon" (never wrapped)."""
    if isinstance(query, Point):
        return check_lat_lon(query.latitude, query.longitude)
    if isinstance(query, str):
        query = query.split(",")
    if not isinstance(query, (list, tuple)) or len(query) != 2:
        raise InvalidCoordinates(f"not a (lat, lon) point: {str(query)[:60]!r}", field="query")
    return check_lat_lon(*query)


def _parse_query(query) -> list[str]:
    """Comma-separated parts of a geocode query, each as a lookup key (a dict query: its values)."""
    if isinstance(query, dict):
        query = ", ".join(str(v) for v in query.values())
    if not isinstance(query, str):
        raise InvalidInput("query must be a string", field="query")
    return [key for key in (normalise_name(part) for part in query.split(",")) if key]


class _NameIndex:
    """Shared read methods; subclasses supply _lookup(key) -> [(place_id, kind)], get(), keys()."""

    def candidates(self, key: str) -> list[Place]:
        """Every place carrying lookup key `key` (a normalise_name key), most important first."""
        return [self.get(pid) for pid in self._ids(key)]

    def name_kinds(self, key: str) -> dict[str, str]:
        """{place_id: kind} for `key`: 'name', 'alias', 'abbreviation' or 'demonym'."""
        kinds: dict[str, str] = {}
        for pid, kind in self._lookup(key):
            if pid not in kinds or _KIND_RANK.get(kind, 9) < _KIND_RANK.get(kinds[pid], 9):
                kinds[pid] = kind
        return kinds

    def demonyms(self, key: str) -> list[Place]:
        """The places `key` is a demonym (or adjective) of."""
        return [self.get(pid) for pid, kind in self.name_kinds(key).items() if kind == "demonym"]

    def is_demonym(self, key: str) -> bool:
        """True when every place carrying `key` carries it as a demonym."""
        kinds = self.name_kinds(key)
        return bool(kinds) and all(kind == "demonym" for kind in kinds.values())

    def _ids(self, key: str) -> list[str]:
        ids = list(self.name_kinds(key))
        ids.sort(key=lambda pid: -importance(self.get(pid)))
        return ids

    importance = staticmethod(importance)


class _Offline(BaseSyncAdapter):
    """geopy's transport for a geocoder that never goes online: geopy's default one loads the system's CA
    certificates when it is made (about 0.15 s of every start-up) for requests the gazetteer never sends."""

    def get_json(self, url, *, timeout, headers):
        """Refuse: the local gazetteer answers from its database."""
        raise GeocoderServiceError("the local gazetteer makes no network requests")

    get_text = get_json


class Gazetteer(Geocoder, _NameIndex):
    """The local gazetteer as a geopy geocoder; also the recogniser's name index (see the module docstring)."""

    def __init__(self, database=None, *, timeout=DEFAULT_SENTINEL, user_agent=None, **_ignored):
        super().__init__(timeout=timeout, user_agent=user_agent or "mapapp", adapter_factory=_Offline)
        self.path = os.fspath(database or location())
        if not is_url(self.path) and not os.path.exists(self.path):
            raise GazetteerMissing(f"no gazetteer at {self.path}: run `mapapp gazetteer build`")
        self._lock = threading.RLock()
        self._conn = connect(self.path)
        if dialect(self._conn) == "sqlite":  # this connection only reads (PostgreSQL's user may be read-only)
            self._conn.execute("PRAGMA query_only=ON")
        self.invalidate()

    # ------------------------------------------------------------------------------------------ caches
    def invalidate(self) -> None:
        """Drop every cache (names, places, spatial index); the next call reads the database again."""
        with self._lock:
            self._keys = None
            self._tree = None
            self._point_tree = None
            self._countries = None
            self._admin1 = None
            self._places = lru("places")
            self._pending: dict[str, tuple] = {}  # prefetched lookups, until the lookup cache takes them
            self._lookup = memoize("name lookups")(self._query_lookup)
            self._sorted_ids = memoize("ranked ids")(lambda key: tuple(_NameIndex._ids(self, key)))
            self.version = self._read_version()
            # Bumped by every invalidate(): what caches derived from this gazetteer compare against.
            self.generation = getattr(self, "generation", 0) + 1

    def index_stamp(self) -> str:
        """What an index derived from this gazetteer's names must match: its version and build time."""
        import hashlib

        with self._lock:
            rows = dict(self._conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('gazetteer_version', 'built_at')").fetchall())
        text = f"{rows.get('gazetteer_version', '0')}\n{rows.get('built_at', '')}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _read_version(self) -> str:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'gazetteer_version'").fetchone()
        return row[0] if row else "0"

    def refresh_if_stale(self) -> bool:
        """Reload when another process changed the gazetteer (meta.gazetteer_version); True if it did."""
        with self._lock:
            if self._read_version() == self.version:
                return False
            self.invalidate()
            return True

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    # -------------------------------------------------------------------------------------- name index
    def keys(self) -> frozenset[str]:
        """Every lookup key minus the keys marked "not a place" (cached until invalidate())."""
        with self._lock:
            if self._keys is None:
                # One string split in Python is much faster than 650k rows (keys never hold a newline).
                blob = self._conn.execute(f"SELECT {_string_agg(self._conn, 'key')} FROM name_keys").fetchone()[0]
                keys = set(blob.split("\n")) if blob else set()
                keys.difference_update(row[0] for row in self._conn.execute("SELECT key FROM not_places"))
                self._keys = frozenset(keys)
            return self._keys

    def not_places(self) -> frozenset[str]:
        """Keys an editor marked "not a place here"."""
        with self._lock:
            return frozenset(row[0] for row in self._conn.execute("SELECT key FROM not_places"))

    def prefetch(self, keys) -> None:
        """Read the names and places of `keys` in a few queries (a document's worth at once, not one per name);
        the next lookups of those keys and places are answered from memory."""
        keys = sorted(set(keys))
        if not keys:
            return
        with self._lock:
            places = self._places
            self._pending = {}  # what the last document left unread is not worth keeping
            found: dict[str, list] = {key: [] for key in keys}
            for chunk in _chunks(keys):
                # The primary key's order: what `WHERE key = ?` returns for one key.
                for key, place_id, kind in self._conn.execute(
                        f"SELECT key, place_id, kind FROM place_names WHERE key IN ({_marks(chunk)}) "
                        "ORDER BY key, place_id, kind", chunk):
                    found[key].append((place_id, kind))
            self._pending.update((key, tuple(rows)) for key, rows in found.items())
            pids = {pid for rows in found.values() for pid, _ in rows}
            missing = sorted(pid for pid in pids if pid not in places)
            if len(missing) > places.maxsize:
                return  # they would push each other out: get() reads them one by one
            read = read_places(self._conn, missing)
        for place_id, place in read.items():
            places[place_id] = place

    def _query_lookup(self, key: str) -> tuple[tuple[str, str], ...]:
        pending = self._pending.pop(key, None)
        if pending is not None:
            return pending
        with self._lock:
            rows = self._conn.execute("SELECT place_id, kind FROM place_names WHERE key = ?", (key,)).fetchall()
        return tuple((row[0], row[1]) for row in rows)

    def _ids(self, key: str) -> list[str]:
        return list(self._sorted_ids(key))

    def get(self, place_id: str) -> Place:
        """The place with this id; raises NotFound."""
        places = self._places
        place = places.get(place_id)
        if place is not None:
            return place
        with self._lock:
            place = read_place(self._conn, place_id)
        if place is None:
            raise NotFound(f"no place with id {place_id!r}", field="id")
        places[place_id] = place
        return place

    # ------------------------------------------------------------------------------------------ geopy
    def geocode(self, query, *, exactly_one=True, timeout=DEFAULT_SENTINEL, limit=None, **_kwargs):
        """Places named `query` ("Paris" or "Paris, France"), best first; None when nothing matches."""
        return _geocode(self, query, exactly_one=exactly_one, limit=limit)

    def reverse(self, query, *, exactly_one=True, timeout=DEFAULT_SENTINEL, **_kwargs):
        """The smallest region containing (lat, lon), else the nearest point place."""
        lat, lon = _parse_point(query)
        places = self._regions_at(lat, lon)
        if not places:
            nearest = self._nearest_point(lat, lon)
            places = [nearest] if nearest else []
        if not places:
            return None
        locations = [self.location(p) for p in places]
        return locations[0] if exactly_one else locations

    def location(self, place: Place) -> Location:
        """A geopy Location for a place (address like Nominatim's display name, record in .raw)."""
        return Location(self.address(place), (place.lat, place.lon), place.to_record())

    def address(self, place: Place) -> str:
        """'Name, Admin1, Country' for a place."""
        countries = self._country_names()
        parts = [place.name]
        if place.admin1 and place.feature not in ("admin1", "country"):
            admin1 = self._admin1_name(place.country_code, place.admin1)
            if admin1 and admin1 != place.name:
                parts.append(admin1)
        country = countries.get(place.country_code or "")
        if country and place.feature != "country":
            parts.append(country)
        return ", ".join(parts)

    def _country_names(self) -> dict[str, str]:
        with self._lock:
            if self._countries is None:
                self._countries = {row[0]: row[1] for row in self._conn.execute(
                    "SELECT country_code, name FROM places WHERE feature = 'country'")}
            return self._countries

    def _admin1_name(self, country_code, admin1) -> str | None:
        with self._lock:
            if self._admin1 is None:
                self._admin1 = {(row[0], row[1]): row[2] for row in self._conn.execute(
                    "SELECT country_code, admin1, name FROM places WHERE feature = 'admin1'")}
            return self._admin1.get((country_code, admin1))

    # ---------------------------------------------------------------------------------------- spatial
    # On SQLite an STRtree per process answers; on PostgreSQL, PostGIS over the `geom` column and its GiST index
    # (no host loads every shape). Both give the same answers: the same predicate (intersects), the same order
    # (planar area in degrees, then id), and for the nearest place the same great-circle ranking over candidates.
    def _postgis(self) -> bool:
        return dialect(self._conn) == "postgresql"

    def _spatial(self):
        """(STRtree, place ids, areas) over every place with an areal shape, built on first use (SQLite)."""
        with self._lock:
            if self._tree is None:
                import shapely

                rows = self._conn.execute("SELECT id, geometry FROM places WHERE geometry IS NOT NULL").fetchall()
                # GEOS parses the GeoJSON text in one vectorised call: several times faster than json + shape().
                shapes = shapely.from_geojson([row[1] for row in rows], on_invalid="ignore")
                areas = shapely.area(shapes)
                keep = [i for i, geom in enumerate(shapes)
                        if geom is not None and geom.geom_type in ("Polygon", "MultiPolygon") and areas[i] > 0]
                self._tree = (shapely.STRtree(shapes[keep]), [rows[i][0] for i in keep], areas[keep])
            return self._tree

    def _regions_at(self, lat: float, lon: float) -> list[Place]:
        """The places whose shape holds (lat, lon) (its boundary included), smallest first."""
        if self._postgis():
            with self._lock:
                rows = self._conn.execute(
                    "SELECT id FROM places WHERE geometry IS NOT NULL"
                    " AND GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON') AND ST_Area(geom) > 0"
                    " AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(?, ?), 4326)) ORDER BY ST_Area(geom), id",
                    (lon, lat)).fetchall()
            return [self.get(row[0]) for row in rows]
        from shapely.geometry import Point as ShapelyPoint

        tree, ids, areas = self._spatial()
        hits = sorted(tree.query(ShapelyPoint(lon, lat), predicate="intersects"), key=lambda i: (areas[i], ids[i]))
        return [self.get(ids[i]) for i in hits]

    def _points(self):
        """(STRtree, place ids, lats, lons) over every place without a shape, built on first use (SQLite)."""
        with self._lock:
            if self._point_tree is None:
                import numpy
                import shapely

                rows = self._conn.execute("SELECT id, lat, lon FROM places WHERE geometry IS NULL").fetchall()
                lats = numpy.array([row[1] for row in rows], dtype=float)
                lons = numpy.array([row[2] for row in rows], dtype=float)
                self._point_tree = (shapely.STRtree(shapely.points(lons, lats)), [row[0] for row in rows],
                                    lats, lons)
            return self._point_tree

    def _near_candidates(self, lat: float, lon: float) -> list[tuple[str, float, float]]:
        """(id, lat, lon) of places without a shape, among them the nearest to (lat, lon) on the globe if any lies
        within NEAREST_WITHIN_KM.

        The nearest in the plane of degrees is a place, so its distance bounds the nearest on the globe: that
        place lies in the boxes around the spherical cap of that radius."""
        from geopy.distance import great_circle

        if self._postgis():
            point = "ST_SetSRID(ST_MakePoint(?, ?), 4326)"
            with self._lock:
                seed = self._conn.execute(f"SELECT lat, lon FROM places WHERE geometry IS NULL "
                                          f"ORDER BY geom <-> {point} LIMIT 1", (lon, lat)).fetchone()
                if seed is None:
                    return []
                boxes = _cap_boxes(lat, lon, min(great_circle((lat, lon), tuple(seed)).km, NEAREST_WITHIN_KM))
                where = " OR ".join(["geom && ST_MakeEnvelope(?, ?, ?, ?, 4326)"] * len(boxes))
                return [tuple(row) for row in self._conn.execute(
                    f"SELECT id, lat, lon FROM places WHERE geometry IS NULL AND ({where})",
                    [bound for b in boxes for bound in b.bounds]).fetchall()]
        import numpy
        import shapely

        tree, ids, lats, lons = self._points()
        if not ids:
            return []
        seed = int(tree.query_nearest(shapely.Point(lon, lat), all_matches=False)[0])
        radius = min(great_circle((lat, lon), (lats[seed], lons[seed])).km, NEAREST_WITHIN_KM)
        found = numpy.unique(tree.query(_cap_boxes(lat, lon, radius))[1])
        return [(ids[i], float(lats[i]), float(lons[i])) for i in found]

    def _nearest_point(self, lat: float, lon: float) -> Place | None:
        """The place without a shape nearest to (lat, lon) on the globe, if within NEAREST_WITHIN_KM; among
        equally near places, the first by id."""
        from geopy.distance import great_circle

        ranked = [(great_circle((lat, lon), (plat, plon)).km, pid) for pid, plat, plon in
                  self._near_candidates(lat, lon)]
        distance, best = min(ranked, default=(math.inf, None))
        return self.get(best) if distance <= NEAREST_WITHIN_KM else None

    # -------------------------------------------------------------------------------------- overrides
    def with_overrides(self, upserts=(), deleted_ids=()) -> GazetteerView:
        """A read-only view that sees `upserts` (Places) as stored and `deleted_ids` as gone."""
        return GazetteerView(self, list(upserts), set(deleted_ids))


class GazetteerView(Geocoder, _NameIndex):
    """A cheap overlay over a Gazetteer with proposed edits (the admin's impact preview); never writes."""

    def __init__(self, base: Gazetteer, upserts: list[Place], deleted_ids: set[str]):
        super().__init__(user_agent="mapapp")
        self.base = base
        self.upserts = {p.id: p for p in upserts}
        self.hidden = set(deleted_ids) | set(self.upserts)
        self._added: dict[str, list[tuple[str, str]]] = {}
        for place in upserts:
            for written, kind in [(place.name, "name"), *((a, "alias") for a in place.aliases)]:
                key = normalise_name(written)
                if key:
                    self._added.setdefault(key, []).append((place.id, kind))
        self._keys = None

    def _lookup(self, key: str):
        own = [(pid, kind) for pid, kind in self.base._lookup(key) if pid not in self.hidden]
        return tuple(own + self._added.get(key, []))

    def keys(self) -> frozenset[str]:
        """The base keys plus the upserts' names, minus keys left with no place."""
        if self._keys is None:
            keys = set(self.base.keys()) | (set(self._added) - self.base.not_places())
            for pid in self.hidden:
                for key in self._base_keys_of(pid):
                    if not self._lookup(key):
                        keys.discard(key)
            self._keys = frozenset(keys)
        return self._keys

    def _base_keys_of(self, place_id: str) -> list[str]:
        with self.base._lock:
            return [row[0] for row in self.base._conn.execute(
                "SELECT DISTINCT key FROM place_names WHERE place_id = ?", (place_id,))]

    def get(self, place_id: str) -> Place:
        """The place as the view sees it; raises NotFound for deleted ids."""
        if place_id in self.upserts:
            return self.upserts[place_id]
        if place_id in self.hidden:
            raise NotFound(f"no place with id {place_id!r}", field="id")
        return self.base.get(place_id)

    def not_places(self) -> frozenset[str]:
        """Keys marked "not a place"."""
        return self.base.not_places()

    def geocode(self, query, *, exactly_one=True, timeout=DEFAULT_SENTINEL, limit=None, **_kwargs):
        """As Gazetteer.geocode, over the view."""
        return _geocode(self, query, exactly_one=exactly_one, limit=limit)

    def reverse(self, query, *, exactly_one=True, timeout=DEFAULT_SENTINEL, **_kwargs):
        """As Gazetteer.reverse (proposed shapes are not indexed; the base answers)."""
        return self.base.reverse(query, exactly_one=exactly_one)

    def location(self, place: Place) -> Location:
        """A geopy Location for a place."""
        return self.base.location(place)

    def invalidate(self) -> None:
        """Drop the view's caches."""
        self._keys = None

    def refresh_if_stale(self) -> bool:
        """Refresh the base gazetteer if it changed."""
        return self.base.refresh_if_stale()

    def with_overrides(self, upserts=(), deleted_ids=()) -> GazetteerView:
        """A view on this view's base with both sets of edits (later ones win)."""
        merged = {**self.upserts, **{p.id: p for p in upserts}}
        deleted = (self.hidden - set(self.upserts)) | set(deleted_ids)
        return GazetteerView(self.base, [p for pid, p in merged.items() if pid not in deleted], deleted)


def _chunks(values: list, size: int = 900):
    """`values` in slices small enough for one statement's parameters on any SQLite build."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _marks(values) -> str:
    return ", ".join("?" * len(values))


def _cap_boxes(lat: float, lon: float, km: float) -> list:
    """Boxes in degrees, inside [-180, 180], that hold every point within `km` of (lat, lon) on the globe."""
    from shapely.geometry import box

    delta = math.degrees(km / EARTH_RADIUS) * (1 + 1e-9) + 1e-9  # a hair wider: rounding must not lose a place
    south, north = max(lat - delta, -90.0), min(lat + delta, 90.0)
    if south <= -90.0 or north >= 90.0 or delta >= 90.0:
        return [box(-180.0, south, 180.0, north)]  # the cap holds a pole: every longitude
    # The widest longitude of a cap of angular radius delta centred at latitude lat (it holds no pole).
    half = math.degrees(math.asin(min(1.0, math.sin(math.radians(delta)) / math.cos(math.radians(lat)))))
    west, east = lon - half, lon + half
    boxes = [box(max(west, -180.0), south, min(east, 180.0), north)]
    if west < -180.0:  # across the antimeridian
        boxes.append(box(west + 360.0, south, 180.0, north))
    if east > 180.0:
        boxes.append(box(-180.0, south, east - 360.0, north))
    return boxes


def _geocode(index, query, *, exactly_one: bool, limit):
    parts = _parse_query(query)
    if not parts:
        return None
    places = index.candidates(parts[0])
    if len(parts) > 1 and places:
        # "Paris, France", "Springfield, Illinois": keep candidates inside a place the rest of the query names.
        context = [p for key in parts[1:] for p in index.candidates(key)]
        codes = {p.country_code for p in context if p.feature == "country"}
        admin1 = {(p.country_code, p.admin1) for p in context if p.feature == "admin1"}
        narrowed = [p for p in places if p.country_code in codes or (p.country_code, p.admin1) in admin1]
        places = narrowed or places
    # Places that carry the words as a name or alias first, then those that carry them as a demonym.
    kinds = index.name_kinds(parts[0])
    places.sort(key=lambda p: kinds.get(p.id) == "demonym")
    if not places:
        return None
    if exactly_one:
        return index.location(places[0])
    return [index.location(p) for p in places[: limit or None]]


def open_gazetteer(data_dir=None, *, database=None, build_if_missing: bool = True,
                   progress: bool = True) -> Gazetteer:
    """The gazetteer of a data folder (or of `database`, a file or URL), building a missing SQLite one first
    (progress on stderr)."""
    path = database or location(data_dir)
    if not _is_built(path):
        if is_url(path):
            raise GazetteerMissing(f"no gazetteer in {path}: build one into SQLite with `mapapp gazetteer build`, "
                                   "then move it with `mapapp db copy --to URL`")
        if not build_if_missing:
            raise GazetteerMissing(f"no gazetteer in {os.path.dirname(path)}: run `mapapp gazetteer build`")
        from mapapp.gazetteer.build import build

        build(path, progress=progress)
    return Gazetteer(path)


def _is_built(path) -> bool:
    if is_url(path):
        conn = connect(path)
        try:
            return conn.execute("SELECT 1 FROM meta WHERE key = 'built_at'").fetchone() is not None
        finally:
            conn.close()
    if not os.path.exists(path):
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'built_at'").fetchone()
    except sqlite3.Error:
        row = None
    finally:
        conn.close()
    return row is not None


def get_gazetteer() -> Gazetteer:
    """The Flask app's shared Gazetteer (built if missing, refreshed when another process changed it)."""
    from flask import current_app

    gazetteer = current_app.extensions.get("mapapp.gazetteer")
    if gazetteer is None:
        gazetteer = open_gazetteer(database=current_app.config["DATABASE"], progress=False)
        current_app.extensions["mapapp.gazetteer"] = gazetteer
    else:
        gazetteer.refresh_if_stale()
    return gazetteer
