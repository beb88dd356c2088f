"""The one escaping helper for text that reaches HTML or a JavaScript template literal."""
from __future__ import annotations

import html
import json

from markupsafe import Markup

# folium puts popup/tooltip HTML inside JavaScript template literals, where `${...}`,
# backticks and backslashes stay live even after HTML escaping.
_TEMPLATE_LITERAL = str.maketrans({"`": "&#96;", "\\": "&#92;", "$": "&#36;"})


def escape_text(value) -> Markup:
    """HTML-escape `value`, then neutralise ` \\ and $ as entities; safe in HTML and in folium popups."""
    text = "" if value is None else str(value)
    return Markup(html.escape(text, quote=True).translate(_TEMPLATE_LITERAL))


def script_json(value) -> Markup:
    """JSON for inline <script>: no `</script>`, no HTML-significant characters, no U+2028/9."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, safe in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                      ("'", "\\u0027"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, safe)
    return Markup(text)
