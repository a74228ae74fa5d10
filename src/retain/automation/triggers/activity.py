"""Triggers on what customers did or stopped doing: ``signup``, ``event``, ``inactive`` and ``onboarding``.

All four read the canonical tables as known at ``as_of`` (later facts never fire a trigger). A customer's
``created_at`` is the profile's: the ``customers`` row's ``created_at``, else the first instant any table mentions
the customer (:func:`retain.analytics.customers.customer_dimension`).

Edges:

- **Windows** are ``(as_of − within_days, as_of]``: an event exactly ``within_days`` before ``as_of`` is outside,
  one at ``as_of`` inside.
- **Duplicates**: a customer gets one row per distinct trigger key. Two ``event`` rows of the same type at the
  same instant (e.g. one event sent twice under two ids) are one entry; two at different instants are two.
- **inactive** compares UTC dates: it fires when ``as_of.date() − date(last activity) == days`` exactly (≥ ``days``
  and < ``days + 1`` whole days), so a silence fires once, on its ``days``-th day; a later activity starts a new
  silence with a new key. Activity is a ``login`` event, a ``completed`` order (as in the profile's
  ``last_order_at``), or either (``any``). A customer with no such activity at all counts from ``created_at``.
- **onboarding** fires on the day ``as_of.date() − date(created_at) == days`` for customers with no event of type
  ``feature`` at or before ``as_of`` (a use recorded before ``created_at`` also counts: they need no nudge).
- ``fired_at`` is the instant the condition became true: the signup or event time for ``signup`` and ``event``,
  midnight UTC of ``as_of``'s date for the day-granular ``inactive`` and ``onboarding``.
"""

from __future__ import annotations

from enum import StrEnum

import ibis

from retain.analytics.customers import customer_dimension, instant_literal
from retain.automation.triggers import _params
from retain.automation.triggers._expr import (
    RawJson,
    date_text,
    empty_result,
    iso_text,
    json_object,
    result,
    within,
)
from retain.automation.triggers.inputs import TriggerInputs
from retain.contract import TableName

__all__ = ["Activity", "customers_known", "event", "inactive", "onboarding", "signup"]

LOGIN = "login"


class Activity(StrEnum):
    """What counts as activity for the ``inactive`` trigger."""

    LOGIN = "login"
    ORDER = "order"
    ANY = "any"


def customers_known(inputs: TriggerInputs) -> ibis.Table | None:
    """Every customer known at ``as_of`` with ``customer_id, created_at`` (``None`` when no table has data)."""
    tables = {str(name): table for name, table in inputs.tables.items() if table is not None}
    if not tables:
        return None
    return customer_dimension(**tables).select("customer_id", "created_at")


def signup(inputs: TriggerInputs, *, within_days: int = 1) -> ibis.Table:
    """Customers created in ``(as_of − within_days, as_of]``; key ``signup:<created date>``."""
    within_days = _params.days("signup", "within_days", within_days)
    known = customers_known(inputs)
    if known is None:
        return empty_result()
    c = known.filter(within(known.created_at, inputs.window_start(within_days), inputs.as_of))
    return result(
        c,
        customer_id=c.customer_id,
        trigger_key="signup:" + date_text(c.created_at),
        fired_at=c.created_at,
        detail=json_object(created_at=c.created_at),
    )


def event(inputs: TriggerInputs, *, event_type: str, within_days: int = 1) -> ibis.Table:
    """Events of ``event_type`` in ``(as_of − within_days, as_of]``; key ``event:<event_type>:<occurred_at ISO>``."""
    event_type = _params.text("event", "event_type", event_type)
    within_days = _params.days("event", "within_days", within_days)
    events = inputs.table(TableName.EVENTS)
    if events is None:
        return empty_result()
    e = events.filter(
        (events.event_type == event_type) & within(events.occurred_at, inputs.window_start(within_days), inputs.as_of)
    )
    properties = RawJson(e.properties) if "properties" in e.columns else None
    return result(
        e,
        customer_id=e.customer_id,
        trigger_key=ibis.literal(f"event:{event_type}:") + iso_text(e.occurred_at),
        fired_at=e.occurred_at,
        detail=json_object(event_type=event_type, occurred_at=e.occurred_at, properties=properties),
    )


def _activity(inputs: TriggerInputs, activity: Activity) -> ibis.Table | None:
    """``customer_id, at`` of every activity of the kind, known at ``as_of``."""
    parts = []
    events, orders = inputs.table(TableName.EVENTS), inputs.table(TableName.ORDERS)
    if activity in (Activity.LOGIN, Activity.ANY) and events is not None:
        logins = events.filter(events.event_type == LOGIN)
        parts.append(logins.select("customer_id", at=logins.occurred_at))
    if activity in (Activity.ORDER, Activity.ANY) and orders is not None:
        completed = orders.filter(orders.status == "completed")
        parts.append(completed.select("customer_id", at=completed.ordered_at))
    if not parts:
        return None
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def inactive(inputs: TriggerInputs, *, days: int, activity: str = "any") -> ibis.Table:
    """Customers whose last activity was exactly ``days`` UTC dates before ``as_of``'s; key ``inactive:<that date>``."""
    days = _params.days("inactive", "days", days)
    kind = _params.choice("inactive", "activity", activity, Activity)
    known = customers_known(inputs)
    if known is None:
        return empty_result()
    acts = _activity(inputs, kind)
    if acts is None:
        c = known.mutate(last_at=ibis.null("timestamp('UTC')"))
    else:
        last = acts.group_by("customer_id").aggregate(last_at=acts.at.max())
        c = known.left_join(last, "customer_id").select(known.customer_id, known.created_at, last.last_at)
    c = c.mutate(since=c.last_at.fill_null(c.created_at))
    c = c.filter(_on_day(c.since, inputs, -days))
    return result(
        c,
        customer_id=c.customer_id,
        trigger_key="inactive:" + date_text(c.since),
        fired_at=inputs.day_start,
        detail=json_object(days_inactive=days, activity=kind.value, last_activity=c.last_at, since=c.since),
    )


def onboarding(inputs: TriggerInputs, *, feature: str, days: int = 7) -> ibis.Table:
    """Customers created exactly ``days`` UTC dates before ``as_of``'s who never had a ``feature`` event.

    Key ``onboarding:<feature>:<created date>``.
    """
    feature = _params.text("onboarding", "feature", feature)
    days = _params.days("onboarding", "days", days, minimum=0)
    known = customers_known(inputs)
    if known is None:
        return empty_result()
    c = known.filter(_on_day(known.created_at, inputs, -days))
    events = inputs.table(TableName.EVENTS)
    if events is not None:
        used = events.filter(events.event_type == feature).select("customer_id").distinct()
        c = c.anti_join(used, "customer_id")
    return result(
        c,
        customer_id=c.customer_id,
        trigger_key=ibis.literal(f"onboarding:{feature}:") + date_text(c.created_at),
        fired_at=inputs.day_start,
        detail=json_object(feature=feature, days=days, created_at=c.created_at),
    )


def _on_day(ts: ibis.Value, inputs: TriggerInputs, offset: int) -> ibis.Value:
    """``ts`` falls on the UTC date ``offset`` days from ``as_of``'s (facts are known at ``as_of``, so for offset 0
    that is midnight to ``as_of``)."""
    return (ts >= instant_literal(inputs.day(offset))) & (ts < instant_literal(inputs.day(offset + 1)))
