"""Naive wall-clock times of one time zone to UTC, with a fixed rule for the hours daylight saving skips or repeats.

Both cases are read with the UTC offset in force *before* the clock change, as Python's ``zoneinfo`` reads a
``datetime`` with ``fold=0`` (PEP 495):

- a time in a gap (Europe/Berlin 2025-03-30 02:30, which no clock showed) is taken as if the clock had not yet
  been put forward: +01:00, so 01:30 UTC;
- a time in a fold (Europe/Berlin 2025-10-26 02:30, shown twice) is its first occurrence, still in summer time:
  +02:00, so 00:30 UTC.

So the same file always gives the same instants, and no row is rejected for a time change it cannot show.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["UTC_US", "to_utc"]

UTC_US = pa.timestamp("us", tz="UTC")


def to_utc(naive: pa.Array, timezone: str | None) -> pa.Array:
    """``naive`` (a timestamp array without zone) read as wall time in ``timezone`` (UTC when None), in UTC."""
    naive = pc.cast(naive, pa.timestamp("us"))
    if timezone is None or timezone == "UTC":
        return pc.assume_timezone(naive, "UTC")
    first = pc.assume_timezone(naive, timezone, ambiguous="earliest", nonexistent="earliest")
    after = pc.assume_timezone(naive, timezone, ambiguous="earliest", nonexistent="latest")
    in_gap = np.flatnonzero(pc.fill_null(pc.not_equal(first, after), False).to_numpy(zero_copy_only=False))
    out = pc.cast(first, UTC_US)
    if not len(in_gap):
        return out
    # Gaps are an hour or so a year: those few values take the exact PEP 495 rule from zoneinfo.
    zone = zoneinfo.ZoneInfo(timezone)
    fixed = [naive[int(i)].as_py().replace(tzinfo=zone).astimezone(UTC) for i in in_gap]
    values = out.to_pylist()
    for i, value in zip(in_gap, fixed, strict=True):
        values[int(i)] = value
    return pa.array(values, UTC_US)
