"""Map filters: what a page, embed, export or API request asks to see, validated, and the SQL that selects it."""
from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass

from mapapp.errors import InvalidInput
from mapapp.gazetteer.names import normalise_name
from mapapp.params import whole_number

MAX_VALUES = 100  # per repeatable parameter
MAX_TEXT = 200
# Reserved `source` values: the articles with no source recorded, and "no source chosen" (matches nothing).
UNKNOWN_SOURCE = "(unknown)"
NO_SOURCE = "(none)"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}


def _values(args, name: str) -> list[str]:
    """Every value of `name` in a MultiDict (request.args) or a plain dict of str / list values."""
    if hasattr(args, "getlist"):
        values = args.getlist(name)
    else:
        value = args.get(name)
        values = [] if value is None else list(value) if isinstance(value, (list, tuple, set)) else [value]
    if len(values) > MAX_VALUES:
        raise InvalidInput(f"too many '{name}' values (at most {MAX_VALUES})", field=name)
    return [str(value) for value in values]


def _text(value: str, name: str) -> str:
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"'{name}' is longer than {MAX_TEXT} characters", field=name)
    if "\x00" in value:
        raise InvalidInput(f"'{name}' contains a NUL character", field=name)
    return value


def _single(args, name: str) -> str | None:
    values = [value for value in _values(args, name) if value.strip()]
    if len(values) > 1:
        raise InvalidInput(f"'{name}' may be given only once", field=name)
    return _text(values[0], name) if values else None


def _date(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        if _ISO_DATE.match(value):
            return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise InvalidInput(f"'{name}' must be a date YYYY-MM-DD, not {value[:40]!r}", field=name)


@dataclass(frozen=True)
class MapFilters:
    """Which mentions a map view shows; every field empty means everything."""

    sources: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    articles: tuple[int, ...] = ()
    place: str | None = None
    features: tuple[str, ...] = ()
    q: str = ""
    demonyms: bool = False
    undated: bool = False  # with a date range: keep the articles that have no date too
    text: str = ""  # full-text search: only the articles matching it (mapapp.articles.search)

    @classmethod
    def from_args(cls, args) -> MapFilters:
        """Validate query parameters (source, from, to, article, place, feature, q, demonyms, undated, text);
        InvalidInput names the bad one."""
        date_from = _date(_single(args, "from"), "from")
        date_to = _date(_single(args, "to"), "to")
        if date_from and date_to and date_from > date_to:
            raise InvalidInput(f"'from' ({date_from}) is after 'to' ({date_to})", field="from")
        demonyms = (_single(args, "demonyms") or "").lower()
        if demonyms not in _TRUE | _FALSE:
            raise InvalidInput("'demonyms' must be 1 or 0", field="demonyms")
        undated = (_single(args, "undated") or "").lower()
        if undated not in _TRUE | _FALSE:
            raise InvalidInput("'undated' must be 1 or 0", field="undated")
        return cls(
            sources=tuple(dict.fromkeys(_text(v, "source") for v in _values(args, "source") if v.strip())),
            date_from=date_from,
            date_to=date_to,
            articles=tuple(sorted({whole_number(v, "article", minimum=1) for v in _values(args, "article")
                                   if v.strip()})),
            place=_single(args, "place"),
            features=tuple(dict.fromkeys(_text(v, "feature") for v in _values(args, "feature") if v.strip())),
            q=_single(args, "q") or "",
            demonyms=demonyms in _TRUE,
            undated=undated in _TRUE,
            text=_single(args, "text") or "",
        )

    def to_args(self) -> list[tuple[str, str]]:
        """The query parameters that reproduce these filters (for share/embed URLs)."""
        pairs = [("source", s) for s in self.sources]
        pairs += [(name, value) for name, value in (("from", self.date_from), ("to", self.date_to)) if value]
        pairs += [("article", str(a)) for a in self.articles]
        pairs += [("place", self.place)] if self.place else []
        pairs += [("feature", f) for f in self.features]
        pairs += [("q", self.q)] if self.q else []
        pairs += [("demonyms", "1")] if self.demonyms else []
        pairs += [("undated", "1")] if self.undated else []
        pairs += [("text", self.text)] if self.text else []
        return pairs

    def check(self, conn: sqlite3.Connection) -> None:
        """Raise InvalidInput when an article id, place id or feature type names nothing stored, or `text` is
        not a search FTS5 can run."""
        if self.text:
            from mapapp.articles.search import check_query

            check_query(conn, self.text, "text")
        if self.articles:
            found = {row[0] for row in conn.execute(
                f"SELECT id FROM articles WHERE id IN ({','.join('?' * len(self.articles))})", self.articles)}
            missing = [a for a in self.articles if a not in found]
            if missing:
                raise InvalidInput(f"no article with id {missing[0]}", field="article")
        if self.place and not conn.execute("SELECT 1 FROM places WHERE id = ?", (self.place,)).fetchone():
            raise InvalidInput(f"no place with id {self.place[:60]!r}", field="place")
        if self.features:
            known = {row[0] for row in conn.execute("SELECT DISTINCT feature FROM places")}
            unknown = [f for f in self.features if f not in known]
            if unknown:
                raise InvalidInput(f"unknown feature type {unknown[0][:40]!r}", field="feature")

    def where(self, dialect: str = "sqlite") -> tuple[str, list]:
        """SQL condition over mentions m and articles a, and its parameters, in the store's `dialect`."""
        clauses, params = ["m.place_id IS NOT NULL"], []
        if not self.demonyms:
            clauses.append("m.kind = 'place'")
        if self.sources:
            # An article without a source has source ''; NO_SOURCE alone (every source unchecked) matches nothing.
            sources = ["" if s == UNKNOWN_SOURCE else s for s in self.sources if s != NO_SOURCE]
            clauses.append(f"a.source IN ({','.join('?' * len(sources))})" if sources else "1 = 0")
            params.extend(sources)
        if self.articles:
            clauses.append(f"m.article_id IN ({','.join('?' * len(self.articles))})")
            params.extend(self.articles)
        dates = []
        if self.date_from:
            dates.append("a.published >= ?")
            params.append(self.date_from)
        if self.date_to:
            dates.append("a.published <= ?")
            params.append(self.date_to)
        if dates:
            dated = " AND ".join(dates)
            clauses.append(f"({dated} OR {UNDATED_SQL})" if self.undated else dated)
        if self.place:
            clauses.append("m.place_id = ?")
            params.append(self.place)
        if self.text:
            from mapapp.articles.search import fts_query, matching_articles_sql, query_parameter

            clauses.append(f"m.article_id IN ({matching_articles_sql(dialect)})")
            params.append(query_parameter(fts_query(self.text, "text"), dialect))
        # Feature and name filters choose places: test each mentioned place once, not once per mention.
        chosen, chosen_params = [], []
        if self.features:
            chosen.append(f"p.feature IN ({','.join('?' * len(self.features))})")
            chosen_params.extend(self.features)
        if self.q:
            # lower(): LIKE ignores ASCII case in SQLite but not in PostgreSQL; this way both stores agree.
            chosen.append("(lower(p.name) LIKE lower(?) ESCAPE '\\' OR EXISTS (SELECT 1 FROM place_names n"
                          " WHERE n.place_id = p.id AND n.key LIKE ? ESCAPE '\\'))")
            chosen_params.extend([like_pattern(self.q), like_pattern(normalise_name(self.q))])
        if chosen:
            clauses.append("m.place_id IN (SELECT p.id FROM places p WHERE p.id IN (SELECT place_id FROM mentions)"
                           f" AND {' AND '.join(chosen)})")
            params.extend(chosen_params)
        return " AND ".join(clauses), params

    def joins(self, *, articles: bool = False) -> str:
        """The FROM clause where() needs: mentions m, plus articles a when asked or filtered on."""
        if articles or self.sources or self.date_from or self.date_to:
            return "mentions m JOIN articles a ON a.id = m.article_id"
        return "mentions m"


# An article with no date: its published column is NULL or empty.
UNDATED_SQL = "COALESCE(a.published, '') = ''"


def like_pattern(text: str) -> str:
    """`text` as a LIKE pattern matching it anywhere (ESCAPE backslash)."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
