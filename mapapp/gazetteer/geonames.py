"""Streaming import of standard GeoNames dumps (allCountries.txt, cities*.txt, alternateNamesV2.txt).

Lines are read one at a time and written in batches inside ONE transaction: memory stays bounded whatever the
file size, and a malformed line rolls everything back (MalformedFile names the file and the line).
Only Latin-script names are kept, as in the base build. Rows get ids 'gn:<geonameid>' and source 'geonames-dump';
places edited by an admin are left alone.
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path

from tqdm import tqdm

from mapapp.db import connect, transaction
from mapapp.errors import MalformedFile
from mapapp.gazetteer.build import protected_ids
from mapapp.gazetteer.names import normalise_name
from mapapp.gazetteer.records import PLACE_COLUMNS, bump_version, is_latin, name_rows

BATCH = 5_000
GEONAME_COLUMNS = 19
ALTERNATE_COLUMNS = (8, 10)  # alternateNames.txt has 8 columns; V2 adds from/to
# GeoNames feature codes that mapapp's classes name differently.
_FEATURE_BY_CODE = {"ADM1": "admin1", "ADM2": "admin2", "ADM3": "admin3", "ADM4": "admin4", "PCLI": "country",
                    "PCLD": "country", "PCLF": "country", "PCLS": "country", "PCLIX": "country", "PCL": "country",
                    "TERR": "country", "CONT": "continent", "OCN": "ocean", "SEA": "sea", "GULF": "gulf",
                    "BAY": "gulf", "LK": "lake", "LKS": "lake", "RSV": "lake", "STM": "river", "MT": "mountain",
                    "PK": "mountain", "MTS": "mountains", "DSRT": "desert", "PEN": "peninsula", "RGN": "region",
                    "STRT": "strait", "ISL": "island", "ISLS": "island"}
_FEATURE_BY_CLASS = {"P": "city", "A": "admin", "H": "water", "T": "terrain", "L": "region", "S": "spot",
                     "R": "road", "V": "vegetation", "U": "undersea"}
_SKIPPED_LANGUAGES = {"link", "wkdt", "post", "iata", "icao", "faac", "fr_1793", "unlc", "tcid"}
_UPSERT = (f"INSERT INTO places ({', '.join(PLACE_COLUMNS)}) VALUES ({', '.join('?' * len(PLACE_COLUMNS))}) "
           "ON CONFLICT(id) DO UPDATE SET "
           + ", ".join(f"{c} = excluded.{c}" for c in PLACE_COLUMNS if c not in ("id", "version"))
           + " WHERE places.source != 'admin'")
_INSERT_NAME_IF_PLACE = ("INSERT INTO place_names (place_id, name, key, kind) "
                         "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM places WHERE id = ? AND source != 'admin')"
                         " ON CONFLICT DO NOTHING")


def is_alternate_names_file(path: Path) -> bool:
    """True for alternateNames(V2).txt, told by its name or by its first line's shape."""
    if path.name.lower().startswith("alternatenames"):
        return True
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline().rstrip("\r\n").split("\t")
    return len(first) in ALTERNATE_COLUMNS and len(first) != GEONAME_COLUMNS


def _lines(path: Path, progress: bool, desc: str):
    """(line number, fields) of a tab-separated UTF-8 file, with a byte progress bar."""
    bar = tqdm(total=os.path.getsize(path), unit="B", unit_scale=True, disable=not progress, file=sys.stderr,
               desc=desc)
    with open(path, "rb") as handle, bar:
        for number, raw in enumerate(handle, start=1):
            bar.update(len(raw))
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise MalformedFile("not UTF-8 text", path=str(path), line=number) from None
            if line and not line.startswith("#"):
                yield number, line.split("\t")


def _number(text: str, kind, what: str, path: Path, number: int):
    try:
        value = kind(text) if text != "" else kind(0)
    except ValueError:
        raise MalformedFile(f"{what} is not a number: {text[:30]!r}", path=str(path), line=number) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedFile(f"{what} is not finite", path=str(path), line=number)
    return value


def _parse_geoname(fields: list[str], path: Path, number: int) -> tuple[tuple, list[str]]:
    """A `places` row and the alternate names of one line of a GeoNames dump."""
    if len(fields) != GEONAME_COLUMNS:
        raise MalformedFile(f"expected {GEONAME_COLUMNS} tab-separated columns, found {len(fields)}",
                            path=str(path), line=number)
    geonameid = _number(fields[0], int, "geonameid", path, number)
    lat = _number(fields[4], float, "latitude", path, number)
    lon = _number(fields[5], float, "longitude", path, number)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise MalformedFile(f"coordinates out of range: {lat}, {lon}", path=str(path), line=number)
    population = _number(fields[14], int, "population", path, number)
    name = fields[1].strip()
    if not name:
        raise MalformedFile("empty name", path=str(path), line=number)
    code, klass = fields[7], fields[6]
    feature = _FEATURE_BY_CODE.get(code) or _FEATURE_BY_CLASS.get(klass, "place")
    row = (f"gn:{geonameid}", name, feature, code, fields[8] or None, fields[10], fields[11], lat, lon,
           max(population, 0), None, 0, "geonames-dump", "", 1)
    aliases = [a for a in fields[3].split(",") if a and is_latin(a)]
    if fields[2] and fields[2] != name:
        aliases.append(fields[2])
    return row, aliases


def _parse_alternate(fields: list[str], path: Path, number: int) -> tuple | None:
    """(place_id, name, key, kind) of one line of alternateNames(V2).txt, None when not kept."""
    if len(fields) not in ALTERNATE_COLUMNS:
        raise MalformedFile(f"expected 8 or 10 tab-separated columns, found {len(fields)}",
                            path=str(path), line=number)
    geonameid = _number(fields[1], int, "geonameid", path, number)
    language, name = fields[2], fields[3].strip()
    if language in _SKIPPED_LANGUAGES or not name or not is_latin(name):
        return None
    key = normalise_name(name)
    if not key:
        return None
    return (f"gn:{geonameid}", name, key, "abbreviation" if language == "abbr" else "alias")


def import_dump(db_path, path, *, progress: bool = True) -> dict:
    """Import one GeoNames dump file into the database at `db_path`, all or nothing; returns counts."""
    path = Path(path)
    conn = connect(db_path)
    places = names = 0
    try:
        with transaction(conn):
            if is_alternate_names_file(path):
                batch = []
                for number, fields in _lines(path, progress, path.name):
                    row = _parse_alternate(fields, path, number)
                    if row:
                        batch.append((*row, row[0]))
                    if len(batch) >= BATCH:
                        names += _write_names(conn, batch)
                        batch = []
                names += _write_names(conn, batch)
            else:
                skip = protected_ids(conn)
                rows, name_batch = [], []
                for number, fields in _lines(path, progress, path.name):
                    row, aliases = _parse_geoname(fields, path, number)
                    if row[0] in skip:
                        continue
                    rows.append(row)
                    name_batch.extend((*n, n[0]) for n in name_rows(row[0], row[1], aliases))
                    if len(rows) >= BATCH:
                        places += _write_places(conn, rows, name_batch)
                        rows, name_batch = [], []
                places += _write_places(conn, rows, name_batch)
            bump_version(conn)
    finally:
        conn.close()
    return {"places": places, "names": names}


def _write_places(conn, rows, names) -> int:
    conn.executemany(_UPSERT, rows)
    _write_names(conn, names)
    return len(rows)


def _write_names(conn, names) -> int:
    # rowcount counts this statement's rows only (total_changes would count the name_keys trigger's too).
    return max(conn.executemany(_INSERT_NAME_IF_PLACE, names).rowcount, 0) if names else 0
