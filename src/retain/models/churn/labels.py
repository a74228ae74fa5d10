"""Churn labels: did a customer observed at ``as_of`` churn within the next ``horizon_days``?

Two business models (DESIGN.md section 1):

**Subscription churn** (observed). Customers are labelled only if *active* at ``as_of`` (a running, non-paused
subscription period — the rule of ``retain.analytics``). The label is 1 when the subscription ends within
``(as_of, as_of + horizon]``: at some instant of that window the customer has no running subscription period at
all. A pause is not churn (the customer has not left; it is also not churn in the retention metrics), but a
subscription that ends while paused is. A plan change or a resume closes one period and opens the next at the
same instant, which leaves no gap and is not churn.

**Non-contractual churn** (latent, observed through silence). Customers are labelled only if they placed a
``completed`` order at or before ``as_of``. The label is 1 when they place no ``completed`` order within
``(as_of, as_of + horizon]``.

Labels read the future by design (that is what they are); the features never do.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import ibis

from retain.analytics._inputs import require_columns
from retain.analytics._states import instants_table, subscription_states
from retain.analytics.periods import as_instant
from retain.contract import TableName
from retain.contract.business_model import BusinessModel
from retain.errors import InputError

__all__ = ["LABEL", "BusinessModel", "business_model", "noncontractual_labels", "subscription_labels"]

LABEL = "churned"
"""Name of the label column (1 = churned within the horizon)."""
_UTC = "timestamp('UTC')"


def business_model(value: BusinessModel | str) -> BusinessModel:
    """Parse a business model name; an unknown one lists the valid names (:meth:`BusinessModel.parse`)."""
    return BusinessModel.parse(value)


def _window(as_of: date | datetime, horizon_days: int) -> tuple[datetime, datetime]:
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise InputError(f"horizon_days must be a positive whole number of days; got {horizon_days!r}.")
    start = as_instant(as_of)
    return start, start + timedelta(days=horizon_days)


def subscription_labels(subscriptions: ibis.Table, *, as_of: date | datetime, horizon_days: int = 90) -> ibis.Table:
    """Subscription churn labels of the customers active at ``as_of``.

    Parameters
    ----------
    subscriptions : ibis.Table
        The canonical ``subscriptions`` table (all of it: the label looks past ``as_of``).
    as_of : date or datetime
        Observation instant.
    horizon_days : int, default 90
        Length of the label window ``(as_of, as_of + horizon_days]``.

    Returns
    -------
    ibis.Table
        Columns ``customer_id`` and ``churned`` (int64 0/1), one row per customer active at ``as_of``.
    """
    require_columns(subscriptions, TableName.SUBSCRIPTIONS, ("customer_id", "started_at", "ended_at", "status"))
    start, end = _window(as_of, horizon_days)
    s = subscriptions
    states = subscription_states(s, instants_table([start]))
    active = states.filter(states.running_active > 0).select("customer_id")
    # Coverage of the window can only break where a period ends; it breaks there when no period runs at that
    # instant (periods are half-open, so a period starting exactly then covers it).
    ends = s.filter((s.ended_at > ibis.literal(start, _UTC)) & (s.ended_at <= ibis.literal(end, _UTC)))
    ends = ends.select(end_customer=ends.customer_id, end_at=ends.ended_at)
    cover = s.select(cover_customer=s.customer_id, cover_start=s.started_at, cover_end=s.ended_at)
    gaps = ends.anti_join(
        cover,
        [
            ends.end_customer == cover.cover_customer,
            cover.cover_start <= ends.end_at,
            cover.cover_end.isnull() | (cover.cover_end > ends.end_at),
        ],
    )
    churners = gaps.select(customer_id=gaps.end_customer).distinct()
    return _flag(active, churners, churned_if_found=True)


def noncontractual_labels(orders: ibis.Table, *, as_of: date | datetime, horizon_days: int = 90) -> ibis.Table:
    """Non-contractual churn labels of the customers who ordered at or before ``as_of``.

    Returns
    -------
    ibis.Table
        Columns ``customer_id`` and ``churned`` (int64: 1 = no completed order within
        ``(as_of, as_of + horizon_days]``), one row per customer with a completed order at or before ``as_of``.
    """
    require_columns(orders, TableName.ORDERS, ("customer_id", "ordered_at", "status"))
    start, end = _window(as_of, horizon_days)
    o = orders.filter(orders.status == "completed")
    t0, t1 = ibis.literal(start, _UTC), ibis.literal(end, _UTC)
    buyers = o.filter(o.ordered_at <= t0).select("customer_id").distinct()
    again = o.filter((o.ordered_at > t0) & (o.ordered_at <= t1)).select("customer_id").distinct()
    return _flag(buyers, again, churned_if_found=False)


def _flag(population: ibis.Table, found: ibis.Table, *, churned_if_found: bool) -> ibis.Table:
    hits = found.select(hit_customer=found.customer_id, hit=ibis.literal(1, "int64"))
    j = population.left_join(hits, population.customer_id == hits.hit_customer)
    was_found = j.hit.notnull()
    churned = ibis.ifelse(was_found if churned_if_found else ~was_found, 1, 0).cast("int64")
    return j.select("customer_id", **{LABEL: churned})
