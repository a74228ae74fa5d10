"""Reporting periods: calendar grids (month, quarter, year) and explicit intervals.

A period is a half-open interval ``[start, end)`` of UTC instants. "At the start" of a period means the instant
``start``; "at the end" means the instant ``end`` — which is also the start of the next period of a grid, so the
end state of one period is exactly the start state of the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from itertools import pairwise
from typing import NamedTuple

import ibis
import pyarrow as pa

from retain.errors import InputError

__all__ = ["Freq", "Period", "as_instant", "period_grid", "periods_from_bounds", "periods_table", "to_periods"]

_TIMESTAMP = pa.timestamp("us", tz="UTC")


class Freq(StrEnum):
    """Calendar frequencies of a period grid."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @classmethod
    def parse(cls, value: Freq | str) -> Freq:
        """``value`` as a :class:`Freq` (any case); an unknown name raises ``InputError`` listing the valid ones."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            valid = ", ".join(f.value for f in cls)
            raise InputError(f"Unknown frequency {value!r}. Valid frequencies: {valid}.") from None


_MONTHS_PER_STEP: dict[Freq, int] = {Freq.MONTH: 1, Freq.QUARTER: 3, Freq.YEAR: 12}


class Period(NamedTuple):
    """A half-open interval ``[start, end)`` of timezone-aware UTC instants."""

    start: datetime
    end: datetime


def as_instant(value: date | datetime) -> datetime:
    """Normalise a date or datetime to a timezone-aware UTC datetime.

    A ``date`` means midnight UTC of that day; a naive ``datetime`` is read as UTC (every timestamp of the
    canonical tables is UTC); an aware one is converted to UTC.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise InputError(
        f"Expected a date or datetime, got {type(value).__name__} ({value!r}). "
        "Pass e.g. date(2024, 1, 1) or datetime(2024, 1, 1, tzinfo=UTC)."
    )


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + (moment.month - 1) + months
    return moment.replace(year=index // 12, month=index % 12 + 1)


def _floor(moment: datetime, freq: Freq) -> datetime:
    step = _MONTHS_PER_STEP[freq]
    month = (moment.month - 1) // step * step + 1
    return datetime(moment.year, month, 1, tzinfo=UTC)


def period_grid(start: date | datetime, end: date | datetime, freq: Freq | str = Freq.MONTH) -> list[Period]:
    """Calendar periods covering ``[start, end)``.

    Parameters
    ----------
    start
        First instant to cover; it is floored to the start of its calendar period (e.g. 2024-01-15 with
        ``freq="month"`` gives a first period starting 2024-01-01).
    end
        Exclusive end; the grid holds every calendar period that starts before ``end`` (so the last period may
        reach past ``end`` when ``end`` is not a period boundary).
    freq
        ``"month"``, ``"quarter"`` (Jan/Apr/Jul/Oct) or ``"year"``.

    Returns
    -------
    list of Period
        Consecutive, non-overlapping ``[start, end)`` intervals in time order.

    Raises
    ------
    InputError
        If ``freq`` is unknown or ``end`` is not after ``start``.

    Examples
    --------
    >>> [p.start.date().isoformat() for p in period_grid(date(2024, 1, 1), date(2024, 7, 1), "quarter")]
    ['2024-01-01', '2024-04-01']
    """
    step_freq = Freq.parse(freq)
    lo, hi = as_instant(start), as_instant(end)
    if hi <= lo:
        raise InputError(f"Period grid end {hi.isoformat()} must be after its start {lo.isoformat()}.")
    step = _MONTHS_PER_STEP[step_freq]
    out: list[Period] = []
    cursor = _floor(lo, step_freq)
    while cursor < hi:
        nxt = _add_months(cursor, step)
        out.append(Period(cursor, nxt))
        cursor = nxt
    return out


def periods_from_bounds(bounds: Sequence[date | datetime]) -> list[Period]:
    """Consecutive periods between explicit boundaries: ``[b0, b1), [b1, b2), …``.

    Raises
    ------
    InputError
        If fewer than two boundaries are given or they are not strictly increasing.
    """
    instants = [as_instant(b) for b in bounds]
    if len(instants) < 2:
        raise InputError(f"Need at least two period boundaries, got {len(instants)}. Pass e.g. [start, end].")
    return to_periods(pairwise(instants))


def to_periods(intervals: Iterable[tuple[date | datetime, date | datetime]]) -> list[Period]:
    """Validate explicit ``(start, end)`` intervals and normalise them to UTC :class:`Period` values.

    Intervals may overlap or leave gaps (e.g. trailing 30-day windows); each must have ``end > start``.

    Raises
    ------
    InputError
        If no interval is given or an interval does not end after it starts.
    """
    out = []
    for start, end in intervals:
        period = Period(as_instant(start), as_instant(end))
        if period.end <= period.start:
            raise InputError(
                f"Period end {period.end.isoformat()} must be after its start {period.start.isoformat()}; "
                "periods are half-open intervals [start, end)."
            )
        out.append(period)
    if not out:
        raise InputError("No periods given. Pass at least one (start, end) interval, e.g. from period_grid().")
    return out


def periods_table(periods: Iterable[tuple[date | datetime, date | datetime]]) -> ibis.Table:
    """The periods as an Ibis memtable with columns ``period_start``, ``period_end`` (UTC timestamps).

    Duplicated periods are kept once.
    """
    unique = sorted(set(to_periods(periods)))
    data = pa.table(
        {
            "period_start": pa.array([p.start for p in unique], _TIMESTAMP),
            "period_end": pa.array([p.end for p in unique], _TIMESTAMP),
        }
    )
    return ibis.memtable(data)
