"""Build one folium map from a MapSpec and hand its three parts (head, body, script) to a page template."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from urllib.parse import urlencode

import folium
from markupsafe import Markup

from mapapp.cache import memoize
from mapapp.maps import elements
from mapapp.maps.features import FULL_DETAIL_ZOOM, detail_zoom
from mapapp.maps.vendor import icon_urls

GEONAMES_ATTRIBUTION = '<a href="https://www.geonames.org/">GeoNames</a> (CC-BY 4.0)'

# Element ids of the controls in templates/maps/_panel.html, shared by pages, embeds and exports.
PANEL_IDS = {
    "sources": "filter-sources", "from": "filter-from", "to": "filter-to",
    "fromRange": "filter-from-range", "toRange": "filter-to-range",
    "features": "layer-features", "articles": "layer-articles",
    "list": "place-list", "count": "place-count",
    "form": "place-search", "input": "place-search-input", "options": "place-search-options",
    "status": "map-status", "reader": "reader", "undated": "filter-undated", "undatedCount": "filter-undated-count",
    "undatedBox": "filter-undated-box", "legend": "map-legend",
}
SHARE_IDS = {"button": "share-button", "panel": "share-panel", "snippet": "share-snippet",
             "link": "share-link", "copy": "share-copy", "width": "share-width", "height": "share-height",
             "fit": "share-fit", "view": "share-view", "filters": "share-filters", "preview": "share-preview",
             "density": "share-density"}

# The density view's controls (templates/maps/_panel.html density()) and the download links (downloads()).
DENSITY_IDS = {"markers": "view-markers", "density": "view-density", "options": "density-options",
               "by": "density-by", "count": "density-count", "step": "density-step", "prev": "density-prev",
               "play": "density-play", "next": "density-next", "all": "density-all", "frame": "density-frame",
               "timeline": "density-timeline"}
DOWNLOAD_IDS = {"geojson": "download-geojson", "csv": "download-csv", "kml": "download-kml", "gpkg": "download-gpkg"}

START_VIEW = {"lat": 40.0, "lon": 45.0, "zoom": 5}  # the map's view before it fits the data

ALL_CONTROLS = frozenset({"filters", "layers", "list", "search", "fit", "share"})


@dataclass
class MapSpec:
    """Everything one map view needs: its data (inline or a URL), initial state, links, tiles and controls."""

    data: dict | None = None              # inline FeatureCollection
    data_url: str | None = None           # or fetched from here (the API) with the filters
    fixed_params: dict = field(default_factory=dict)   # filters the controls do not change (place, q)
    state: dict = field(default_factory=dict)          # source, from, to, feature, article, sel
    view: dict | None = None              # lat, lon, zoom from the URL
    facets: dict | None = None            # sources, features, min_date, max_date for the controls
    links: dict = field(default_factory=lambda: {"mode": "server", "base": ""})
    link_target: str | None = None        # "_blank" inside iframes
    tiles_url: str = ""
    tiles_attribution: str = ""
    outlines_url: str | None = None
    outlines: dict | None = None          # inline outline basemap (export)
    controls: frozenset = ALL_CONTROLS
    url_state: str | None = "query"       # "query", "hash" or None
    embed_path: str | None = None
    marks: str | None = None              # CSS selector of text whose <mark>s select places
    articles: dict | None = None          # article texts for the in-file reader (export)
    inline_assets: bool = False
    asset_prefix: str = ""
    label: str = "Map of the places named in the articles"
    density_url: str | None = None        # /api/density: the density view (with "density" in controls)
    density: dict | None = None           # or its answers inline (export): density.inline_density()
    export_url: str | None = None         # /api/export: download links follow the filters ("downloads")


@dataclass(frozen=True)
class MapParts:
    """A rendered map: what goes in <head>, where the map sits, and the script that draws it."""

    header: Markup
    html: Markup
    script: Markup


def first_detail(spec: MapSpec) -> int:
    """The shape detail (`zoom`) of the view's first data request: for the URL's zoom, else the start view's."""
    return detail_zoom((spec.view or START_VIEW)["zoom"])


def data_request_url(spec: MapSpec) -> str | None:
    """The API URL of the view's first data request: fixed filters, then sources and dates, then the shape
    detail (None if inline)."""
    if not spec.data_url:
        return None
    state = spec.state
    pairs = [(key, value) for key, values in spec.fixed_params.items() for value in _listed(values)]
    pairs += [("source", value) for value in _listed(state.get("source"))]
    pairs += [(key, state[key]) for key in ("from", "to") if state.get(key)]
    pairs += [("undated", "1")] if state.get("undated") and (state.get("from") or state.get("to")) else []
    pairs += [("zoom", str(first_detail(spec)))]
    return spec.data_url + ("?" + urlencode(pairs) if pairs else "")


def _listed(value) -> list:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def build(spec: MapSpec) -> folium.Map:
    """The folium Map of `spec`, extras attached in the order the browser must run them."""
    fmap = elements.LocalMap(label=spec.label, inline_assets=spec.inline_assets, asset_prefix=spec.asset_prefix,
                             location=[START_VIEW["lat"], START_VIEW["lon"]],
                             zoom_start=START_VIEW["zoom"], tiles=None, control_scale=True)
    # Clustering needs a maxZoom even when there is no tile layer to supply one.
    fmap.options.update(maxZoom=18, minZoom=1)
    tiles = None
    if spec.tiles_url:
        tiles = elements.TileLayer(spec.tiles_url, spec.tiles_attribution or "Map tiles").add_to(fmap)
    initial_url = data_request_url(spec)
    options = {
        "data": spec.data, "dataUrl": spec.data_url, "initialUrl": initial_url, "fixedParams": spec.fixed_params,
        "state": spec.state,
        "facets": spec.facets, "links": spec.links, "linkTarget": spec.link_target,
        "icons": icon_urls(inline=spec.inline_assets, prefix=spec.asset_prefix), "attribution": GEONAMES_ATTRIBUTION,
        "ids": PANEL_IDS, "articles": spec.articles,
        # Fetched data comes at the detail of the map's zoom (inline data carries the stored shapes).
        "detailZoom": first_detail(spec) if spec.data_url else None, "fullDetailZoom": FULL_DETAIL_ZOOM,
    }
    layer = elements.DataLayer(options, preload=initial_url)
    layer.add_to(fmap)
    if spec.outlines_url or spec.outlines:
        elements.OutlineBasemap(tiles, url=spec.outlines_url, data=spec.outlines).add_to(fmap)
    controls = spec.controls
    if "filters" in controls:
        elements.FilterControl(layer).add_to(fmap)
    if "layers" in controls:
        elements.LayerControl(layer).add_to(fmap)
    if "list" in controls:
        elements.ListView(layer).add_to(fmap)
    if "search" in controls:
        elements.PlaceSearch(layer).add_to(fmap)
    elements.LegendControl(layer).add_to(fmap)
    if "fit" in controls:
        elements.FitControl(layer, "topleft").add_to(fmap)
    if "share" in controls and spec.embed_path:
        elements.ShareControl(layer, SHARE_IDS, spec.embed_path).add_to(fmap)
    if "downloads" in controls and spec.export_url:
        elements.DownloadLinks(layer, {"url": spec.export_url, "ids": DOWNLOAD_IDS}).add_to(fmap)
    if "density" in controls and (spec.density_url or spec.density):
        elements.DensityView(layer, {"url": spec.density_url, "data": spec.density, "ids": DENSITY_IDS}).add_to(fmap)
    if spec.url_state:
        elements.UrlState(layer, spec.url_state).add_to(fmap)
    if spec.marks:
        elements.MarkBinding(layer, spec.marks).add_to(fmap)
    elements.Start(layer, spec.view or {}).add_to(fmap)
    return fmap


def render(spec: MapSpec) -> MapParts:
    """Render `spec` into the three parts a page template places (views without inline data are cached)."""
    if spec.data is not None or spec.articles is not None or spec.outlines is not None or spec.density is not None:
        return _render(spec)
    return _render_shell(spec)


# Keyed by the whole spec: the facets in it change with the data, so an entry is never stale, only unused.
@memoize("map shells", key=lambda spec: json.dumps(asdict(spec), sort_keys=True, default=sorted))
def _render_shell(spec: MapSpec) -> MapParts:
    return _render(spec)


def _render(spec: MapSpec) -> MapParts:
    figure = build(spec).get_root()
    figure.render()
    return MapParts(header=Markup(figure.header.render()), html=Markup(figure.html.render()),
                    script=Markup(figure.script.render()))
