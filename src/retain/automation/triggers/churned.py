"""The ``churned`` trigger (win-back): a customer churned in ``(as_of − within_days, as_of]``.

The churn instant follows the lifecycle rules (:mod:`retain.analytics.lifecycle`), as known at ``as_of``:

- **Subscribers** (a customer with a subscription period started by ``as_of``; zero-length periods never ran):
  churned when no period runs at ``as_of`` — a ``paused`` period still runs, a pause is not churn — at the latest
  ``ended_at`` of their periods. A plan change or a restart before ``as_of`` means they did not churn. With
  ``reason``, one of the periods ending at that instant must have that ``cancel_reason``.
- **Shop customers** (everyone else with a completed order): churned two activity windows after their last
  completed order (``last_order + 2 × activity_window_days``, the lifecycle state ``churned``). A shop records no
  cancel reason, so with ``reason`` they never fire.

The key is ``churned:<UTC date of the churn instant>`` and ``fired_at`` the churn instant; ``detail`` holds
``churned_at``, ``cancel_reason`` and ``churn_type`` (subscribers), ``last_order_at`` (shops).
"""

from __future__ import annotations

from datetime import timedelta

import ibis
import ibis.expr.datatypes as dt

from retain.automation.triggers import _params
from retain.automation.triggers._expr import date_text, empty_result, json_object, result, within
from retain.automation.triggers.inputs import TriggerInputs
from retain.contract import TableName
from retain.contract.taxonomy import ChurnReason

__all__ = ["churned"]

_STRING = dt.String(nullable=True)
_TS = dt.Timestamp(timezone="UTC", scale=6, nullable=True)


def _shape(table: ibis.Table, **columns: ibis.Value) -> ibis.Table:
    """The columns both parts share, with identical types (nullability included) as a union requires."""
    types = {"churned_at": _TS, "cancel_reason": _STRING, "churn_type": _STRING, "last_order_at": _TS}
    return table.select(customer_id=table.customer_id.cast(_STRING), **{k: columns[k].cast(types[k]) for k in types})


def _ran(subscriptions: ibis.Table) -> ibis.Table:
    """The periods that ran: zero-length ones (``ended_at == started_at``) never did."""
    s = subscriptions
    return s.filter(s.ended_at.isnull() | (s.ended_at > s.started_at))


def _optional(table: ibis.Table, column: str) -> ibis.Value:
    return table[column] if column in table.columns else ibis.null(_STRING)


def _subscribers(inputs: TriggerInputs, within_days: int, reason: ChurnReason | None) -> ibis.Table | None:
    """``customer_id, churned_at, cancel_reason, churn_type, last_order_at`` of subscribers who churned."""
    subscriptions = inputs.table(TableName.SUBSCRIPTIONS)
    if subscriptions is None:
        return None
    s = _ran(subscriptions)
    s = s.select(
        "customer_id", "ended_at", cancel_reason=_optional(s, "cancel_reason"), churn_type=_optional(s, "churn_type")
    )
    # facts_at nulls an ended_at after as_of, so "ended_at is null" is "runs at as_of".
    g = s.group_by("customer_id").aggregate(running=s.count(where=s.ended_at.isnull()), churned_at=s.ended_at.max())
    g = g.filter((g.running == 0) & within(g.churned_at, inputs.window_start(within_days), inputs.as_of))
    last = s.join(g, [s.customer_id == g.customer_id, s.ended_at == g.churned_at]).select(
        s.customer_id, g.churned_at, s.cancel_reason, s.churn_type
    )
    if reason is not None:
        last = last.filter(last.cancel_reason == reason.value)
    out = last.group_by(["customer_id", "churned_at"]).aggregate(
        cancel_reason=last.cancel_reason.max(), churn_type=last.churn_type.max()
    )
    return _shape(
        out,
        churned_at=out.churned_at,
        cancel_reason=out.cancel_reason,
        churn_type=out.churn_type,
        last_order_at=ibis.null(_TS),
    )


def _shop_customers(inputs: TriggerInputs, within_days: int) -> ibis.Table | None:
    """The same columns for customers without subscriptions, churned two activity windows after their last order."""
    orders = inputs.table(TableName.ORDERS)
    if orders is None:
        return None
    o = orders.filter(orders.status == "completed")
    subscriptions = inputs.table(TableName.SUBSCRIPTIONS)
    if subscriptions is not None:
        o = o.anti_join(_ran(subscriptions).select("customer_id").distinct(), "customer_id")
    churn_after = timedelta(days=2 * inputs.activity_window_days)
    g = o.group_by("customer_id").aggregate(last_order_at=o.ordered_at.max())
    # churned_at = last + 2W lies in (as_of − within, as_of]  ⇔  last lies in that window shifted back by 2W.
    g = g.filter(within(g.last_order_at, inputs.window_start(within_days) - churn_after, inputs.as_of - churn_after))
    return _shape(
        g,
        churned_at=g.last_order_at + ibis.interval(days=churn_after.days),
        cancel_reason=ibis.null(_STRING),
        churn_type=ibis.null(_STRING),
        last_order_at=g.last_order_at,
    )


def churned(inputs: TriggerInputs, *, reason: str | None = None, within_days: int = 30) -> ibis.Table:
    """Customers who churned in the window (with ``cancel_reason == reason`` when given); key ``churned:<date>``."""
    code = None if reason is None else _params.choice("churned", "reason", reason, ChurnReason)
    within_days = _params.days("churned", "within_days", within_days)
    parts = [p for p in (_subscribers(inputs, within_days, code),) if p is not None]
    if code is None:
        shops = _shop_customers(inputs, within_days)
        if shops is not None:
            parts.append(shops)
    if not parts:
        return empty_result()
    rows = ibis.union(*parts) if len(parts) > 1 else parts[0]
    return result(
        rows,
        customer_id=rows.customer_id,
        trigger_key="churned:" + date_text(rows.churned_at),
        fired_at=rows.churned_at,
        detail=json_object(
            churned_at=rows.churned_at,
            cancel_reason=rows.cancel_reason,
            churn_type=rows.churn_type,
            last_order_at=rows.last_order_at,
        ),
    )
