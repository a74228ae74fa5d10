"""Numbers written with a decimal comma, as European exports write them: ``1.234,50``, ``1 234,50``, ``-12,5``.

A ``.`` or a space (also the no-break spaces U+00A0 and U+202F that spreadsheets put there) separates groups of
exactly three digits; anything else with a point (``12.50``) is not a decimal-comma number and is rejected rather
than read as 1,250.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["decimal_comma_to_point"]

_GROUP = "[. \u00a0\u202f]"
_NUMBER = rf"^[+-]?(\d+|\d{{1,3}}({_GROUP}\d{{3}})+)(,\d+)?$"


def decimal_comma_to_point(text: pa.Array) -> pa.Array:
    """The same numbers as text with a decimal point and no thousands separator; null where not such a number."""
    valid = pc.match_substring_regex(text, _NUMBER)
    plain = pc.replace_substring(pc.replace_substring_regex(text, _GROUP, ""), ",", ".")
    return pc.if_else(valid, plain, pa.scalar(None, pa.string()))
