"""`mapapp export`: one self-contained HTML file (scripts, styles, icons, data, basemap inline) for file://."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape

from mapapp import files
from mapapp.errors import InvalidInput
from mapapp.maps import basemap, views
from mapapp.maps.builder import DENSITY_IDS, PANEL_IDS, MapSpec, render
from mapapp.maps.density import inline_density
from mapapp.maps.filters import MapFilters
from mapapp.maps.vendor import SITE_CSS, inline_text

# Coarser than the server's basemap: it travels inside every exported file.
EXPORT_OUTLINE_TOLERANCE = 0.1

_env = Environment(loader=PackageLoader("mapapp", "templates"), autoescape=select_autoescape(["html"]))


@dataclass(frozen=True)
class ExportResult:
    """What was written: the file, its size, and how many places and articles it carries."""

    path: Path
    size: int
    places: int
    articles: int


def check_base_url(value: str | None) -> str:
    """An http(s) base URL without a trailing slash, or "" for none; InvalidInput otherwise."""
    if not value:
        return ""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidInput(f"--base-url must be an http(s) URL such as http://127.0.0.1:5000, not {value[:60]!r}",
                           field="base-url")
    return value.strip().rstrip("/")


def reader_articles(conn: sqlite3.Connection, data: dict) -> dict:
    """Text and mention spans of every article the data's popups cite, for the in-file reader."""
    ids = sorted({m["article_id"] for f in data["features"] for m in f["properties"]["mentions"]})
    articles = {}
    for article_id in ids:
        view = views.load_article(conn, article_id, limit=None)  # the file's reader marks every mention
        row = view.row
        articles[str(article_id)] = {
            "title": row["title"], "source": row["source"], "published": row["published"], "url": row["url"],
            "text": row["text"], "mentions": [[m["start"], m["end"], m["place_id"]] for m in view.mentions],
        }
    return articles


def export_spec(conn: sqlite3.Connection, database: str, *, filters_args: dict, article: str | None = None,
                place: str | None = None, base_url: str = "", tiles_url: str = "",
                tiles_attribution: str = "") -> MapSpec:
    """The MapSpec of an exported view: one article, one place, or the overview under `filters_args`."""
    links = {"mode": "server", "base": base_url} if base_url else {"mode": "reader", "base": ""}
    base = MapSpec(tiles_url=tiles_url, tiles_attribution=tiles_attribution, links=links,
                   link_target="_blank" if base_url else None, url_state="hash", inline_assets=True,
                   outlines=basemap.country_outlines(conn, database, tolerance=EXPORT_OUTLINE_TOLERANCE),
                   controls=frozenset({"filters", "layers", "list", "search", "fit", "density"}))
    if article is not None:
        spec = views.article_spec(conn, views.load_article(conn, article, limit=0), {}, base)
    elif place is not None:
        spec = views.place_spec(conn, views.load_place(conn, place), {}, base)
    else:
        filters = MapFilters.from_args(filters_args)
        spec = views.inline_spec(conn, filters, {}, base)
        # As on the overview (only there): the density view, its answers carried in the file.
        spec.density = inline_density(conn, filters)
    spec.facets = None  # the file's controls offer what its own data holds
    if not base_url:
        spec.articles = reader_articles(conn, spec.data)
    return spec


def render_export(spec: MapSpec, *, title: str) -> str:
    """The whole HTML document of an exported map."""
    return _env.get_template("maps/export.html").render(
        map=render(spec), ids=PANEL_IDS, title=title, site_css=inline_text(SITE_CSS),
        reader=spec.links.get("mode") == "reader", density_ids=DENSITY_IDS if spec.density else None)


def check_out_path(path: Path) -> Path:
    """`path` as a Path to a file that may be written: InvalidInput when it is a folder or its folder is missing."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder; give a file name such as {path / 'map.html'}", field="out")
    if not path.parent.is_dir():
        raise InvalidInput(f"folder {path.parent} does not exist", field="out")
    return path


def write_atomic(path: Path, text: str) -> int:
    """Write `text` to the file `path` (checked by check_out_path) atomically; returns the size in bytes."""
    return files.write_atomic(check_out_path(path), text)


def export_map(conn: sqlite3.Connection, database: str, out: Path, *, title: str = "", **options) -> ExportResult:
    """Build the exported view of `options` (see export_spec) and write it atomically to `out`."""
    spec = export_spec(conn, database, **options)
    features = spec.data["features"]
    cited = {m["article_id"] for f in features for m in f["properties"]["mentions"]}
    size = write_atomic(out, render_export(spec, title=title or "Map of places in the news"))
    return ExportResult(Path(out), size, len(features), len(cited))
