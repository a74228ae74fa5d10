"""Stripe events → canonical rows.

=========================================  ==================================================================
event                                      rows
=========================================  ==================================================================
``customer.created`` / ``.updated``        a ``customers`` row (id, created, email, name, address.country)
``customer.deleted``                       nothing (erasure is not a fact; the event is only recorded)
``customer.subscription.created``          the subscription's first period
``customer.subscription.updated``          when plan, mrr or status changed: the running period ends at the
                                           event's time and the next one starts there; ``cancel_at_period_end``
                                           turning true adds a ``subscription_cancel_scheduled`` event
``customer.subscription.deleted``          the running period ends at ``ended_at`` with status ``canceled``
                                           (``paused`` stays), its ``cancel_reason`` and ``churn_type``;
                                           cancellation feedback or a comment also becomes an ``exit`` survey
                                           answer (``feedback``)
``invoice.paid``                           an ``orders`` row (the invoice: amount paid, status completed)
``invoice.payment_failed``                 a ``payment_failed`` event
=========================================  ==================================================================

**Periods.** A subscription's rows are periods at constant terms (plan, mrr, status); the key is
``(subscription_id, started_at)``. To end the running period an update needs it, so the mapper takes
``latest_period(subscription_id)``: the newest period known so far (from the lake and the inbox, or a
:class:`PeriodBook` in memory). Events applied in order then yield the right periods; an update older than the
newest known period (Stripe does not promise order) changes nothing. A subscription first seen in an update (its
``created`` event was missed) gets one period from ``start_date`` with its current terms: the history before is
not in the event.

**Terms.** ``plan`` is the items' price nicknames (else price ids) joined by ``+``; ``mrr`` is Σ unit_amount ×
quantity normalised to a month (:mod:`~retain.ingest.platforms.stripe_money`), rounded to cents, before discounts
and taxes; ``status`` is ``paused`` while ``pause_collection`` is set, else ``active`` (``active``,
``trialing`` — a trial has mrr 0, its conversion starts a paid period), ``past_due`` (``past_due``, ``unpaid``),
``paused`` or ``canceled``. ``incomplete`` subscriptions (first payment not made) have no period yet.

**Churn.** ``cancellation_details.reason`` ``payment_failed`` or ``payment_disputed`` → ``involuntary`` with
cancel_reason ``payment_failed``; anything else is ``voluntary`` with the customer's ``feedback`` mapped onto the
churn-reason taxonomy (:data:`FEEDBACK_REASONS`).

**Why invoices become orders, not events.** In a subscription workspace retention, churn and MRR come from the
periods alone; orders are the money actually collected (the contract's ``order_id`` is "order or invoice
number"): the profile's revenue to date, historical value, AOV and the refunds health component read them. An
``invoice_paid`` event would instead count as product engagement in the usage features, which a payment is not.
Invoices of 0.00 (trials, full discounts) are no purchase and make no order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from retain.contract.tables import TableName
from retain.contract.taxonomy import ChurnReason
from retain.ingest.platforms.facts import PlatformError, PlatformFacts, iso_utc
from retain.ingest.platforms.stripe_money import billing_period_months, monthly_amount, units

__all__ = ["FEEDBACK_REASONS", "LatestPeriod", "PeriodBook", "map_stripe_event"]

LatestPeriod = Callable[[str], dict | None]
"""The newest known period row of a subscription (by ``started_at``), or ``None``."""

FEEDBACK_REASONS: dict[str, ChurnReason] = {
    "too_expensive": ChurnReason.PRICE,
    "missing_features": ChurnReason.MISSING_FEATURE,
    "switched_service": ChurnReason.SWITCHED_COMPETITOR,
    "unused": ChurnReason.NO_LONGER_NEEDED,
    "customer_service": ChurnReason.POOR_SERVICE,
    "too_complex": ChurnReason.PRODUCT_QUALITY,  # hard to use is a failing of the product, not of its price
    "low_quality": ChurnReason.PRODUCT_QUALITY,
    "other": ChurnReason.OTHER,
}
"""Stripe's ``cancellation_details.feedback`` values → retain's churn-reason codes."""

_INVOLUNTARY = frozenset({"payment_failed", "payment_disputed"})
_STATUS = {
    "active": "active",
    "trialing": "active",
    "past_due": "past_due",
    "unpaid": "past_due",
    "paused": "paused",
    "canceled": "canceled",
}
_TERMS = ("plan", "mrr", "status", "billing_period_months")


def _no_period(_: str) -> dict | None:
    return None


def map_stripe_event(event: dict[str, Any], *, latest_period: LatestPeriod = _no_period) -> PlatformFacts:
    """The canonical rows of one Stripe event (see the module docstring for the mapping).

    Raises
    ------
    PlatformError
        ``bad_payload`` when the event lacks what its type needs, ``unsupported_price`` for a price retain
        cannot normalise to a month.
    """
    kind = event.get("type")
    obj = (event.get("data") or {}).get("object")
    if not isinstance(kind, str) or not isinstance(obj, dict) or not isinstance(event.get("created"), int):
        raise PlatformError("bad_payload", "Not a Stripe event: expected an object with type, created and data.object.")
    handler = _HANDLERS.get(kind)
    if handler is None:
        return PlatformFacts(note=f"event type {kind} is not mapped; nothing to record")
    return handler(event, obj, latest_period)


def _need(obj: dict[str, Any], key: str, what: str) -> Any:
    value = obj.get(key)
    if value in (None, ""):
        raise PlatformError("bad_payload", f"Stripe {what} {obj.get('id', '?')} has no {key}.")
    return value


def _customer(event: dict, obj: dict, _: LatestPeriod) -> PlatformFacts:
    facts = PlatformFacts()
    if event["type"] == "customer.deleted":
        facts.note = "a deleted customer keeps their facts; nothing to record"
        return facts
    country = ((obj.get("address") or {}).get("country") or None) if isinstance(obj.get("address"), dict) else None
    facts.add(
        TableName.CUSTOMERS,
        {
            "customer_id": _need(obj, "id", "customer"),
            "created_at": iso_utc(_need(obj, "created", "customer")),
            "email": obj.get("email") or None,
            "name": obj.get("name") or None,
            "country": country,
        },
    )
    return facts


def _terms(sub: dict[str, Any]) -> dict[str, Any] | None:
    """Plan, mrr, status and billing cycle of the subscription as it is now; ``None`` before it started."""
    status = _STATUS.get(sub.get("status", ""))
    if status is None:
        return None
    items = ((sub.get("items") or {}).get("data")) or []
    if not items:
        raise PlatformError("bad_payload", f"Stripe subscription {sub.get('id', '?')} has no items.data.")
    prices = [item.get("price") or item.get("plan") or {} for item in items]
    names = sorted(str(price.get("nickname") or price.get("id")) for price in prices)
    mrr = 0.0 if sub.get("status") == "trialing" else round(sum(monthly_amount(item) for item in items), 2)
    cycles = {billing_period_months(item) for item in items}
    if sub.get("pause_collection"):
        status = "paused"
    return {
        "plan": "+".join(names),
        "mrr": mrr,
        "status": status,
        "billing_period_months": cycles.pop() if len(cycles) == 1 else None,
    }


def _period(sub: dict, started_at: str, terms: dict) -> dict[str, Any]:
    return {
        "subscription_id": sub["id"],
        "customer_id": _need(sub, "customer", "subscription"),
        **terms,
        "started_at": started_at,
        "ended_at": None,
        "cancel_reason": None,
        "churn_type": None,
    }


def _subscription(event: dict, sub: dict, latest_period: LatestPeriod) -> PlatformFacts:
    facts = PlatformFacts()
    _need(sub, "id", "subscription")
    at = iso_utc(event["created"])
    known = latest_period(sub["id"])
    if known is not None and known["started_at"] > at:
        facts.note = f"event older than the period that started {known['started_at']}; nothing changes"
        return facts
    if event["type"] == "customer.subscription.deleted" or sub.get("status") == "canceled":
        return _ended(sub, known, at)
    terms = _terms(sub)
    if terms is None:
        facts.note = f"subscription status {sub.get('status')} has not started; no period yet"
        return facts
    if _cancel_just_scheduled(event, sub):
        facts.add(
            TableName.EVENTS,
            {
                "event_id": event.get("id"),
                "customer_id": sub["customer"],
                "event_type": "subscription_cancel_scheduled",
                "occurred_at": at,
                "properties": json.dumps(
                    {"subscription_id": sub["id"], "cancel_at": _time_or_none(sub.get("cancel_at"))}
                ),
            },
        )
    if known is None:
        started = iso_utc(sub.get("start_date") or sub.get("created") or event["created"])
        facts.add(TableName.SUBSCRIPTIONS, _period(sub, started, terms))
    elif known.get("ended_at") is not None:
        facts.note = facts.note or "the subscription's last period has ended; an ended subscription does not restart"
    elif any(known.get(k) != terms[k] for k in _TERMS):
        if at > known["started_at"]:
            facts.add(TableName.SUBSCRIPTIONS, {**known, "ended_at": at})
            facts.add(TableName.SUBSCRIPTIONS, _period(sub, at, terms))
        else:  # changed again within the same second: the newer terms replace the period
            facts.add(TableName.SUBSCRIPTIONS, _period(sub, known["started_at"], terms))
    elif not facts.rows:
        facts.note = "plan, mrr and status unchanged; nothing to record"
    return facts


def _cancel_just_scheduled(event: dict, sub: dict) -> bool:
    previous = (event.get("data") or {}).get("previous_attributes") or {}
    return bool(sub.get("cancel_at_period_end")) and previous.get("cancel_at_period_end") is False


def _time_or_none(value: Any) -> str | None:
    return iso_utc(value) if isinstance(value, int) else None


def _cancellation(sub: dict) -> tuple[str | None, str]:
    details = sub.get("cancellation_details") or {}
    if details.get("reason") in _INVOLUNTARY:
        return str(ChurnReason.PAYMENT_FAILED), "involuntary"
    feedback = FEEDBACK_REASONS.get(details.get("feedback") or "")
    return (str(feedback) if feedback else None), "voluntary"


def _ended(sub: dict, known: dict | None, at: str) -> PlatformFacts:
    facts = PlatformFacts()
    if known is not None and known.get("ended_at") is not None and known.get("churn_type") is not None:
        facts.note = "the subscription's cancellation is already recorded"
        return facts
    end_time = sub.get("ended_at") or sub.get("canceled_at")
    ended_at = iso_utc(end_time) if end_time else at
    reason, churn_type = _cancellation(sub)
    if known is None or known.get("ended_at") is not None:
        terms = _terms({**sub, "status": "canceled"}) or {}
        start_time = sub.get("start_date") or sub.get("created")
        started = iso_utc(start_time) if start_time else at
        known = _period(sub, started, terms)
    # A paused customer who cancels was not active during the pause: the period stays paused (retention counts
    # them as paused, not lost); any other last period is the one "that ended with the cancellation".
    status = "paused" if known.get("status") == "paused" else "canceled"
    last = {**known, "ended_at": max(ended_at, known["started_at"]), "status": status}
    facts.add(TableName.SUBSCRIPTIONS, {**last, "cancel_reason": reason, "churn_type": churn_type})
    details = sub.get("cancellation_details") or {}
    if details.get("feedback") or details.get("comment"):
        facts.add(
            TableName.FEEDBACK,
            {
                "response_id": f"{sub['id']}/cancellation",
                "customer_id": last["customer_id"],
                "survey": "exit",
                "score": None,
                "reason": reason if churn_type == "voluntary" else str(ChurnReason.PAYMENT_FAILED),
                "comment": details.get("comment") or None,
                "responded_at": _time_or_none(sub.get("canceled_at")) or last["ended_at"],
            },
        )
    return facts


def _invoice(event: dict, invoice: dict, _: LatestPeriod) -> PlatformFacts:
    facts = PlatformFacts()
    customer = _need(invoice, "customer", "invoice")
    if event["type"] == "invoice.payment_failed":
        facts.add(
            TableName.EVENTS,
            {
                "event_id": event.get("id") or f"{invoice.get('id')}/payment_failed/{invoice.get('attempt_count')}",
                "customer_id": customer,
                "event_type": "payment_failed",
                "occurred_at": iso_utc(event["created"]),
                "properties": json.dumps(
                    {
                        "invoice": invoice.get("id"),
                        "subscription": _id_of(invoice.get("subscription")),
                        "amount_due": units(invoice.get("amount_due") or 0, invoice.get("currency")),
                        "attempt_count": invoice.get("attempt_count"),
                    }
                ),
            },
        )
        return facts
    paid = units(invoice.get("amount_paid") or 0, invoice.get("currency"))
    if paid <= 0:
        facts.note = "an invoice of 0.00 is no purchase; nothing to record"
        return facts
    transitions = invoice.get("status_transitions") or {}
    facts.add(
        TableName.ORDERS,
        {
            "order_id": _need(invoice, "id", "invoice"),
            "customer_id": customer,
            "ordered_at": iso_utc(transitions.get("paid_at") or event["created"]),
            "amount": round(paid, 2),
            "status": "completed",
            "items": None,
            "discount_code": None,
            "channel": "stripe",
        },
    )
    return facts


def _id_of(value: Any) -> str | None:
    """An id Stripe sends either as a string or as the expanded object."""
    return value.get("id") if isinstance(value, dict) else value


_HANDLERS: dict[str, Callable[[dict, dict, LatestPeriod], PlatformFacts]] = {
    "customer.created": _customer,
    "customer.updated": _customer,
    "customer.deleted": _customer,
    "customer.subscription.created": _subscription,
    "customer.subscription.updated": _subscription,
    "customer.subscription.deleted": _subscription,
    "customer.subscription.paused": _subscription,
    "customer.subscription.resumed": _subscription,
    "invoice.paid": _invoice,
    "invoice.payment_failed": _invoice,
}


class PeriodBook:
    """The newest period of each subscription, kept in memory: a ``latest_period`` for a sequence of events.

    ``apply(facts)`` records the subscription rows of one event, so the next event sees them.
    """

    def __init__(self) -> None:
        self._latest: dict[str, dict] = {}

    def __call__(self, subscription_id: str) -> dict | None:
        return self._latest.get(subscription_id)

    def apply(self, facts: PlatformFacts) -> None:
        for row in facts.rows.get(str(TableName.SUBSCRIPTIONS), []):
            known = self._latest.get(row["subscription_id"])
            if known is None or row["started_at"] >= known["started_at"]:
                self._latest[row["subscription_id"]] = dict(row)
