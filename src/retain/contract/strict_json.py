"""Strict, bounded JSON parsing for values that come from input files.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity``, which are not JSON (other readers, DuckDB and
PostgreSQL among them, refuse them), and raises ``RecursionError`` instead of ``ValueError`` on deeply nested
text. Here both are ordinary rejections, and nesting is bounded well below the point where any reader recurses
too deep.
"""

from __future__ import annotations

import json
import re

__all__ = ["MAX_JSON_DEPTH", "JsonRejected", "is_json_object", "loads_strict", "value_text"]

MAX_JSON_DEPTH = 32
"""Most levels of objects and arrays inside each other (``{"a": [1]}`` has 2); real data needs a handful."""


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


class JsonRejected(ValueError):
    """The text is not strict JSON within the nesting limit; the message says what is wrong."""


def _no_constant(name: str) -> object:
    raise JsonRejected(f"{name} is not JSON; write null or a number")


# One decoder for every value: ``json.loads`` with options builds a new decoder per call, a third of the cost.
_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _deeper_than(value: object, limit: int) -> bool:
    # Iterative walk: the value may be nested close to Python's recursion limit.
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _holds_lone_surrogate(value: object) -> bool:
    # A paired escape decodes to one character; an unpaired one stays a surrogate, which UTF-8 cannot encode.
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def loads_strict(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """Parse ``text`` as strict JSON nested at most ``max_depth`` levels.

    Parameters
    ----------
    text
        One JSON document.
    max_depth
        Most levels of objects and arrays inside each other.

    Returns
    -------
    object
        The parsed value.

    Raises
    ------
    JsonRejected
        The text is not JSON, holds ``NaN``/``Infinity`` or an unpaired surrogate escape (``\\udc80``, which no
        UTF-8 text can hold), or is nested deeper than ``max_depth``.
    """
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise JsonRejected(f"nested deeper than {max_depth} levels") from None
    except JsonRejected:
        raise
    except ValueError as exc:  # JSONDecodeError, or an integer with more digits than Python converts
        raise JsonRejected(f"not valid JSON ({exc})") from None
    if _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(value):
        raise JsonRejected("an escape such as \\udc80 is half of a character (an unpaired surrogate), not text")
    # Only text with more brackets than the limit can be nested that deep: most values skip the walk.
    nested = isinstance(value, dict | list) and text.count("[") + text.count("{") > max_depth
    if nested and _deeper_than(value, max_depth):
        raise JsonRejected(f"nested deeper than {max_depth} levels")
    return value


def is_json_object(text: str | None) -> bool:
    """True when ``text`` is a strict JSON object (see ``loads_strict``)."""
    if text is None or not text.startswith("{"):
        return False
    try:
        return isinstance(loads_strict(text), dict)
    except JsonRejected:
        return False


def value_text(value: object) -> str | None:
    """A JSON value as the text a file holds for it: objects and arrays as JSON (keys sorted), the rest as ``str``.

    JSON Lines ingest and facts posted to the API both go through this, so the same object gives the same text
    (and so the same validated value and derived event id) on either path.
    """
    if value is None:
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)
