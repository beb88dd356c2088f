"""folium elements of mapapp's maps: a CDN-free base map and small extras that call static/map/mapapp.js."""
from __future__ import annotations

from typing import ClassVar

import folium
from branca.element import Element, MacroElement
from folium.template import Template

from mapapp.escaping import script_json
from mapapp.maps.vendor import MAP_ASSETS, inline_text


class MapAssets(Element):
    """Leaflet, MarkerCluster and mapapp's own script and styles: local links, or inline for a standalone file."""

    _template = Template(
        "{% for asset in this.assets %}"
        "{% if this.inline %}"
        "{% if asset.kind == 'css' %}<style>{{ this.text(asset) }}</style>"
        "{% else %}<script>{{ this.text(asset) }}</script>{% endif %}"
        "{% elif asset.kind == 'css' %}<link rel=\"stylesheet\" href=\"{{ this.prefix }}{{ asset.url }}\">"
        "{% else %}<script src=\"{{ this.prefix }}{{ asset.url }}\"></script>{% endif %}\n"
        "{% endfor %}"
    )

    def __init__(self, *, inline: bool = False, prefix: str = ""):
        super().__init__()
        self._name = "MapAssets"
        self.assets = MAP_ASSETS
        self.inline = inline
        self.prefix = prefix
        self.text = inline_text


class Text(Element):
    """Markup that is already rendered: added to the page as it is."""

    def __init__(self, text: str):
        super().__init__()
        self._name = "Text"
        self.text = text

    def render(self, **kwargs) -> str:
        """The text itself."""
        return self.text


class Macro(MacroElement):
    """A MacroElement whose rendered header/html/script go into the page as Text.

    branca wraps each rendered part in a new Element, which compiles it as a Jinja template: a compile per
    element per page (most of a page's render time), and data such as "{{ ... }}" in a place name or an
    article title would be evaluated as template code. Here each part is rendered once, with the
    template compiled once per class.
    """

    def render(self, **kwargs):
        """Add this element's parts to the root Figure, then render its children."""
        figure = self.get_root()
        macros = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = macros.get(part)
            if macro is not None:
                getattr(figure, part).add_child(Text(macro(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class LocalMap(folium.Map, Macro):
    """A folium Map that loads nothing from a CDN and leaves the page layout (and pinch-zoom) to the page."""

    # folium's defaults pull Leaflet, jQuery, Bootstrap and awesome-markers from CDNs; MapAssets replaces them.
    default_js: ClassVar[list] = []
    default_css: ClassVar[list] = []

    _template = Template(
        """
        {% macro header(this, kwargs) %}
            <style>#{{ this.get_name() }} { position: relative; width: 100%; height: 100%; }</style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
            <div class="folium-map mapapp-map" id="{{ this.get_name() }}" role="region"
                 aria-label="{{ this.label }}"></div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }}, {
                center: {{ this.location|tojson }},
                crs: L.CRS.{{ this.crs }},
                ...{{ this.options|tojavascript }}
            });
        {% endmacro %}
        """
    )

    def __init__(self, *, label: str = "Map", inline_assets: bool = False, asset_prefix: str = "", **kwargs):
        super().__init__(**kwargs)
        # The label is a fixed, trusted string chosen by the view (never article text).
        self.label = label
        self.get_root().header.add_child(MapAssets(inline=inline_assets, prefix=asset_prefix), name="map_assets")


class _Call(Macro):
    """An extra that calls one mapapp.js function with the data layer (or map) and JSON options."""

    function = ""
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            mapapp.{{ this.function }}({{ this.target.get_name() }}, {{ this.options_json }});
        {% endmacro %}
        """
    )

    def __init__(self, target, options=None):
        super().__init__()
        self._name = type(self).__name__
        self.target = target
        # script_json keeps </script>, quotes and line separators inert inside the inline script.
        self.options_json = script_json(options if options is not None else {})


class DataLayer(Macro):
    """The places as JSON (inline, or fetched from the API) drawn in the browser: clustered pins, shapes, popups."""

    # The preload starts the data request while the page's scripts still load; mapapp.js asks for the same URL.
    _template = Template(
        """
        {% macro header(this, kwargs) %}
            {% if this.preload %}<link rel="preload" as="fetch" href="{{ this.preload|e }}" crossorigin>{% endif %}
        {% endmacro %}
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = mapapp.dataLayer({{ this._parent.get_name() }}, {{ this.options_json }});
        {% endmacro %}
        """
    )

    def __init__(self, options: dict, *, preload: str | None = None):
        super().__init__()
        self._name = "DataLayer"
        self.options_json = script_json(options)
        self.preload = preload


class TileLayer(Macro):
    """A raster tile layer from a URL template; the attribution is the operator's own (trusted) HTML."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.tileLayer({{ this.url|tojson }}, {{ this.options|tojson }});
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, url: str, attribution: str, *, max_zoom: int = 19):
        super().__init__()
        self._name = "TileLayer"
        self.url = url
        self.options = {"maxZoom": max_zoom, "attribution": attribution}


class OutlineBasemap(Macro):
    """Country outlines from the gazetteer under the data: shown when there are no tiles or a tile fails."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            mapapp.outlineBasemap({{ this._parent.get_name() }},
                {{ this.tiles.get_name() if this.tiles else 'null' }}, {{ this.options_json }});
        {% endmacro %}
        """
    )

    def __init__(self, tiles=None, *, url: str | None = None, data: dict | None = None):
        super().__init__()
        self._name = "OutlineBasemap"
        self.tiles = tiles
        self.options_json = script_json({"url": url, "data": data})


class FilterControl(_Call):
    """Binds the page's source checkboxes and date range (slider and fields) to the data layer."""

    function = "filterControl"


class LayerControl(_Call):
    """Binds the page's layer toggles, by feature type and by article."""

    function = "layerControl"


class ListView(_Call):
    """Keeps the page's list of places in step with the map."""

    function = "listView"


class PlaceSearch(_Call):
    """Binds the page's place search box: find a shown place, pan to it, open its popup."""

    function = "placeSearch"


class LegendControl(_Call):
    """The map's legend: what each colour and line style means, for the kinds of place shown."""

    function = "legendControl"


class DownloadLinks(_Call):
    """Keeps the page's download links (GeoJSON, CSV, KML, GeoPackage) on the current filters (downloads.js)."""

    function = "downloadLinks"


class DensityView(_Call):
    """The density view (density.js): regions shaded by articles or mentions, its legend and its timeline."""

    function = "densityView"


class FitControl(_Call):
    """A map button that fits the view to the places shown."""

    function = "fitControl"


class UrlState(_Call):
    """Keeps filters, selection and view in the address (query string, or the hash of a file)."""

    function = "urlState"


class MarkBinding(_Call):
    """Makes <mark data-place-id> elements in the page select their place on the map."""

    function = "bindMarks"


class ShareControl(Macro):
    """The "Share / embed" button: an iframe snippet for the current view."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            mapapp.shareControl({{ this.target.get_name() }}, {{ this.ids_json }}, {{ this.path_json }});
        {% endmacro %}
        """
    )

    def __init__(self, target, ids: dict, embed_path: str):
        super().__init__()
        self._name = "ShareControl"
        self.target = target
        self.ids_json = script_json(ids)
        self.path_json = script_json(embed_path)


class Start(_Call):
    """Loads the data, then restores the view from the URL or fits it to the data; add it last."""

    function = "start"
