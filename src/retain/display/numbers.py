"""Numbers as people read them in a table: thousands separators, fixed decimals, ``—`` for no value."""

from __future__ import annotations

from typing import Any

__all__ = ["MISSING", "fmt_number"]

MISSING = "—"
"""What a cell shows when there is no value (``None`` or NaN)."""


def fmt_number(value: Any, digits: int = 2, suffix: str = "") -> str:
    """``value`` with thousands separators and ``digits`` decimals (an ``int`` has none), then ``suffix``.

    Parameters
    ----------
    value : int, float or None
        The number; ``None``, NaN and missing values show as :data:`MISSING`.
    digits : int, default 2
        Decimals of a float.
    suffix : str, default ""
        Appended to a shown number (``"%"``).

    Returns
    -------
    str
        For example ``"1,234"``, ``"96.8%"``, ``"—"``.
    """
    try:
        if value is None or value != value:  # NaN is the one value unequal to itself
            return MISSING
    except TypeError:  # pandas.NA refuses to be a bool
        return MISSING
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    return f"{value:,.{digits}f}{suffix}"
