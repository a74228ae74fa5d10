"""The goal outcome of every enrolment whose window has ended, as an Ibis query on either engine.

For an enrolment at ``t`` with a goal window of ``w`` days, the outcome ``y`` is measured over ``(t, t + w]`` and
the pre-enrolment value ``pre`` (for CUPED) over ``(t − w, t]``, both from the canonical tables:

==========  ===========================================================================================
metric      y (pre: the same over the window before)
==========  ===========================================================================================
retained    subscription: a subscription running (not paused) at ``t + w`` (pre: at ``t``);
            shop: a completed order in the window (pre: in the window before)
orders      completed orders in the window
revenue     the amount of completed orders in the window, net of refunds recorded as negative amounts
logins      ``login`` events in the window
==========  ===========================================================================================

Enrolments whose window ends after ``as_of`` are not measured yet (they would count as not retained).
"""

from __future__ import annotations

from datetime import datetime

import ibis

from retain.contract.business_model import BusinessModel
from retain.contract.tables import TABLES, TableName
from retain.errors import InputError
from retain.facts import Facts

__all__ = ["GOAL_METRICS", "outcomes"]

GOAL_METRICS = ("retained", "orders", "revenue", "logins")
_KEY = ("playbook", "customer_id", "trigger_key", "arm", "enrolled_at")


def _table(facts: Facts, name: TableName) -> ibis.Table:
    found = facts.table(name)
    return found if found is not None else ibis.memtable(TABLES[name].arrow_schema.empty_table())


def outcomes(facts: Facts, enrolments: ibis.Table, *, metric: str, window_days: int, as_of: datetime) -> ibis.Table:
    """One row per measured enrolment: ``playbook, customer_id, trigger_key, arm, enrolled_at, y, pre``.

    Parameters
    ----------
    facts
        The lake view the outcomes are read from.
    enrolments
        Rows of the ``playbook_enrolments`` system table (one playbook's, usually).
    metric
        One of :data:`GOAL_METRICS`.
    window_days
        The goal window (days).
    as_of
        Only enrolments with ``enrolled_at + window <= as_of`` are measured.
    """
    if metric not in GOAL_METRICS:
        raise InputError(f"Unknown goal metric {metric!r}. Valid metrics: {', '.join(GOAL_METRICS)}.")
    if window_days < 1:
        raise InputError(f"The goal window must be at least 1 day; got {window_days}.")
    window = ibis.interval(days=window_days)
    e = enrolments.filter(enrolments.enrolled_at + window <= ibis.literal(as_of)).select(*_KEY)
    if metric == "retained" and facts.business_model is BusinessModel.SUBSCRIPTION:
        return _still_subscribed(facts, e, window)
    if metric == "logins":
        events = _table(facts, TableName.EVENTS)
        facts_at = events.filter(events.event_type == "login").select("customer_id", at=events.occurred_at, value=1.0)
    else:
        orders = _table(facts, TableName.ORDERS)
        completed = orders.filter(orders.status == "completed")
        if metric == "revenue":
            # Refunds are negative amounts of their own rows (the contract); net them against the window.
            chosen = orders.filter((orders.status == "completed") | (orders.amount < 0))
            facts_at = chosen.select("customer_id", at=chosen.ordered_at, value=chosen.amount.cast("float64"))
        else:
            facts_at = completed.select("customer_id", at=completed.ordered_at, value=1.0)
    joined = e.left_join(facts_at, e.customer_id == facts_at.customer_id)
    after = (joined.at > joined.enrolled_at) & (joined.at <= joined.enrolled_at + window)
    before = (joined.at > joined.enrolled_at - window) & (joined.at <= joined.enrolled_at)
    summed = joined.group_by(list(_KEY)).aggregate(
        y=ibis.ifelse(after, joined.value, 0.0).sum().fill_null(0.0),
        pre=ibis.ifelse(before, joined.value, 0.0).sum().fill_null(0.0),
    )
    if metric == "retained":  # a shop's customer is retained by ordering again: any order counts once
        return summed.mutate(y=(summed.y > 0).cast("float64"), pre=(summed.pre > 0).cast("float64"))
    return summed


def _still_subscribed(facts: Facts, e: ibis.Table, window: ibis.Value) -> ibis.Table:
    subs = _table(facts, TableName.SUBSCRIPTIONS)
    joined = e.left_join(subs, e.customer_id == subs.customer_id)

    def running(at: ibis.Value) -> ibis.Value:
        started = joined.started_at <= at
        not_ended = joined.ended_at.isnull() | (joined.ended_at > at)
        return ibis.ifelse(started & not_ended & (joined.status != "paused"), 1.0, 0.0)

    return joined.group_by(list(_KEY)).aggregate(
        y=running(joined.enrolled_at + window).max().fill_null(0.0),
        pre=running(joined.enrolled_at).max().fill_null(0.0),
    )
