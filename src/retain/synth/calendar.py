"""The monthly time grid of a synthetic dataset, in epoch seconds (UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from retain.errors import InputError

__all__ = ["Calendar"]


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class Calendar:
    """``months`` calendar months ending with the month of ``end`` (inclusive).

    Parameters
    ----------
    end : date
        Last day of the window; nothing happens after the end of that day.
    months : int
        Number of calendar months in the window (the last one may be partial).
    """

    end: date
    months: int

    def __post_init__(self) -> None:
        if self.months < 1:
            raise InputError(f"months must be at least 1, got {self.months}. Pass e.g. months=24.")

    @property
    def first_days(self) -> list[date]:
        """First day of each month of the window."""
        out = []
        y, m = self.end.year, self.end.month
        for _ in range(self.months):
            out.append(date(y, m, 1))
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        return out[::-1]

    @property
    def start(self) -> date:
        """First day of the window."""
        return self.first_days[0]

    @property
    def window_end(self) -> int:
        """Exclusive end of the window in epoch seconds (midnight after ``end``)."""
        return _epoch(self.end + timedelta(days=1))

    @property
    def starts(self) -> np.ndarray:
        """Start of each month in epoch seconds, shape ``(months,)``."""
        return np.array([_epoch(d) for d in self.first_days], dtype=np.int64)

    @property
    def ends(self) -> np.ndarray:
        """Exclusive end of each month in epoch seconds, the last one capped at :attr:`window_end`."""
        nxt = [_epoch(date(d.year + d.month // 12, d.month % 12 + 1, 1)) for d in self.first_days]
        return np.minimum(np.array(nxt, dtype=np.int64), self.window_end)

    @property
    def month_of_year(self) -> np.ndarray:
        """Calendar month (1-12) of each month of the window."""
        return np.array([d.month for d in self.first_days], dtype=np.int64)
