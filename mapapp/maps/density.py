"""Where the news is densest: articles or mentions per country or first-level division, over time.

A mention counts toward the country and the admin-1 division of the place it names (the place's GeoNames
country_code and admin1 codes); the regions are the gazetteer's country and admin1 places and their stored shapes.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import sqlite3
from dataclasses import dataclass

from mapapp.db import dialect
from mapapp.errors import InvalidInput
from mapapp.maps.basemap import outline
from mapapp.maps.filters import MapFilters

LEVELS = ("country", "admin1")
COUNTS = ("articles", "mentions")
STEPS = ("week", "month")
CLASS_COUNT = 5
MAX_PERIODS = 1200  # 23 years of weeks, 100 years of months
OUTLINE_TOLERANCE = 0.02  # degrees: enough for a choropleth at country and province zoom
# The first day of the week (Monday) or month a published date falls in, as SQL over articles a, per store;
# NULL for no date (PostgreSQL would refuse to cast a malformed one: only ISO dates are read there).
PERIOD_SQL = {
    "sqlite": {"week": "date(a.published, '-6 days', 'weekday 1')", "month": "strftime('%Y-%m-01', a.published)"},
    "postgresql": {
        step: f"CASE WHEN a.published ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}' THEN"
              f" to_char(date_trunc('{step}', substr(a.published, 1, 10)::date), 'YYYY-MM-DD') END"
        for step in ("week", "month")},
}


def period_sql(conn, step: str) -> str:
    """SQL for the first day of the `step` (week or month) of article a's date, in the store's dialect."""
    return PERIOD_SQL[dialect(conn)][step]


def _choice(args, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    values = [v.strip() for v in (args.getlist(name) if hasattr(args, "getlist") else [args.get(name) or ""])
              if v and v.strip()]
    if len(values) > 1:
        raise InvalidInput(f"'{name}' may be given only once", field=name)
    if not values:
        return default
    if values[0] not in allowed:
        raise InvalidInput(f"'{name}' must be one of {', '.join(allowed)}, not {values[0][:40]!r}", field=name)
    return values[0]


@dataclass(frozen=True)
class DensityQuery:
    """What a density view counts: per country or admin1, articles or mentions, optionally per week or month."""

    by: str = "country"
    count: str = "articles"
    step: str | None = None

    @classmethod
    def from_args(cls, args) -> DensityQuery:
        """Validate ?by=country|admin1, ?count=articles|mentions, ?step=week|month; InvalidInput names the bad one."""
        return cls(by=_choice(args, "by", LEVELS, "country"), count=_choice(args, "count", COUNTS, "articles"),
                   step=_choice(args, "step", STEPS, None))


def quantile_breaks(values, classes: int = CLASS_COUNT) -> list[int]:
    """Upper bounds (ascending, distinct) of up to `classes` quantile classes of the positive `values`."""
    ordered = sorted(v for v in values if v > 0)
    if not ordered:
        return []
    breaks = [ordered[math.ceil(i * len(ordered) / classes) - 1] for i in range(1, classes + 1)]
    return sorted(set(breaks))


def _region_key(by: str) -> str:
    return "p.country_code" if by == "country" else "p.country_code || '.' || p.admin1"


def _grouped(conn: sqlite3.Connection, filters: MapFilters, query: DensityQuery, period: str | None) -> list:
    where, params = filters.where(dialect(conn))
    key = _region_key(query.by)
    counted = "COUNT(DISTINCT m.article_id)" if query.count == "articles" else "COUNT(*)"
    has_region = "COALESCE(p.country_code, '') != ''" + (" AND p.admin1 != ''" if query.by == "admin1" else "")
    period_of = period_sql(conn, period) if period else "NULL"
    dated = f" AND {period_of} IS NOT NULL" if period else ""
    return conn.execute(
        f"SELECT {key} AS region, {period_of} AS period, {counted} AS n"
        f" FROM {filters.joins(articles=bool(period))} JOIN places p ON p.id = m.place_id"
        f" WHERE {where} AND {has_region}{dated} GROUP BY region, period", params).fetchall()


def _regions(conn: sqlite3.Connection, by: str, codes: set[str]) -> dict[str, sqlite3.Row]:
    """Region code ("AM" or "AM.08") -> its gazetteer place (the most populous one of that code)."""
    found: dict[str, sqlite3.Row] = {}
    codes = sorted(codes)
    for first in range(0, len(codes), 500):
        chunk = codes[first:first + 500]
        for row in conn.execute(
                f"SELECT {_region_key(by)} AS code, p.id, p.name, p.country_code, p.approximate, p.version,"
                f" p.geometry FROM places p WHERE p.feature = ? AND {_region_key(by)} IN ({','.join('?' * len(chunk))})"
                " ORDER BY p.population DESC, p.id", [by, *chunk]):
            found.setdefault(row["code"], row)
    return found


@functools.lru_cache(maxsize=8192)
def _outline(place_id: str, version: int, geometry: str | None) -> dict | None:
    # Keyed by version: an edit of the shape bumps it.
    return outline(geometry, OUTLINE_TOLERANCE) if geometry else None


def period_end(start: str, step: str) -> str:
    """The last day (ISO) of the week or month that starts on `start`."""
    day = dt.date.fromisoformat(start)
    if step == "week":
        return (day + dt.timedelta(days=6)).isoformat()
    following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return (following - dt.timedelta(days=1)).isoformat()


def next_period(start: str, step: str) -> str:
    """The first day (ISO) of the week or month after the one that starts on `start`."""
    return (dt.date.fromisoformat(period_end(start, step)) + dt.timedelta(days=1)).isoformat()


def density(conn: sqlite3.Connection, filters: MapFilters, query: DensityQuery) -> dict:
    """A GeoJSON FeatureCollection of the regions with a count under `filters`, with classes and periods.

    Each Feature is a region with a stored shape: id (its place id), properties name, code, count, approximate.
    Foreign members: by, count, total (articles or mentions in the view, each once), unmapped (count of
    mentions whose region has no stored shape), breaks (quantile class upper bounds), and with a step the
    periods [{start, end, counts: {region id: n}}] from the first to the last dated one, with period_breaks.
    """
    filters.check(conn)
    totals = {row["region"]: row["n"] for row in _grouped(conn, filters, query, None)}
    by_period = _grouped(conn, filters, query, query.step) if query.step else []
    regions = _regions(conn, query.by, set(totals))
    features, unmapped = [], 0
    for code, n in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        row = regions.get(code)
        geometry = _outline(row["id"], row["version"], row["geometry"]) if row else None
        if geometry is None:
            unmapped += n
            continue
        features.append({"type": "Feature", "id": row["id"], "geometry": geometry,
                         "properties": {"name": row["name"], "code": code, "count": n,
                                        "approximate": bool(row["approximate"])}})
    where, params = filters.where(dialect(conn))
    counted = "COUNT(DISTINCT m.article_id)" if query.count == "articles" else "COUNT(*)"
    total = conn.execute(f"SELECT {counted} FROM {filters.joins()} WHERE {where}", params).fetchone()[0]
    collection = {"type": "FeatureCollection", "features": features, "by": query.by, "count": query.count,
                  "step": query.step, "total": total, "unmapped": unmapped,
                  "breaks": quantile_breaks(f["properties"]["count"] for f in features)}
    if query.step:
        shown = {f["properties"]["code"]: f["id"] for f in features}
        collection["periods"] = _periods(by_period, shown, query.step)
        collection["period_breaks"] = quantile_breaks(
            n for period in collection["periods"] for n in period["counts"].values())
    return collection


def _periods(rows, shown: dict[str, str], step: str) -> list[dict]:
    """Every period from the first to the last with data (empty ones too: the animation steps evenly)."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        if row["region"] in shown:
            counts.setdefault(row["period"], {})[shown[row["region"]]] = row["n"]
    if not counts:
        return []
    first, last = min(counts), max(counts)
    periods, start = [], first
    while start <= last:
        if len(periods) >= MAX_PERIODS:
            raise InvalidInput(f"step={step} makes more than {MAX_PERIODS} periods: choose month or a shorter"
                               " date range (from, to)", field="step")
        periods.append({"start": start, "end": period_end(start, step), "counts": counts.get(start, {})})
        start = next_period(start, step)
    return periods


def inline_density(conn: sqlite3.Connection, filters: MapFilters) -> dict:
    """Every density() answer the density view can ask for under `filters` (each level and count, totals and
    the week and month timelines), for a file that cannot ask: "views" keyed "by/count/step" without their
    outlines, which "outlines" holds once per level (region id -> geometry). A timeline of more than
    MAX_PERIODS periods is left out."""
    outlines: dict[str, dict] = {by: {} for by in LEVELS}
    views: dict[str, dict] = {}
    for by in LEVELS:
        for count in COUNTS:
            for step in (None, *STEPS):
                try:
                    answer = density(conn, filters, DensityQuery(by, count, step))
                except InvalidInput:
                    continue
                for feature in answer["features"]:
                    outlines[by][feature["id"]] = feature.pop("geometry")
                views[f"{by}/{count}/{step or ''}"] = answer
    return {"outlines": outlines, "views": views}
