"""The one parser of ids, numbers and JSON from URLs, query strings, forms and request bodies, with bounds.

Every value a client sends is checked here before it reaches int(), float(), json.loads or SQLite, so that
no value, however long or deep, can raise a 500: a bad value is InvalidInput (400) naming its parameter, an
id in a path that cannot name anything is NotFound (404).
"""
from __future__ import annotations

import json
import re

from mapapp.errors import InvalidInput, NotFound

MAX_ID = 2**63 - 1  # SQLite's INTEGER range
MAX_JSON_DEPTH = 32  # a GeoJSON Feature of a MultiPolygon inside a request object is 7 deep
_WHOLE = re.compile(r"[+-]?[0-9]+")


def _shown(value) -> str:
    return repr(str(value)[:40])


def whole_number(value, field: str, *, minimum: int = 0, maximum: int = MAX_ID, default: int | None = None) -> int:
    """`value` (ASCII digits or an int) as an int in [minimum, maximum]; blank gives `default`; else InvalidInput."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is None:
            raise InvalidInput(f"'{field}' is required", field=field)
        return default
    wrong = InvalidInput(f"'{field}' must be a whole number from {minimum} to {maximum}, not {_shown(value)}",
                         field=field)
    if isinstance(value, bool):  # True is an int in Python, not a number a client meant
        raise wrong
    if isinstance(value, str):
        text = value.strip()
        if not _WHOLE.fullmatch(text):
            raise wrong
        # Compare lengths before int(): Python refuses to convert text over 4,300 digits (a ValueError).
        digits = text.lstrip("+-").lstrip("0")
        if len(digits) > len(str(max(abs(minimum), abs(maximum)))):
            raise wrong
        value = int(text)
    if not isinstance(value, int) or not minimum <= value <= maximum:
        raise wrong
    return value


def record_id(value, field: str, *, what: str = "article") -> int:
    """The positive integer id of a stored row in a URL path; NotFound (naming `field`) when it cannot be one."""
    try:
        return whole_number(value, field, minimum=1, maximum=MAX_ID)
    except InvalidInput:
        raise NotFound(f"no {what} with id {_shown(value)}", field=field) from None


def text_value(value, field: str, *, max_length: int = 200) -> str | None:
    """A short text field of a JSON object or form, stripped; None when absent or blank; else InvalidInput."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"'{field}' must be text", field=field)
    value = value.strip()
    if len(value) > max_length:
        raise InvalidInput(f"'{field}' is longer than {max_length} characters", field=field)
    if "\x00" in value:
        raise InvalidInput(f"'{field}' contains a NUL character", field=field)
    return value or None


def _too_deep(value, limit: int) -> bool:
    # Iterative: a recursive walk would itself overflow the stack on the input it is meant to refuse.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def load_json(text: str | bytes, field: str, *, max_depth: int = MAX_JSON_DEPTH, label: str | None = None,
              error: type[InvalidInput] = InvalidInput):
    """Parse JSON a client sent; `error` (InvalidInput) naming `field` for malformed or too-deep input."""
    label = label or f"'{field}'"
    too_deep = error(f"{label} is nested more than {max_depth} levels deep", field=field)
    try:
        value = json.loads(text)
    except RecursionError:
        raise too_deep from None
    except ValueError as problem:  # also UnicodeDecodeError, and integers over Python's 4,300-digit limit
        raise error(f"{label} is not valid JSON: {str(problem)[:120]}", field=field) from None
    if isinstance(value, (dict, list)) and _too_deep(value, max_depth):
        raise too_deep
    return value
