"""Numbers and instants as the dashboard shows them: the CLI's formatting, so a page and a terminal agree."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from retain.display.numbers import MISSING, fmt_number

__all__ = ["MISSING", "fmt_instant", "fmt_money", "fmt_number", "fmt_probability", "fmt_value", "is_missing"]


def is_missing(value: Any) -> bool:
    try:
        return value is None or bool(value != value)  # NaN is the one value unequal to itself
    except TypeError:  # pandas.NA refuses to be a bool
        return True


def fmt_probability(value: Any) -> str:
    """A probability (0–1) as a whole percentage, as ``retain at-risk`` shows risk: ``0.1008`` → ``10%``."""
    return MISSING if is_missing(value) else f"{float(value):.0%}"


def fmt_money(value: Any) -> str:
    """An amount without decimals, as the at-risk list shows value and expected loss."""
    return MISSING if is_missing(value) else fmt_number(float(value), 0)


def fmt_instant(value: Any) -> str:
    if is_missing(value):
        return MISSING
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def fmt_value(value: Any) -> str:
    """Any profile value as ``retain customer`` prints it: instants to the minute, floats with 2 decimals."""
    if isinstance(value, datetime | date):
        return fmt_instant(value)
    if isinstance(value, float):
        return fmt_number(value)
    return MISSING if is_missing(value) else str(value)
