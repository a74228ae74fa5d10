"""Product usage per customer: event counts in trailing windows, logins, and the usage trend.

Windows are trailing and half-open on the left: the *N-day window* at ``as_of`` holds the events with
``as_of − N days < occurred_at <= as_of``. Events after ``as_of`` are ignored.

**Usage trend** = events in the last ``trend_days`` days ÷ events in the ``trend_days`` days before those
(``as_of − 2·trend_days < occurred_at <= as_of − trend_days``), rounded to 4 decimals so that every engine
gives the same value; null when the earlier window has no event. 1.0 means steady use, 0.5 half the
earlier use, 0.0 a customer who stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import ibis

from retain.analytics._inputs import require_columns
from retain.analytics.customers import instant_literal
from retain.analytics.periods import as_instant
from retain.contract import TableName
from retain.errors import InputError

__all__ = ["TREND_DIGITS", "USAGE_WINDOWS", "customer_usage", "usage_columns"]

USAGE_WINDOWS = (7, 30, 90)
"""Default trailing windows, in days."""

TREND_DIGITS = 4
"""Decimals of ``usage_trend``."""


def _check_days(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{name} must be a whole number of days >= 1, got {value!r}. Pass e.g. 30.")
    return value


def usage_columns(windows: Sequence[int] = USAGE_WINDOWS, login_event: str | None = "login") -> list[str]:
    """Column names of :func:`customer_usage` for the given windows, in order."""
    cols = ["customer_id", *(f"events_{n}d" for n in windows)]
    if login_event is not None:
        cols += [f"logins_{n}d" for n in windows]
    cols += ["usage_trend", "last_event_at"]
    if login_event is not None:
        cols.append("last_login_at")
    return cols


def customer_usage(
    events: ibis.Table,
    *,
    as_of: date | datetime,
    windows: Sequence[int] = USAGE_WINDOWS,
    trend_days: int = 30,
    login_event: str | None = "login",
) -> ibis.Table:
    """Per customer: events in trailing windows, logins in the same windows, usage trend, last event and login.

    Parameters
    ----------
    events
        The canonical ``events`` table (needs ``customer_id, event_type, occurred_at``).
    as_of
        The instant the windows end at (a date means midnight UTC). Later events are ignored.
    windows
        Window lengths in days; one ``events_{N}d`` (and ``logins_{N}d``) column each.
    trend_days
        Length of the two windows the trend compares (see the module docstring).
    login_event
        The ``event_type`` counted as a login; ``None`` leaves the login columns out.

    Returns
    -------
    ibis.Table
        Unexecuted expression with the columns :func:`usage_columns` (counts int64, ``usage_trend`` float64,
        ``last_event_at`` / ``last_login_at`` the latest instants at or before ``as_of``), one row per customer
        with at least one event at or before ``as_of``, sorted by ``customer_id``.
    """
    require_columns(events, TableName.EVENTS, ("customer_id", "event_type", "occurred_at"))
    windows = [_check_days("Each usage window", n) for n in windows]
    if not windows:
        raise InputError("No usage windows given. Pass e.g. windows=(7, 30, 90).")
    trend_days = _check_days("trend_days", trend_days)
    t = as_instant(as_of)

    def since(days: int) -> ibis.Value:
        # The bound is computed in Python so no engine-specific interval arithmetic is needed.
        return instant_literal(t - timedelta(days=days))

    e = events.filter(events.occurred_at <= instant_literal(t))
    is_login = (e.event_type == login_event) if login_event is not None else None
    aggs = {f"events_{n}d": e.count(where=e.occurred_at > since(n)) for n in windows}
    if is_login is not None:
        aggs |= {f"logins_{n}d": e.count(where=is_login & (e.occurred_at > since(n))) for n in windows}
    aggs["_current"] = e.count(where=e.occurred_at > since(trend_days))
    aggs["_previous"] = e.count(where=(e.occurred_at > since(2 * trend_days)) & (e.occurred_at <= since(trend_days)))
    aggs["last_event_at"] = e.occurred_at.max()
    if is_login is not None:
        aggs["last_login_at"] = e.occurred_at.max(where=is_login)
    g = e.group_by("customer_id").aggregate(**aggs)
    trend = ibis.ifelse(
        g["_previous"] > 0, (g["_current"].cast("float64") / g["_previous"]).round(TREND_DIGITS), ibis.null("float64")
    )
    # Cast the maxima back to UTC timestamps: PySpark otherwise hands them out without their time zone.
    last = {c: g[c].cast("timestamp('UTC')") for c in ("last_event_at", "last_login_at") if c in g.columns}
    out = g.mutate(usage_trend=trend, **last)
    return out.select(*usage_columns(windows, login_event)).order_by("customer_id")
