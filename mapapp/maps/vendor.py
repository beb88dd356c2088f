"""The browser files every map needs (Leaflet, MarkerCluster, mapapp's own), served locally or inlined."""
from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster

from mapapp import bundled

# url prefix (under the `assets` blueprint) -> folder on disk
VENDOR_DIRS: dict[str, Path] = {
    "leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
    "markercluster": Path(xstatic.pkg.leaflet_markercluster.BASE_DIR),
}
MAP_STATIC = bundled.path("static", "map")


@dataclass(frozen=True)
class Asset:
    """One script or stylesheet: its URL on the server and its file on disk."""

    kind: str  # "js" or "css"
    url: str
    path: Path


def _vendor(prefix: str, name: str, kind: str) -> Asset:
    return Asset(kind, f"/vendor/{prefix}/{name}", VENDOR_DIRS[prefix] / name)


def _own(name: str, kind: str) -> Asset:
    return Asset(kind, f"/static/map/{name}", MAP_STATIC / name)


# mapapp's own scripts, each a part of the one `window.mapapp` namespace; mapapp.js (the namespace and the
# helpers the others use) comes first.
MAP_SCRIPTS = ("mapapp.js", "data.js", "basemap.js", "controls.js", "urlstate.js", "reader.js", "downloads.js",
               "density.js")

# Order matters: Leaflet before its plugin, the plugin before mapapp's scripts.
MAP_ASSETS: tuple[Asset, ...] = (
    _vendor("leaflet", "leaflet.css", "css"),
    _vendor("markercluster", "MarkerCluster.css", "css"),
    _vendor("markercluster", "MarkerCluster.Default.css", "css"),
    _own("mapapp.css", "css"),
    _own("density.css", "css"),
    _vendor("leaflet", "leaflet.js", "js"),
    _vendor("markercluster", "leaflet.markercluster.js", "js"),
    *(_own(name, "js") for name in MAP_SCRIPTS),
)

# Marker images, by the name mapapp.js knows them by.
ICONS: dict[str, Path] = {
    "icon": VENDOR_DIRS["leaflet"] / "images" / "marker-icon.png",
    "icon2x": VENDOR_DIRS["leaflet"] / "images" / "marker-icon-2x.png",
    "shadow": VENDOR_DIRS["leaflet"] / "images" / "marker-shadow.png",
}


def data_uri(path: Path) -> str:
    """The file at `path` as a base64 data: URI."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def icon_urls(*, inline: bool, prefix: str = "") -> dict[str, str]:
    """Marker image URLs for mapapp.js: server paths (under `prefix`), or data: URIs for a self-contained file."""
    if inline:
        return {name: data_uri(path) for name, path in ICONS.items()}
    return {name: f"{prefix}/vendor/leaflet/images/{path.name}" for name, path in ICONS.items()}


_CSS_URL = re.compile(r"url\((['\"]?)(images/[\w.-]+)\1\)")


def inline_text(asset: Asset) -> str:
    """The asset's text, ready to sit inside <script> or <style>: CSS images become data: URIs."""
    text = asset.path.read_text(encoding="utf-8")
    if asset.kind == "css":
        text = _CSS_URL.sub(lambda m: f'url("{data_uri(asset.path.parent / m.group(2))}")', text)
    # A literal "</script" or "</style" inside the element would end it early; "<\/" means the same to JS and CSS.
    return re.sub(r"</(script|style)", r"<\\/\1", text, flags=re.IGNORECASE)


# The site's own stylesheet, inlined into exported files so they look like the pages.
SITE_CSS = Asset("css", "/static/site.css", bundled.path("static", "site.css"))
