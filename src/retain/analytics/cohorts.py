"""Cohort retention: matrices by signup period (logo and revenue) and N-day return retention for events.

**Subscription cohorts** (:func:`cohort_matrix`). A customer's cohort is the calendar period (month, quarter or
year) of their *first paid start*: the first non-paused subscription period with ``mrr > 0`` (zero-length periods
never ran). Age ``k`` of a cohort is the period ``k`` periods after the cohort period. The customer is counted
at age ``k >= 1`` when they are **active at the start of that period** — the instant it begins, with the same
rule as :mod:`retain.analytics.retention` (a running, non-paused subscription period; free plans count for
logos). Age 0 is the signup itself: every member, with the MRR they started with. "Active at the start" was
chosen over "active at any time in the period" because it is a state at one instant: it chains with the
retention series (age ``k`` is the end state of age ``k − 1``), it is defined the same way for MRR (MRR at an
instant), and a customer who leaves on the 2nd of a month does not count as retained for that month.

- ``measure="logo"``: ``customers`` = members active at the start of age ``k``; ``cohort_size`` = members.
- ``measure="revenue"``: ``mrr`` = the members' MRR at the start of age ``k`` (non-paused running periods; may
  exceed the start through expansion); ``cohort_size`` = their MRR at signup (the MRR running at the instant of
  the first paid start).

**Order cohorts** (:func:`order_cohort_matrix`, non-contractual). The cohort is the period of the first
completed order; at age ``k`` a member counts when they have a completed order in that period, and the revenue
is their net revenue in it (completed amounts minus refunded magnitudes, as in :mod:`.commerce`). Age 0 always
holds every member; refunds before a customer's first completed order are ignored.

**The triangle.** Facts after ``as_of`` are ignored (times ``<= as_of`` are known, as everywhere in
:mod:`retain.analytics`). A subscription age appears when its start instant is ``<= as_of`` (a state at an
instant that is already known); an order age appears when its period started *before* ``as_of``, so it holds at
least part of a period of facts — the newest age of each cohort can be a partial period. Every age up to the
newest appears, with 0 when nobody was active.

``share`` = value / ``cohort_size``, rounded to 4 decimals (null when the size is 0). Money is rounded to cents
(orders) or 6 decimals (MRR, as in :mod:`.revenue`) so that DuckDB and PySpark agree exactly.

**Return retention** (:func:`return_retention`) works on calendar days (UTC) for one ``event_type``: a
customer's cohort is the day of their first such event; they *returned on day N* when they have an event on the
day ``cohort + N`` (classic N-day retention) or, with ``unbounded=True``, on that day or any later day (up to
``as_of``). Only complete days count: a cohort is measured at day N only when day N ended by ``as_of``
(``cohort + N + 1 day <= as_of``); cohorts whose day N is not over are left out of that day's denominator.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum

import ibis
import pyarrow as pa

from retain.analytics._cohort_index import (
    as_freq,
    at_period_start,
    is_period_start,
    period_index,
    period_index_of,
    period_start,
)
from retain.analytics._commerce_orders import SECONDS_PER_DAY, money_sum, priced_orders
from retain.analytics._inputs import require_columns
from retain.analytics._states import MRR_DIGITS, SUBSCRIPTION_COLUMNS, first_started, left_join
from retain.analytics.periods import Freq, as_instant
from retain.contract import TableName
from retain.errors import InputError

__all__ = [
    "RETURN_COLUMNS",
    "RETURN_SUMMARY_COLUMNS",
    "CohortMeasure",
    "cohort_matrix",
    "order_cohort_matrix",
    "return_retention",
    "return_retention_summary",
]

SHARE_DIGITS = 4

RETURN_COLUMNS = ("cohort_day", "day", "cohort_size", "returned", "share")
"""Columns of :func:`return_retention`, in order."""

RETURN_SUMMARY_COLUMNS = ("day", "customers", "returned", "share")
"""Columns of :func:`return_retention_summary`, in order."""


class CohortMeasure(StrEnum):
    """What a cohort matrix counts: customers (logo retention) or money (revenue retention)."""

    LOGO = "logo"
    REVENUE = "revenue"


def _measure(measure: CohortMeasure | str) -> CohortMeasure:
    try:
        return CohortMeasure(str(measure).lower())
    except ValueError:
        valid = ", ".join(m.value for m in CohortMeasure)
        raise InputError(f"Unknown cohort measure {measure!r}. Valid measures: {valid}.") from None


def _share(value: ibis.NumericValue, size: ibis.NumericValue) -> ibis.FloatingValue:
    return (value.cast("float64") / size.cast("float64").nullif(0.0)).round(SHARE_DIGITS)


def _triangle(cohorts: ibis.Table, values: ibis.Table, value: str, last: int, zero) -> ibis.Table:
    """Every age ``0 .. last − c`` of each cohort (``cohort, c, cohort_size``) with its value (``zero`` if none)."""
    ages = cohorts.mutate(age=ibis.range(0, ibis.literal(last, "int64") - cohorts.c + 1).unnest().cast("int64"))
    full = left_join(ages, values, ["cohort", "age"])
    full = full.mutate(**{value: full[value].fill_null(zero)})
    full = full.mutate(share=_share(full[value], full.cohort_size))
    return full.select("cohort", "age", value, "cohort_size", "share").order_by(["cohort", "age"])


def cohort_matrix(
    subscriptions: ibis.Table,
    *,
    as_of: date | datetime,
    freq: Freq | str = Freq.MONTH,
    measure: CohortMeasure | str = CohortMeasure.LOGO,
) -> ibis.Table:
    """Retention of subscription cohorts by signup period, as a long triangle.

    Parameters
    ----------
    subscriptions
        The canonical ``subscriptions`` table (needs ``customer_id, mrr, started_at, ended_at, status``).
    as_of
        Instant of the snapshot (a date means midnight UTC): later facts are ignored, and ages whose start is
        after it are not shown.
    freq
        Cohort and age period: ``"month"``, ``"quarter"`` or ``"year"``.
    measure
        ``"logo"`` (customers) or ``"revenue"`` (MRR).

    Returns
    -------
    ibis.Table
        Columns ``cohort`` (UTC timestamp, start of the signup period), ``age`` (int64, periods since the cohort
        period), ``customers`` (int64; ``mrr`` float64 for revenue), ``cohort_size`` (members, or their MRR at
        signup) and ``share`` (value / cohort_size, 4 decimals). Sorted by ``cohort, age``. See the module
        docstring for the exact rules.
    """
    f, m = as_freq(freq), _measure(measure)
    moment = as_instant(as_of)
    last = period_index_of(moment, f)
    require_columns(subscriptions, TableName.SUBSCRIPTIONS, SUBSCRIPTION_COLUMNS)
    s = subscriptions.filter(subscriptions.started_at <= moment)
    first = first_started(s, paid_only=True)
    members = first.select(
        "customer_id", "first_at", cohort=period_start(first.first_at, f), c=period_index(first.first_at, f)
    )
    running = s.filter(s.status != "paused")
    r = running.join(members, "customer_id")
    # Ages k >= 1 at whose start instant the row runs: started_at <= start_k < ended_at.
    lo = period_index(r.started_at, f) + ibis.ifelse(at_period_start(r.started_at, f), 0, 1)
    end_index = period_index(r.ended_at, f) - ibis.ifelse(at_period_start(r.ended_at, f), 1, 0)
    hi = ibis.ifelse(r.ended_at.isnull(), last, ibis.least(end_index, last))
    lo = ibis.greatest(lo, r.c + 1)
    r = r.filter(lo <= hi).mutate(_lo=lo - r.c, _hi=hi - r.c)
    covered = r.mutate(age=ibis.range(r._lo, r._hi + 1).unnest().cast("int64"))
    per_customer = covered.group_by(["cohort", "age", "customer_id"]).aggregate(mrr=covered.mrr.sum().round(MRR_DIGITS))
    if m is CohortMeasure.LOGO:
        values = per_customer.group_by(["cohort", "age"]).aggregate(customers=per_customer.count())
        cohorts = members.group_by(["cohort", "c"]).aggregate(cohort_size=members.count())
        age0 = cohorts.select("cohort", age=ibis.literal(0, "int64"), customers=cohorts.cohort_size)
        return _triangle(cohorts, values.union(age0), "customers", last, 0)
    values = per_customer.group_by(["cohort", "age"]).aggregate(mrr=per_customer.mrr.sum().round(MRR_DIGITS))
    # MRR at signup: non-paused periods running at the instant of the first paid start.
    a = running.join(members, "customer_id")
    a = a.filter((a.started_at <= a.first_at) & (a.ended_at.isnull() | (a.first_at < a.ended_at)))
    start_mrr = a.group_by(["cohort", "c", "customer_id"]).aggregate(mrr=a.mrr.sum().round(MRR_DIGITS))
    cohorts = start_mrr.group_by(["cohort", "c"]).aggregate(cohort_size=start_mrr.mrr.sum().round(MRR_DIGITS))
    age0 = cohorts.select("cohort", age=ibis.literal(0, "int64"), mrr=cohorts.cohort_size)
    return _triangle(cohorts, values.union(age0), "mrr", last, 0.0)


def order_cohort_matrix(
    orders: ibis.Table,
    *,
    as_of: date | datetime,
    freq: Freq | str = Freq.MONTH,
    measure: CohortMeasure | str = CohortMeasure.LOGO,
) -> ibis.Table:
    """Retention of shop customers by the period of their first completed order, as a long triangle.

    Parameters
    ----------
    orders
        The canonical ``orders`` table (needs ``order_id, customer_id, ordered_at, amount, status``).
    as_of
        Instant of the snapshot: orders after it are ignored; ages whose period starts at or after it are not
        shown (the newest age of a cohort may be a partial period).
    freq
        ``"month"``, ``"quarter"`` or ``"year"``.
    measure
        ``"logo"``: ``customers`` with a completed order in the period; ``"revenue"``: their net ``revenue``.

    Returns
    -------
    ibis.Table
        Columns ``cohort`` (UTC timestamp), ``age`` (int64), ``customers`` (int64; ``revenue`` float64 in cents
        for revenue), ``cohort_size`` (members; for revenue the cohort's net revenue at age 0) and ``share``
        (4 decimals; null when the size is 0). Sorted by ``cohort, age``.
    """
    f, m = as_freq(freq), _measure(measure)
    moment = as_instant(as_of)
    last = period_index_of(moment, f)
    if is_period_start(moment, f):
        last -= 1  # the period starting exactly at as_of holds no known facts yet
    o = priced_orders(orders.filter(orders.ordered_at <= moment))
    first = o.filter(o.is_sale).group_by("customer_id").aggregate(first_at=o.ordered_at.min())
    members = first.select("customer_id", cohort=period_start(first.first_at, f), c=period_index(first.first_at, f))
    members = members.filter(members.c <= last)
    j = o.join(members, "customer_id")
    j = j.mutate(age=period_index(j.ordered_at, f) - j.c)
    j = j.filter((j.age >= 0) & (j.age <= last - j.c))
    per_customer = j.group_by(["cohort", "age", "customer_id"]).aggregate(
        sales=j.count(where=j.is_sale), net=j.net.sum()
    )
    if m is CohortMeasure.LOGO:
        values = per_customer.group_by(["cohort", "age"]).aggregate(
            customers=per_customer.count(where=per_customer.sales >= 1)
        )
        cohorts = members.group_by(["cohort", "c"]).aggregate(cohort_size=members.count())
        return _triangle(cohorts, values, "customers", last, 0)
    values = per_customer.group_by(["cohort", "age"]).aggregate(revenue=money_sum(per_customer.net))
    at_zero = values.filter(values.age == 0)
    cohorts = members.select("cohort", "c").distinct().join(at_zero, "cohort")
    cohorts = cohorts.select("cohort", "c", cohort_size=cohorts.revenue)
    return _triangle(cohorts, values, "revenue", last, 0.0)


def _days(days: Sequence[int]) -> list[int]:
    values = [days] if isinstance(days, int) else list(days)
    bad = [d for d in values if isinstance(d, bool) or not isinstance(d, int) or d < 1]
    if not values or bad:
        raise InputError(
            f"days must be whole numbers of days >= 1, got {days!r}. Pass e.g. days=(1, 7, 30) for day-1, day-7 "
            "and day-30 retention."
        )
    return sorted(set(values))


def return_retention(
    events: ibis.Table,
    *,
    as_of: date | datetime,
    event_type: str = "login",
    days: Sequence[int] = (1, 7, 30),
    unbounded: bool = False,
) -> ibis.Table:
    """N-day (or unbounded) return retention per first-event day cohort.

    Parameters
    ----------
    events
        The canonical ``events`` table (needs ``customer_id, event_type, occurred_at``).
    as_of
        Instant of the snapshot: later events are ignored; a cohort is measured at day N only when day N ended
        by ``as_of``.
    event_type
        The event that defines both the cohort (first such event) and a return (e.g. ``"login"``).
    days
        The N to measure, whole days >= 1.
    unbounded
        False: returned exactly on day N. True: returned on day N or any later day.

    Returns
    -------
    ibis.Table
        Columns :data:`RETURN_COLUMNS`: ``cohort_day`` (date, UTC), ``day`` (N), ``cohort_size`` (customers whose
        first event was that day), ``returned`` and ``share`` (``returned / cohort_size``, 4 decimals); one row
        per cohort and N whose day N is complete. Sorted by ``cohort_day, day``.
    """
    return _return_rows(events, as_of=as_of, event_type=event_type, days=days, unbounded=unbounded).select(
        *RETURN_COLUMNS
    )


def return_retention_summary(
    events: ibis.Table,
    *,
    as_of: date | datetime,
    event_type: str = "login",
    days: Sequence[int] = (1, 7, 30),
    unbounded: bool = False,
) -> ibis.Table:
    """N-day (or unbounded) return retention over all cohorts whose day N is complete by ``as_of``.

    Same parameters and rules as :func:`return_retention`. Returns columns :data:`RETURN_SUMMARY_COLUMNS`:
    ``day`` (N), ``customers`` (customers whose day N is complete: the denominator), ``returned`` and ``share``
    (4 decimals), one row per N with at least one such customer, sorted by ``day``.
    """
    rows = _return_rows(events, as_of=as_of, event_type=event_type, days=days, unbounded=unbounded)
    agg = rows.group_by("day").aggregate(customers=rows.cohort_size.sum(), returned=rows.returned.sum())
    agg = agg.mutate(share=_share(agg.returned, agg.customers))
    return agg.select(*RETURN_SUMMARY_COLUMNS).order_by("day")


def _return_rows(events, *, as_of, event_type, days, unbounded) -> ibis.Table:
    require_columns(events, TableName.EVENTS, ("customer_id", "event_type", "occurred_at"))
    wanted = _days(days)
    moment = as_instant(as_of)
    last_complete_day = int(moment.timestamp()) // SECONDS_PER_DAY - 1
    e = events.filter((events.event_type == event_type) & (events.occurred_at <= moment))
    e = e.select("customer_id", "occurred_at", d=e.occurred_at.epoch_seconds().cast("int64") // SECONDS_PER_DAY)
    first = e.group_by("customer_id").aggregate(first_at=e.occurred_at.min(), d0=e.d.min())
    first = first.select("customer_id", "d0", cohort_day=first.first_at.date())
    n = ibis.memtable(pa.table({"day": pa.array(wanted, pa.int64())}))

    j = e.join(first, "customer_id")
    offsets = j.select("customer_id", "cohort_day", offset=j.d - j.d0).distinct()
    if unbounded:
        reach = offsets.group_by(["customer_id", "cohort_day"]).aggregate(reach=offsets.offset.max())
        hit = reach.join(n, reach.reach >= n.day)
    else:
        hit = offsets.join(n, offsets.offset == n.day)
    returned = hit.group_by(["cohort_day", "day"]).aggregate(returned=hit.count())

    sizes = first.group_by(["cohort_day", "d0"]).aggregate(cohort_size=first.count())
    grid = sizes.cross_join(n)
    grid = grid.filter(grid.d0 + grid.day <= last_complete_day).select("cohort_day", "day", "cohort_size")
    full = left_join(grid, returned, ["cohort_day", "day"])
    full = full.mutate(returned=full.returned.fill_null(0))
    full = full.mutate(share=_share(full.returned, full.cohort_size))
    return full.select(*RETURN_COLUMNS).order_by(["cohort_day", "day"])
