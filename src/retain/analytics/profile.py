"""The customer 360: one profile row per customer at an instant ``as_of``.

Only facts known at ``as_of`` count (see :func:`retain.analytics.customers.facts_at`: rows after ``as_of`` are
dropped, and a subscription period or ticket that ends after ``as_of`` is still running / open). Every column
is declared in :data:`retain.contract.profile.PROFILE` (here :data:`PROFILE_COLUMNS` and
:data:`PROFILE_TYPES`: the columns outside the ``risk`` group, which the refresh adds from the churn model).

Rules worth knowing:

- **Days since** (``tenure_days``, ``days_since_last_order``, ``days_since_last_event``,
  ``days_since_last_login``) are whole elapsed days: ``floor((as_of − t) / 24 h)`` on whole seconds, the same
  rule as RFM's ``recency_days``.
- **Orders and revenue**: ``orders`` counts ``completed`` orders; ``total_revenue`` is net: completed amounts
  minus the magnitude of ``refunded`` ones (``canceled`` orders count nowhere), rounded to cents; ``aov`` is
  ``total_revenue / orders`` rounded to cents (null without orders).
- **Subscription status** at ``as_of``: ``active`` with a running non-paused subscription period (``active``,
  ``past_due`` or ``canceled`` status while it runs, as in :mod:`retain.analytics.retention`), ``paused`` when
  only paused periods run, ``canceled`` when periods exist but none runs, ``none`` without any period. ``plan``
  is the running period's plan (for several, the one with the highest ``mrr``); ``mrr`` is the customer's MRR
  (:func:`retain.analytics.revenue.customer_mrr`: 0 while paused or canceled, null for ``none``).
- **Usage** windows and trend: :mod:`retain.analytics.usage`.
- **Support**: ``tickets_open`` are tickets opened and not resolved at ``as_of``; ``complaints_unresolved`` the
  same restricted to complaints.
- **Surveys**: the latest answer (by ``responded_at``, then ``response_id``) with a score.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum

import ibis

from retain.analytics._commerce_orders import money_sum, priced_orders
from retain.analytics._inputs import require_columns
from retain.analytics._states import left_join
from retain.analytics.customers import customer_dimension, facts_at, instant_literal
from retain.analytics.lifecycle import lifecycle_states
from retain.analytics.periods import as_instant
from retain.analytics.retention import subscriber_states
from retain.analytics.rfm import rfm_scores
from retain.analytics.usage import USAGE_WINDOWS, customer_usage
from retain.contract import TABLES, TableName
from retain.contract.profile import PROFILE, ProfileGroup
from retain.errors import InputError

__all__ = ["PROFILE_COLUMNS", "PROFILE_TYPES", "SubscriptionStatus", "customer_profiles"]

_SECONDS_PER_DAY = 86_400
_MONEY_DIGITS = 2
_TS = "timestamp('UTC')"
_COMPUTED = tuple(g for g in ProfileGroup if g is not ProfileGroup.RISK)

PROFILE_COLUMNS: dict[str, str] = PROFILE.descriptions(groups=_COMPUTED)
"""Every column :func:`customer_profiles` computes, in order, with its meaning: the profile spec
(:data:`retain.contract.profile.PROFILE`) without the risk columns the refresh joins from the churn model."""

PROFILE_TYPES: dict[str, str] = PROFILE.types(groups=_COMPUTED)
"""Ibis type of every computed profile column (nullable)."""


class SubscriptionStatus(StrEnum):
    """Values of ``subscription_status``."""

    ACTIVE = "active"
    PAUSED = "paused"
    CANCELED = "canceled"
    NONE = "none"


def _elapsed_days(at: ibis.Value, as_of_seconds: int) -> ibis.Value:
    # Whole seconds on both sides: DuckDB's epoch keeps microseconds while Spark's drops them.
    seconds = ibis.literal(as_of_seconds, "int64") - at.truncate("s").epoch_seconds().cast("int64")
    return (seconds // _SECONDS_PER_DAY).cast("int64")


def _empty(name: TableName) -> ibis.Table:
    return ibis.memtable(TABLES[name].arrow_schema.empty_table())


def _order_facts(orders: ibis.Table) -> ibis.Table:
    o = priced_orders(orders)
    g = o.group_by("customer_id").aggregate(
        orders=o.count(where=o.is_sale),
        total_revenue=money_sum(o.net),
        first_order_at=o.ordered_at.min(where=o.is_sale),
        last_order_at=o.ordered_at.max(where=o.is_sale),
    )
    return g.mutate(orders=g.orders.cast("int64"))


def _subscription_facts(subscriptions: ibis.Table, as_of: datetime) -> ibis.Table:
    """Status, plan, MRR and start of the current (or last) subscription, per customer with any period."""
    require_columns(
        subscriptions,
        TableName.SUBSCRIPTIONS,
        ("subscription_id", "customer_id", "plan", "mrr", "started_at", "ended_at", "status"),
    )
    s = subscriptions
    running = s.ended_at.isnull() | (s.ended_at > instant_literal(as_of))
    # Pick one period per customer deterministically: running before ended, non-paused before paused, then the
    # highest MRR, the latest start, and names as the last tie-breakers.
    order = [
        ibis.desc(ibis.ifelse(running, 1, 0)),
        ibis.ifelse(s.status == "paused", 1, 0),
        ibis.desc(s.mrr),
        ibis.desc(s.started_at),
        s.plan,
        s.subscription_id,
    ]
    ranked = s.mutate(_rank=ibis.row_number().over(group_by=s.customer_id, order_by=order), _running=running)
    chosen = ranked.filter(ranked["_rank"] == 0).select(
        "customer_id",
        "subscription_id",
        plan=ibis.ifelse(ranked["_running"], ranked.plan, ibis.null("string")),
    )
    starts = s.group_by(["customer_id", "subscription_id"]).aggregate(subscription_started_at=s.started_at.min())
    chosen = left_join(chosen, starts, ["customer_id", "subscription_id"])
    states = subscriber_states(subscriptions, as_of).rename(_state="state", _mrr="mrr")
    j = left_join(chosen, states, "customer_id")
    status = ibis.cases(
        (j["_state"] == "active", SubscriptionStatus.ACTIVE.value),
        (j["_state"] == "paused", SubscriptionStatus.PAUSED.value),
        else_=SubscriptionStatus.CANCELED.value,
    )
    return j.select(
        "customer_id",
        subscription_status=status,
        plan=j.plan,
        mrr=j["_mrr"].fill_null(0.0),
        subscription_started_at=j.subscription_started_at,
    )


def _ticket_facts(tickets: ibis.Table) -> ibis.Table:
    require_columns(tickets, TableName.TICKETS, ("customer_id", "opened_at", "resolved_at", "is_complaint"))
    t = tickets
    is_open = t.resolved_at.isnull()  # tickets resolved after as_of were already re-opened by facts_at
    g = t.group_by("customer_id").aggregate(
        tickets_open=t.count(where=is_open),
        complaints_unresolved=t.count(where=is_open & t.is_complaint.fill_null(False)),
    )
    return g.mutate(
        tickets_open=g.tickets_open.cast("int64"), complaints_unresolved=g.complaints_unresolved.cast("int64")
    )


def _latest_score(feedback: ibis.Table, survey: str, prefix: str) -> ibis.Table:
    f = feedback.filter((feedback.survey == survey) & feedback.score.notnull())
    newest = ibis.row_number().over(
        group_by=f.customer_id, order_by=[ibis.desc(f.responded_at), ibis.desc(f.response_id)]
    )
    f = f.mutate(_n=newest)
    f = f.filter(f["_n"] == 0)
    return f.select("customer_id", **{f"{prefix}_score": f.score.cast("int64"), f"{prefix}_at": f.responded_at})


def customer_profiles(
    tables: Mapping[str, ibis.Table],
    *,
    as_of: date | datetime,
    activity_window_days: int = 90,
) -> ibis.Table:
    """One profile row per customer known at ``as_of``: identity, orders, RFM, lifecycle, subscription, usage,
    support and surveys.

    Parameters
    ----------
    tables
        Canonical table name → Ibis table (``customers``, ``orders``, ``subscriptions``, ``events``,
        ``tickets``, ``feedback``); a missing table counts as empty.
    as_of
        The instant the profile describes (a date means midnight UTC). Nothing recorded after it counts.
    activity_window_days
        Activity window of the lifecycle states (a customer with an order in the last N days is active).

    Returns
    -------
    ibis.Table
        Unexecuted expression with exactly the columns of :data:`PROFILE_COLUMNS` (types :data:`PROFILE_TYPES`),
        one row per customer of :func:`retain.analytics.customers.customer_dimension` at ``as_of``, sorted by
        ``customer_id``. Counts are 0 (not null) for customers without the facts they count.

    Raises
    ------
    InputError
        If a table name is unknown, a table lacks canonical columns, or no table is given.
    """
    t = as_instant(as_of)
    facts = facts_at(tables, t)
    if all(v is None for v in facts.values()):
        raise InputError(
            "customer_profiles needs at least one table; got none. Pass e.g. {'customers': ..., 'orders': ...}."
        )
    as_of_seconds = int(t.timestamp())
    cust = facts[TableName.CUSTOMERS]
    orders = facts[TableName.ORDERS]
    subs = facts[TableName.SUBSCRIPTIONS]
    events = facts[TableName.EVENTS]
    tickets = facts[TableName.TICKETS]
    feedback = facts[TableName.FEEDBACK]

    p = customer_dimension(cust, orders, subs, events, tickets, feedback)
    p = p.mutate(tenure_days=_elapsed_days(p.created_at, as_of_seconds))
    p = left_join(p, _order_facts(orders if orders is not None else _empty(TableName.ORDERS)), "customer_id")
    rfm = rfm_scores(orders if orders is not None else _empty(TableName.ORDERS), as_of=t)
    rfm = rfm.select("customer_id", "r_score", "f_score", "m_score", "rfm", rfm_segment=rfm.segment)
    p = left_join(p, rfm, "customer_id")
    if orders is not None or subs is not None:
        life = lifecycle_states(orders, subs, as_of=t, activity_window_days=activity_window_days)
        p = left_join(p, life.select("customer_id", lifecycle_state=life.state), "customer_id")
    if subs is not None:
        p = left_join(p, _subscription_facts(subs, t), "customer_id")
    usage = customer_usage(events if events is not None else _empty(TableName.EVENTS), as_of=t, windows=USAGE_WINDOWS)
    p = left_join(p, usage, "customer_id")
    if tickets is not None:
        p = left_join(p, _ticket_facts(tickets), "customer_id")
    if feedback is not None:
        require_columns(feedback, TableName.FEEDBACK, ("response_id", "customer_id", "survey", "score", "responded_at"))
        p = left_join(p, _latest_score(feedback, "nps", "nps"), "customer_id")
        p = left_join(p, _latest_score(feedback, "csat", "csat"), "customer_id")

    def col(name: str, kind: str | None = None) -> ibis.Value:
        # A section whose table is missing has no columns: it is all null (counts 0, status none).
        return p[name] if name in p.columns else ibis.null(kind or PROFILE_TYPES[name])

    zero_counts = [f"events_{n}d" for n in USAGE_WINDOWS] + [f"logins_{n}d" for n in USAGE_WINDOWS]
    zero_counts += ["orders", "tickets_open", "complaints_unresolved"]
    out = {name: col(name) for name in PROFILE_COLUMNS}
    for name in zero_counts:
        out[name] = out[name].fill_null(0).cast("int64")
    out["total_revenue"] = out["total_revenue"].fill_null(0.0)
    out["aov"] = ibis.ifelse(
        out["orders"] > 0,
        (out["total_revenue"] / out["orders"]).round(_MONEY_DIGITS),
        ibis.null("float64"),
    )
    out["days_since_last_order"] = _elapsed_days(col("last_order_at"), as_of_seconds)
    out["days_since_last_event"] = _elapsed_days(col("last_event_at", _TS), as_of_seconds)
    out["days_since_last_login"] = _elapsed_days(col("last_login_at", _TS), as_of_seconds)
    out["subscription_status"] = out["subscription_status"].fill_null(SubscriptionStatus.NONE.value)
    for name, kind in PROFILE_TYPES.items():
        out[name] = out[name].cast(kind)
    return p.select(**out).order_by("customer_id")
