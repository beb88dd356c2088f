"""The one escaping helper: text that reaches HTML, a JavaScript template literal or a terminal."""
from __future__ import annotations

import functools
import html
import json
import re
import unicodedata

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


# Control (C0/C1, ESC, BEL), format (bidi overrides and isolates such as U+202E, zero-width spaces, BOM),
# private-use, surrogate and unassigned characters: invisible, and able to reorder or recolour what is shown.
# ZWNJ/ZWJ (U+200C/U+200D) pass because Persian and Indic spellings need them.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
_ALLOWED_FORMAT = frozenset("\u200c\u200d")
_TERMINAL_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def is_invisible(ch: str) -> bool:
    """True if `ch` is a control, format (bidi, zero-width), private-use, surrogate or unassigned character."""
    return unicodedata.category(ch) in _INVISIBLE_CATEGORIES and ch not in _ALLOWED_FORMAT


@functools.cache
def _invisible_pattern(for_terminal: bool) -> re.Pattern:
    """Matches the characters to strip (text: \\n and \\t kept) or escape (terminal: also U+2028/U+2029)."""

    def wanted(ch: str) -> bool:
        if for_terminal:
            return is_invisible(ch) or unicodedata.category(ch) in ("Zl", "Zp")
        return is_invisible(ch) and ch not in "\n\t"

    # `re` tests a class holding ranges above U+FFFF range by range (10 s for 5 MB of text), but one of
    # BMP characters only as a bitmap; so the class holds the BMP's characters and any astral character
    # matches, to be decided by `wanted` (astral characters are rare in text).
    ranges, start = [], None
    for code in range(0x10001):
        hit = code < 0x10000 and wanted(chr(code))
        if hit and start is None:
            start = code
        elif not hit and start is not None:
            ranges.append(f"\\u{start:04x}-\\u{code - 1:04x}")
            start = None
    return re.compile(f"[{''.join(ranges)}]|[\\U00010000-\\U0010ffff]")


def strip_invisible(text: str) -> str:
    """`text` without invisible characters (see is_invisible); \\n and \\t stay, other control spaces become " "."""

    def replace(match: re.Match) -> str:
        ch = match.group()
        if not is_invisible(ch):
            return ch
        return " " if ch.isspace() else ""

    return _invisible_pattern(False).sub(replace, text)


def terminal_text(value) -> str:
    """`value` for a one-line terminal message: control, bidi and other invisible characters as escapes.

    A file name holding a newline or an ANSI escape sequence thus prints as `a\\nb` or `\\x1b[31m` instead of
    breaking the line or colouring the terminal; undecodable bytes of a file name print as `\\xff`.
    """

    def escape(match: re.Match) -> str:
        ch = match.group()
        code = ord(ch)
        if code >= 0x10000 and not is_invisible(ch):
            return ch
        if ch in _TERMINAL_NAMED:
            return _TERMINAL_NAMED[ch]
        if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape of an undecodable byte
            return f"\\x{code - 0xDC00:02x}"
        if code < 0x100:
            return f"\\x{code:02x}"
        return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"

    return _invisible_pattern(True).sub(escape, "" if value is None else str(value))
