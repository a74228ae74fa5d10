"""Quiet hours in a customer's local time: when no customer-facing message is sent, and when it may go instead.

Quiet hours are a daily window ``[start, end)`` of local wall-clock time; ``start > end`` means the window
crosses midnight (``21:00``–``08:00``), ``start == end`` means there are none. Local time comes from the IANA
database through :mod:`zoneinfo`, so daylight-saving changes are applied as they happen in that zone.

A message due inside quiet hours goes at the next local ``end``: the first instant after it is due at which the
customer's clock reads ``end`` and the customer is no longer in quiet hours. Two daylight-saving cases:

- ``end`` is skipped that day (clocks jump over it, e.g. ``02:30`` on the last Sunday of March in Berlin): the
  message goes at the instant that wall time names with the offset before the jump (PEP 495, ``fold=0``), i.e.
  ``03:30`` CEST — as late after the jump as ``end`` was after its start;
- ``end`` happens twice (clocks go back over it): the earlier occurrence after the due time is taken.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["is_quiet", "load_zone", "next_send_time"]

# A window shorter than a day ends at most a day (plus a daylight-saving shift) after the due time; looking at
# four local dates also covers a window whose only way out is skipped by a transition on one day.
_DAYS_AHEAD = 4


@functools.lru_cache(maxsize=1024)  # one run asks for the same few zones, valid or not, per customer
def load_zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone called ``name``, or ``None`` when ``name`` is missing or names no zone.

    Parameters
    ----------
    name
        An IANA name such as ``"Europe/Berlin"``; ``None``, ``""`` and unknown or malformed names give ``None``.
    """
    if not name or not isinstance(name, str):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # ValueError: a malformed key such as "../x"
        return None


def is_quiet(local: time, start: time, end: time) -> bool:
    """Whether a local wall-clock time lies in the quiet hours ``[start, end)``.

    Parameters
    ----------
    local
        The wall-clock time (naive).
    start, end
        The quiet hours; ``start > end`` crosses midnight, ``start == end`` means no quiet hours.
    """
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_send_time(due_at: datetime, zone: ZoneInfo, start: time, end: time) -> datetime:
    """When a message due at ``due_at`` may be sent: ``due_at`` itself, or the next local ``end`` of quiet hours.

    Parameters
    ----------
    due_at
        When the message became due (timezone-aware).
    zone
        The customer's time zone.
    start, end
        The quiet hours (naive wall-clock times).

    Returns
    -------
    datetime
        A UTC instant ``>= due_at`` whose local wall-clock time in ``zone`` is outside the quiet hours.
    """
    due_utc = due_at.astimezone(UTC)
    if not _quiet_at(due_utc, zone, start, end):
        return due_utc
    first_day = due_utc.astimezone(zone).date()
    for day in (first_day + timedelta(days=n) for n in range(_DAYS_AHEAD)):
        for instant in _instants_of(day, end, zone):
            if instant > due_utc and not _quiet_at(instant, zone, start, end):
                return instant
    # Unreachable for real zones (a day always has a way out of a window shorter than a day); fail loudly.
    raise AssertionError(f"no end of quiet hours {start}–{end} in {zone.key} within {_DAYS_AHEAD} days of {due_at}")


def _quiet_at(instant: datetime, zone: ZoneInfo, start: time, end: time) -> bool:
    return is_quiet(instant.astimezone(zone).time().replace(tzinfo=None), start, end)


def _instants_of(day: date, wall: time, zone: ZoneInfo) -> Iterator[datetime]:
    """The UTC instants at which the clock in ``zone`` reads ``wall`` on ``day``, earliest first.

    Usually one; two when the clocks go back over ``wall``; when they jump over it, the one instant PEP 495 gives
    for the skipped time with ``fold=0`` (the offset before the jump).
    """
    local = datetime.combine(day, wall, tzinfo=zone)
    first = local.replace(fold=0).astimezone(UTC)
    second = local.replace(fold=1).astimezone(UTC)
    if first == second:
        yield first
    elif first < second:  # the wall time happens twice (fold=0 is the earlier one)
        yield first
        yield second
    else:  # skipped: fold=1 would land before the jump, fold=0 after it
        yield first
