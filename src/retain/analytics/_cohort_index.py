"""Calendar periods as integer indices, so cohort ages are plain integer differences on every engine.

The index of a month is ``year × 12 + month − 1``, of a quarter ``year × 4 + (month − 1) // 3`` and of a year
``year``; consecutive periods have consecutive indices, so "age" is an integer subtraction, identical on DuckDB
and PySpark (both read timestamps in UTC). The same index is computed in Python for ``as_of``.
"""

from __future__ import annotations

from datetime import datetime

import ibis

from retain.analytics.periods import Freq

__all__ = [
    "TRUNCATE_UNIT",
    "as_freq",
    "at_period_start",
    "is_period_start",
    "period_index",
    "period_index_of",
    "period_start",
]

TRUNCATE_UNIT: dict[Freq, str] = {Freq.MONTH: "M", Freq.QUARTER: "Q", Freq.YEAR: "Y"}


def as_freq(freq: Freq | str) -> Freq:
    """``freq`` as a :class:`Freq`; an unknown name raises ``InputError`` listing the valid ones."""
    return Freq.parse(freq)


def period_index(ts: ibis.TimestampValue, freq: Freq) -> ibis.IntegerValue:
    """Integer index of the calendar period holding ``ts`` (an Ibis expression)."""
    year = ts.year().cast("int64")
    if freq is Freq.YEAR:
        return year
    month0 = ts.month().cast("int64") - 1
    if freq is Freq.QUARTER:
        return year * 4 + month0 // 3
    return year * 12 + month0


def period_index_of(moment: datetime, freq: Freq) -> int:
    """The same index as :func:`period_index`, for a Python UTC datetime."""
    if freq is Freq.YEAR:
        return moment.year
    if freq is Freq.QUARTER:
        return moment.year * 4 + (moment.month - 1) // 3
    return moment.year * 12 + moment.month - 1


def period_start(ts: ibis.TimestampValue, freq: Freq) -> ibis.TimestampValue:
    """Start of the calendar period holding ``ts``, as a UTC timestamp."""
    return ts.truncate(TRUNCATE_UNIT[freq]).cast("timestamp('UTC')")


def at_period_start(ts: ibis.TimestampValue, freq: Freq) -> ibis.BooleanValue:
    """Whether ``ts`` is exactly the first instant of its calendar period."""
    return ts == period_start(ts, freq)


def is_period_start(moment: datetime, freq: Freq) -> bool:
    """Whether the UTC datetime ``moment`` is the first instant of its calendar period (Python side)."""
    first_month = {Freq.MONTH: moment.month, Freq.QUARTER: (moment.month - 1) // 3 * 3 + 1, Freq.YEAR: 1}[freq]
    return moment == moment.replace(month=first_month, day=1, hour=0, minute=0, second=0, microsecond=0)
