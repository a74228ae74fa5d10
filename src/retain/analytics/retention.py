"""Customer retention and churn: who is active, and per period S, N, E, lost and the rates.

Definitions (DESIGN.md section 4), with S customers active at the start of a period, E active at its end and
N new during it::

    retention rate = (E − N) / S × 100          churn rate = lost / S × 100

**Subscriptions.** A customer is *active* at instant ``t`` when at least one of their subscription periods runs
at ``t`` (``started_at <= t`` and ``ended_at`` is null or ``t < ended_at``) and is not ``paused``. The period's
status ``active``, ``past_due`` (in dunning, still served) and ``canceled`` (the period that ended with the
cancellation; it ran until ``ended_at``) all count as active while the period runs. A customer is *paused* at
``t`` when their only running periods are ``paused`` ones: a paused customer is neither active (not paying) nor
churned (they have not left). Customers with no running period are inactive.

**Orders (non-contractual).** A customer is active at ``t`` when they have a ``completed`` order with
``t − window < ordered_at <= t`` (default window 90 days). Nobody is ever paused.

**Per period** ``[start, end)`` (state "at the end" is the state at the instant ``end``, i.e. at the start of
the next period of a grid, so consecutive periods chain: E of one period is S of the next):

- ``start_customers`` (S): active at ``start``; ``end_customers`` (E): active at ``end``.
- ``new_customers`` (N): active at ``end`` but not at ``start`` — customers who start during the period and
  drop out again before its end are not counted. N = ``acquired`` (never active before ``start``) +
  ``reactivated`` (active some time before, inactive at ``start``) + ``resumed`` (paused at ``start``).
- ``retained``: active at both instants (a customer who leaves and comes back within the period is retained).
- ``lost``: active at ``start``, neither active nor paused at ``end``. Split by how their last subscription
  period ending in ``(start, end]`` ended: ``lost_involuntary`` when its ``churn_type`` is ``involuntary`` (or,
  with no ``churn_type``, its ``cancel_reason`` is ``payment_failed``), else ``lost_voluntary`` (which includes
  an unknown churn type). Non-contractual churn has no recorded cause: every loss is ``lost_voluntary``.
- ``paused``: active at ``start`` and paused at ``end`` (not churn, but not retained either).

Identities (tested)::

    E = S − lost − paused + N            retained = S − lost − paused = E − N
    lost = lost_voluntary + lost_involuntary
    retention_rate + churn_rate + pause_rate = 100      (when S > 0)

Rates are percentages; they are null when S is 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from numbers import Real
from typing import overload

import ibis

from retain.analytics._states import (
    PERIOD_KEYS,
    first_started,
    instants_table,
    involuntary_endings,
    left_join,
    order_pairs,
    subscription_pairs,
    subscription_states,
)
from retain.analytics.periods import as_instant, periods_table, to_periods
from retain.errors import InputError

__all__ = [
    "SERIES_COLUMNS",
    "active_subscribers",
    "churn_rate",
    "retention_rate",
    "retention_series",
    "retention_series_orders",
    "subscriber_states",
]

SERIES_COLUMNS = (
    "period_start",
    "period_end",
    "start_customers",
    "new_customers",
    "end_customers",
    "retained",
    "lost",
    "lost_voluntary",
    "lost_involuntary",
    "paused",
    "acquired",
    "reactivated",
    "resumed",
    "retention_rate",
    "churn_rate",
    "voluntary_churn_rate",
    "involuntary_churn_rate",
    "pause_rate",
)
"""Columns of :func:`retention_series` and :func:`retention_series_orders`, in order."""

_HUNDRED = ibis.literal(100.0, "float64")


def _percent(part, whole):
    """``100 * part / whole``; null for ``whole == 0``. Multiplying first keeps integer inputs exact."""
    if isinstance(part, ibis.Expr) or isinstance(whole, ibis.Expr):
        part = part if isinstance(part, ibis.Expr) else ibis.literal(part)
        whole = whole if isinstance(whole, ibis.Expr) else ibis.literal(whole)
        return (_HUNDRED * part.cast("float64")) / whole.cast("float64").nullif(0.0)
    return 100.0 * part / whole


def _check_counts(**counts: Real) -> None:
    for name, value in counts.items():
        if value < 0:
            raise InputError(f"{name} must be a count >= 0, got {value}.")
    if counts.get("start", 1) <= 0:
        raise InputError(
            f"The rate is undefined with {counts['start']} customers at the start of the period; "
            "expected at least one (S > 0)."
        )


@overload
def retention_rate(start: Real, end: Real, new: Real) -> float: ...
@overload
def retention_rate(start: ibis.Value, end: ibis.Value, new: ibis.Value) -> ibis.Value: ...
def retention_rate(start, end, new):
    """Retention rate in percent: ``(E − N) / S × 100``.

    Parameters
    ----------
    start
        S, customers active at the start of the period.
    end
        E, customers active at the end of the period.
    new
        N, customers who became active during the period and are active at its end.

    Returns
    -------
    float or ibis.Value
        For numbers, a float; for Ibis values, an Ibis expression that is null where S is 0.

    Raises
    ------
    InputError
        For numbers: a negative count, S = 0, or counts that cannot come from one population
        (``E − N`` must lie between 0 and S).

    Examples
    --------
    >>> retention_rate(10_000, 13_000, 5_500)
    75.0
    """
    if isinstance(start, ibis.Expr) or isinstance(end, ibis.Expr) or isinstance(new, ibis.Expr):
        return _percent(end - new, start)
    _check_counts(start=start, end=end, new=new)
    if not 0 <= end - new <= start:
        raise InputError(
            f"Inconsistent counts S={start}, E={end}, N={new}: the retained customers E − N = {end - new} must be "
            f"between 0 and S. Check that N only counts new customers still active at the end."
        )
    return _percent(end - new, start)


@overload
def churn_rate(lost: Real, start: Real) -> float: ...
@overload
def churn_rate(lost: ibis.Value, start: ibis.Value) -> ibis.Value: ...
def churn_rate(lost, start):
    """Churn rate in percent: customers lost during the period / S × 100.

    Raises
    ------
    InputError
        For numbers: a negative count, S = 0, or more customers lost than there were at the start.

    Examples
    --------
    >>> churn_rate(30, 120)
    25.0
    """
    if isinstance(lost, ibis.Expr) or isinstance(start, ibis.Expr):
        return _percent(lost, start)
    _check_counts(lost=lost, start=start)
    if lost > start:
        raise InputError(f"Lost customers ({lost}) cannot exceed customers at the start ({start}).")
    return _percent(lost, start)


def subscriber_states(subscriptions: ibis.Table, at: date | datetime) -> ibis.Table:
    """State of every customer with a running subscription period at instant ``at``.

    Returns
    -------
    ibis.Table
        Columns ``customer_id``, ``state`` (``"active"`` or ``"paused"``, see the module docstring) and ``mrr``
        (sum of ``mrr`` of the running non-paused periods), sorted by ``customer_id``. Inactive customers have no
        row.
    """
    s = subscription_states(subscriptions, instants_table([as_instant(at)]))
    state = ibis.ifelse(s.running_active > 0, "active", "paused")
    return s.select("customer_id", state=state, mrr=s.mrr).order_by("customer_id")


def active_subscribers(subscriptions: ibis.Table, at: date | datetime) -> ibis.Table:
    """Customers active at instant ``at`` (a running, non-paused subscription period), one ``customer_id`` each.

    Sorted by ``customer_id``. See the module docstring for the exact rule.
    """
    s = subscription_states(subscriptions, instants_table([as_instant(at)]))
    return s.filter(s.running_active > 0).select("customer_id").order_by("customer_id")


def _series(pairs: ibis.Table, periods: ibis.Table, first: ibis.Table, endings: ibis.Table | None, *, seen_at_start):
    keys = [*PERIOD_KEYS, "customer_id"]
    j = left_join(pairs, first, "customer_id")
    invol = ibis.literal(False)
    if endings is not None:
        j = left_join(j, endings, keys)
        invol = j.involuntary.fill_null(False)
    lost = j.active_s & ~j.active_e & ~j.paused_e
    arrived = ~j.active_s & j.active_e
    # Active before the start although not active at it: a returning customer (strict for subscriptions,
    # inclusive for orders, whose activity window includes its right end).
    seen_before = seen_at_start(j.first_at, j.period_start).fill_null(False)
    agg = j.group_by(list(PERIOD_KEYS)).aggregate(
        start_customers=j.count(where=j.active_s),
        new_customers=j.count(where=arrived),
        end_customers=j.count(where=j.active_e),
        retained=j.count(where=j.active_s & j.active_e),
        lost=j.count(where=lost),
        lost_voluntary=j.count(where=lost & ~invol),
        lost_involuntary=j.count(where=lost & invol),
        paused=j.count(where=j.active_s & j.paused_e),
        acquired=j.count(where=arrived & ~j.paused_s & ~seen_before),
        reactivated=j.count(where=arrived & ~j.paused_s & seen_before),
        resumed=j.count(where=arrived & j.paused_s),
    )
    counts = [c for c in SERIES_COLUMNS[2:] if not c.endswith("_rate")]
    full = left_join(periods, agg, list(PERIOD_KEYS))
    full = full.select(*PERIOD_KEYS, **{c: full[c].fill_null(0) for c in counts})
    s = full.start_customers
    full = full.mutate(
        retention_rate=retention_rate(s, full.end_customers, full.new_customers),
        churn_rate=churn_rate(full.lost, s),
        voluntary_churn_rate=churn_rate(full.lost_voluntary, s),
        involuntary_churn_rate=churn_rate(full.lost_involuntary, s),
        pause_rate=_percent(full.paused, s),
    )
    return full.select(*SERIES_COLUMNS).order_by(list(PERIOD_KEYS))


def retention_series(subscriptions: ibis.Table, periods: Iterable[tuple[date | datetime, date | datetime]]):
    """Customer retention and churn of a subscription business, one row per period.

    Parameters
    ----------
    subscriptions
        The canonical ``subscriptions`` table (needs ``customer_id, mrr, started_at, ended_at, status``;
        ``churn_type`` and ``cancel_reason`` are used when present).
    periods
        ``(start, end)`` intervals, e.g. from :func:`retain.analytics.period_grid`.

    Returns
    -------
    ibis.Table
        Unexecuted expression with the columns :data:`SERIES_COLUMNS`, one row per distinct period (also periods
        without any customer), sorted by ``period_start, period_end``. Counts are int64, rates float64 percent.
        See the module docstring for every definition and the identities that hold.
    """
    plist = to_periods(periods)
    p = periods_table(plist)
    pairs = subscription_pairs(subscriptions, plist)
    first = first_started(subscriptions, paid_only=False)
    endings = involuntary_endings(subscriptions, p)
    return _series(pairs, p, first, endings, seen_at_start=lambda first_at, start: first_at < start)


def retention_series_orders(
    orders: ibis.Table,
    periods: Iterable[tuple[date | datetime, date | datetime]],
    activity_window_days: int = 90,
) -> ibis.Table:
    """Customer retention and churn of a non-contractual business (a shop), one row per period.

    Parameters
    ----------
    orders
        The canonical ``orders`` table (needs ``customer_id, ordered_at, status``; only ``completed`` orders
        count as activity).
    periods
        ``(start, end)`` intervals, e.g. from :func:`retain.analytics.period_grid`.
    activity_window_days
        A customer is active at ``t`` with a completed order in ``(t − window, t]``.

    Returns
    -------
    ibis.Table
        Same columns as :func:`retention_series`. ``acquired`` counts customers whose first completed order is
        in the period; ``reactivated`` those who had ordered before but were outside the window at the start.
        ``lost_involuntary``, ``paused`` and ``resumed`` are always 0: a shop's churn is latent and has no
        recorded cause, so every loss counts as voluntary.
    """
    if isinstance(activity_window_days, bool) or not isinstance(activity_window_days, int) or activity_window_days < 1:
        raise InputError(
            f"activity_window_days must be a whole number of days >= 1, got {activity_window_days!r} "
            "(the default is 90)."
        )
    plist = to_periods(periods)
    p = periods_table(plist)
    pairs = order_pairs(orders, plist, activity_window_days)
    o = orders.filter(orders.status == "completed")
    first = o.group_by("customer_id").aggregate(first_at=o.ordered_at.min())
    return _series(pairs, p, first, None, seen_at_start=lambda first_at, start: first_at <= start)
