"""Lifecycle state of every customer at an instant, and period-over-period flows between states.

Parameters shared by every function: ``W = activity_window_days`` (default 90), ``N = new_days`` (default 30) and
``R = at_risk_share × W`` (default 0.5 × 90 = 45 days). All boundaries are computed in Python from the instant
``t`` (no engine-specific interval arithmetic), so DuckDB and PySpark agree exactly.

**Non-contractual customers (orders).** Only ``completed`` orders with ``ordered_at <= t`` count; ``first`` and
``last`` are the customer's first and last such order. The customer is *active* at ``t`` when
``last > t − W`` (the rule of the retention metrics). A *reactivation* is an order placed more than ``W`` after
the previous order (the customer had lapsed in between). The first matching rule wins:

============= ===========================================================================================
state         rule
============= ===========================================================================================
``churned``   ``last <= t − 2W`` (no order for at least two windows)
``dormant``   ``t − 2W < last <= t − W`` (inactive, but for less than two windows)
``at_risk``   active and ``last < t − R`` (no order for more than ``R`` days, e.g. > 45 of 90)
``new``       active and ``first > t − N`` (first order within the last ``N`` days)
``returning`` active and the latest reactivation is ``> t − N`` (reactivated within the last ``N`` days)
``active``    every other active customer
============= ===========================================================================================

**Subscription customers.** A subscription period runs at ``t`` when ``started_at <= t`` and (``ended_at`` is
null or ``t < ended_at``); zero-length periods never ran and are ignored. A *restart* is a non-paused period that
starts when none of the customer's earlier periods is still running (a plan change, which ends one period and
starts the next at the same instant, is not a restart; neither is resuming after a ``paused`` period).

============= ===========================================================================================
state         rule
============= ===========================================================================================
``churned``   no period runs at ``t`` but one ran before (every subscription ended)
``paused``    only ``paused`` periods run at ``t`` — a pause is its own state, neither churn nor dormancy
``at_risk``   a non-paused period runs and a running period has status ``past_due`` (payment failing)
``new``       a non-paused period runs and the first non-paused period started ``> t − N``
``returning`` a non-paused period runs and the latest restart started ``> t − N``
``active``    every other customer with a running non-paused period
============= ===========================================================================================

``dormant`` does not apply to subscriptions. When both tables are given, a customer with a subscription period
started at or before ``t`` follows the subscription rules and everyone else the order rules.
``returning`` is the *reactivated* state: flows into it from ``dormant``/``churned`` are the reactivations.
Customers with no activity at or before ``t`` have no state (``none`` in the flows).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum

import ibis
import pyarrow as pa

from retain.analytics._inputs import require_columns
from retain.analytics._states import PERIOD_KEYS, first_started, instants_table, subscription_states
from retain.analytics.periods import Period, as_instant, to_periods
from retain.contract import TableName
from retain.errors import InputError

__all__ = ["FLOW_COLUMNS", "LifecycleState", "lifecycle_flows", "lifecycle_states"]

FLOW_COLUMNS = ("period_start", "period_end", "from_state", "to_state", "customers")
_TIMESTAMP = pa.timestamp("us", tz="UTC")
_SECONDS_PER_DAY = 86_400


class LifecycleState(StrEnum):
    """Lifecycle states (see the module docstring for the rules); ``NONE`` marks "not a customer yet"."""

    NEW = "new"
    ACTIVE = "active"
    RETURNING = "returning"
    AT_RISK = "at_risk"
    DORMANT = "dormant"
    PAUSED = "paused"
    CHURNED = "churned"
    NONE = "none"


def _check_params(activity_window_days: int, new_days: int, at_risk_share: float) -> None:
    for name, value in (("activity_window_days", activity_window_days), ("new_days", new_days)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(f"{name} must be a positive whole number of days, got {value!r}.")
    if isinstance(at_risk_share, bool) or not isinstance(at_risk_share, int | float) or not 0 < at_risk_share < 1:
        raise InputError(
            f"at_risk_share must be a number strictly between 0 and 1 (share of the activity window without "
            f"activity after which an active customer is at risk), got {at_risk_share!r}."
        )


def _order_instants(instants: list[datetime], w: int, n: int, share: float) -> ibis.Table:
    """Instants with the boundaries the order rules compare against, precomputed in Python."""
    cols = {
        "at": instants,
        "new_since": [t - timedelta(days=n) for t in instants],
        "risk_before": [t - timedelta(days=w * share) for t in instants],
        "window_start": [t - timedelta(days=w) for t in instants],
        "churn_before": [t - timedelta(days=2 * w) for t in instants],
    }
    return ibis.memtable(pa.table({k: pa.array(v, _TIMESTAMP) for k, v in cols.items()}))


def _order_states(orders: ibis.Table, instants: list[datetime], w: int, n: int, share: float) -> ibis.Table:
    require_columns(orders, TableName.ORDERS, ("customer_id", "ordered_at", "status"))
    o = orders.filter(orders.status == "completed").select("customer_id", "ordered_at")
    prev = o.ordered_at.lag().over(group_by=o.customer_id, order_by=o.ordered_at)
    gap = o.ordered_at.epoch_seconds() - prev.epoch_seconds()
    o = o.mutate(restart=(gap > w * _SECONDS_PER_DAY).fill_null(False))
    i = _order_instants(instants, w, n, share)
    j = o.join(i, o.ordered_at <= i.at)
    g = j.group_by(["at", "new_since", "risk_before", "window_start", "churn_before", "customer_id"]).aggregate(
        first_at=j.ordered_at.min(),
        last_at=j.ordered_at.max(),
        last_restart=j.ordered_at.max(where=j.restart),
    )
    state = ibis.cases(
        (g.last_at <= g.churn_before, LifecycleState.CHURNED.value),
        (g.last_at <= g.window_start, LifecycleState.DORMANT.value),
        (g.last_at < g.risk_before, LifecycleState.AT_RISK.value),
        (g.first_at > g.new_since, LifecycleState.NEW.value),
        ((g.last_restart > g.new_since).fill_null(False), LifecycleState.RETURNING.value),
        else_=LifecycleState.ACTIVE.value,
    )
    return g.select("at", "customer_id", state=state)


def _restarts(subscriptions: ibis.Table) -> ibis.Table:
    """Per customer, the start instants of non-paused periods that began after a gap (``restart_at``)."""
    p = subscriptions
    q = p.view()
    j = p.join(q, [p.customer_id == q.customer_id, q.started_at < p.started_at], lname="", rname="{name}_q")
    covered = j.ended_at_q.isnull() | (j.ended_at_q >= j.started_at)
    g = j.filter(j.status != "paused").group_by(["customer_id", "started_at"]).aggregate(covered=covered.any())
    return g.filter(~g.covered).select("customer_id", restart_at=g.started_at)


def _subscription_states(subscriptions: ibis.Table, instants: list[datetime], n: int) -> ibis.Table:
    require_columns(subscriptions, TableName.SUBSCRIPTIONS, ("customer_id", "mrr", "started_at", "ended_at", "status"))
    s = subscriptions
    s = s.filter(s.ended_at.isnull() | (s.ended_at > s.started_at))  # zero-length periods never ran
    at = instants_table(instants)
    # Everyone with a period started by t (state "churned" unless something runs), then what runs at t.
    known = s.join(at, s.started_at <= at.at).group_by(["at", "customer_id"]).aggregate()
    running = subscription_states(s, at).select("at", "customer_id", "running_active", "running_paused")
    past_due = subscription_states(s.filter(s.status == "past_due"), at)
    past_due = past_due.select("at", "customer_id", past_due=past_due.running_active > 0)
    first = first_started(s, paid_only=False)
    restarts = _restarts(s)
    starts = restarts.join(at, restarts.restart_at <= at.at)
    starts = starts.group_by(["at", "customer_id"]).aggregate(last_restart=starts.restart_at.max())
    k = known
    for extra in (running, past_due, starts):
        k = k.left_join(extra, ["at", "customer_id"]).select(
            *k.columns, *[c for c in extra.columns if c not in ("at", "customer_id")]
        )
    k = k.left_join(first, "customer_id").select(*k.columns, "first_at")
    bounds = ibis.memtable(
        pa.table(
            {
                "at": pa.array(instants, _TIMESTAMP),
                "new_since": pa.array([t - timedelta(days=n) for t in instants], _TIMESTAMP),
            }
        )
    )
    k = k.join(bounds, "at")
    state = ibis.cases(
        (k.running_active.fill_null(0) > 0, _running_state(k, k.new_since)),
        (k.running_paused.fill_null(0) > 0, LifecycleState.PAUSED.value),
        else_=LifecycleState.CHURNED.value,
    )
    return k.select("at", "customer_id", state=state)


def _running_state(k: ibis.Table, since: ibis.Value) -> ibis.Value:
    return ibis.cases(
        (k.past_due.fill_null(False), LifecycleState.AT_RISK.value),
        ((k.first_at > since).fill_null(False), LifecycleState.NEW.value),
        ((k.last_restart > since).fill_null(False), LifecycleState.RETURNING.value),
        else_=LifecycleState.ACTIVE.value,
    )


def _states_at(
    orders: ibis.Table | None,
    subscriptions: ibis.Table | None,
    instants: list[datetime],
    w: int,
    n: int,
    share: float,
) -> ibis.Table:
    """Columns ``at, customer_id, state`` for every customer with a state at each instant."""
    _check_params(w, n, share)
    if orders is None and subscriptions is None:
        raise InputError(
            "Lifecycle states need orders (non-contractual) or subscriptions, or both; neither was given. "
            "Pass orders=... and/or subscriptions=..."
        )
    parts = []
    if subscriptions is not None:
        parts.append(_subscription_states(subscriptions, instants, n))
    if orders is not None:
        from_orders = _order_states(orders, instants, w, n, share)
        if parts:  # subscribers follow the subscription rules
            from_orders = from_orders.anti_join(parts[0], ["at", "customer_id"])
        parts.append(from_orders)
    return parts[0] if len(parts) == 1 else parts[0].union(parts[1])


def lifecycle_states(
    orders: ibis.Table | None = None,
    subscriptions: ibis.Table | None = None,
    *,
    as_of: date | datetime,
    activity_window_days: int = 90,
    new_days: int = 30,
    at_risk_share: float = 0.5,
) -> ibis.Table:
    """Lifecycle state of every customer at instant ``as_of``.

    Parameters
    ----------
    orders, subscriptions
        The canonical tables; give either or both (see the module docstring for how they combine).
    as_of
        The instant; a date means midnight UTC.
    activity_window_days
        ``W``: an order in ``(t − W, t]`` makes a customer active (> 0; ``settings.activity_window_days``).
    new_days
        ``N``: first activity (or reactivation) within this many days makes a customer ``new`` (``returning``).
    at_risk_share
        An active customer with no order for more than ``at_risk_share × W`` days is ``at_risk`` (0 < share < 1).

    Returns
    -------
    ibis.Table
        Columns ``customer_id``, ``state`` (a :class:`LifecycleState` value), sorted by ``customer_id``.

    Raises
    ------
    InputError
        If no table is given, a table lacks canonical columns or a parameter is out of range.
    """
    t = as_instant(as_of)
    s = _states_at(orders, subscriptions, [t], activity_window_days, new_days, at_risk_share)
    return s.select("customer_id", "state").order_by("customer_id")


def lifecycle_flows(
    orders: ibis.Table | None = None,
    subscriptions: ibis.Table | None = None,
    *,
    periods: Iterable[tuple[date | datetime, date | datetime]],
    activity_window_days: int = 90,
    new_days: int = 30,
    at_risk_share: float = 0.5,
) -> ibis.Table:
    """Transitions between the state at each period's start and the state at its end.

    Parameters
    ----------
    orders, subscriptions, activity_window_days, new_days, at_risk_share
        As in :func:`lifecycle_states`.
    periods
        ``(start, end)`` intervals, e.g. from :func:`~retain.analytics.periods.period_grid`.

    Returns
    -------
    ibis.Table
        Columns :data:`FLOW_COLUMNS`: per period, one row per ``(from_state, to_state)`` pair that occurs, with
        the number of customers making it (staying in a state is a pair too). A customer with no state at an
        instant is ``"none"`` there; customers without a state at both ends are not counted. Sorted by period,
        ``from_state``, ``to_state``.
    """
    plist: list[Period] = sorted(set(to_periods(periods)))
    instants = sorted({p.start for p in plist} | {p.end for p in plist})
    states = _states_at(orders, subscriptions, instants, activity_window_days, new_days, at_risk_share)
    pt = ibis.memtable(
        pa.table(
            {
                "period_start": pa.array([p.start for p in plist], _TIMESTAMP),
                "period_end": pa.array([p.end for p in plist], _TIMESTAMP),
            }
        )
    )
    none = ibis.null("string")
    sides = []
    for key, col in (("period_start", "from_state"), ("period_end", "to_state")):
        j = pt.join(states, pt[key] == states.at)
        other = "to_state" if col == "from_state" else "from_state"
        sides.append(j.select(*PERIOD_KEYS, "customer_id", **{col: j.state, other: none}))
    both = sides[0].union(sides[1])
    pairs = both.group_by([*PERIOD_KEYS, "customer_id"]).aggregate(
        from_state=both.from_state.max(), to_state=both.to_state.max()
    )
    pairs = pairs.mutate(
        from_state=pairs.from_state.fill_null(LifecycleState.NONE.value),
        to_state=pairs.to_state.fill_null(LifecycleState.NONE.value),
    )
    flows = pairs.group_by(list(FLOW_COLUMNS[:4])).aggregate(customers=pairs.count())
    return flows.select(*FLOW_COLUMNS).order_by(list(FLOW_COLUMNS[:4]))
