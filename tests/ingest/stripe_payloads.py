"""Hand-written Stripe payloads, shaped like the objects in Stripe's API reference.

- Event: https://docs.stripe.com/api/events/object (``id``, ``object: "event"``, ``type``, ``created``,
  ``data.object``, ``data.previous_attributes``).
- Subscription: https://docs.stripe.com/api/subscriptions/object (``items.data[].price.recurring``,
  ``unit_amount``, ``quantity``, ``status``, ``pause_collection``, ``cancel_at_period_end``, ``canceled_at``,
  ``ended_at``, ``cancellation_details.reason/feedback/comment``).
- Invoice: https://docs.stripe.com/api/invoices/object (``amount_paid``, ``amount_due``, ``attempt_count``,
  ``status_transitions.paid_at``).
- Customer: https://docs.stripe.com/api/customers/object.

Only the fields the mapping reads are filled in beyond a few the real objects always carry.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime


def unix(text: str) -> int:
    """``2024-01-01`` or ``2024-01-01T10:00`` (UTC) as Unix seconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def price(price_id: str, unit_amount: int, *, interval: str = "month", count: int = 1, nickname=None, currency="usd"):
    return {
        "id": price_id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "currency": currency,
        "nickname": nickname,
        "product": "prod_Na6dGcTsmU0I4R",
        "recurring": {"interval": interval, "interval_count": count, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def subscription(
    sub_id: str,
    customer: str,
    start: str,
    items: list[tuple[dict, int]],
    *,
    status: str = "active",
    pause_collection=None,
    cancel_at_period_end: bool = False,
    canceled_at: str | None = None,
    ended_at: str | None = None,
    reason: str | None = None,
    feedback: str | None = None,
    comment: str | None = None,
) -> dict:
    return {
        "id": sub_id,
        "object": "subscription",
        "billing_cycle_anchor": unix(start),
        "cancel_at": None,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": unix(canceled_at) if canceled_at else None,
        "cancellation_details": {"comment": comment, "feedback": feedback, "reason": reason},
        "collection_method": "charge_automatically",
        "created": unix(start),
        "currency": "usd",
        "customer": customer,
        "ended_at": unix(ended_at) if ended_at else None,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{sub_id}_{n}",
                    "object": "subscription_item",
                    "price": p,
                    "quantity": quantity,
                    "subscription": sub_id,
                }
                for n, (p, quantity) in enumerate(items)
            ],
            "has_more": False,
        },
        "livemode": False,
        "pause_collection": pause_collection,
        "start_date": unix(start),
        "status": status,
    }


def event(event_id: str, kind: str, at: str, obj: dict, previous: dict | None = None) -> dict:
    data = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": unix(at),
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def customer(customer_id: str, created: str, email: str, name: str, country: str | None) -> dict:
    return {
        "id": customer_id,
        "object": "customer",
        "address": {"city": None, "country": country, "line1": None, "postal_code": None} if country else None,
        "created": unix(created),
        "email": email,
        "livemode": False,
        "name": name,
    }


def invoice(invoice_id: str, customer_id: str, *, paid_at: str | None, amount_paid: int, amount_due: int, attempts=1):
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": amount_due,
        "amount_paid": amount_paid,
        "amount_remaining": amount_due - amount_paid,
        "attempt_count": attempts,
        "currency": "usd",
        "customer": customer_id,
        "status": "paid" if paid_at else "open",
        "status_transitions": {"paid_at": unix(paid_at) if paid_at else None},
        "subscription": "sub_A",
    }


def body(payload: dict) -> bytes:
    """The raw body as Stripe sends it (pretty-printed JSON; the signature covers these exact bytes)."""
    return json.dumps(payload, indent=2).encode()


# The subscription story of the acceptance tests, one event per step (2024):
#   A: Pro monthly 30.00 from Jan 1; Feb 1 switches to Pro yearly 600.00 × 2 seats (mrr 100); Mar 1 pauses
#      collection; Apr 1 resumes; May 10 Stripe cancels it after failed payments (reason payment_failed).
#   B: Basic 10.00 a month from Jan 15; cancels on Mar 20 saying it is too expensive.
#   C: Basic from Jan 1, stays.
PRO_MONTHLY = price("price_pro_m", 3000, nickname="Pro monthly")
PRO_YEARLY = price("price_pro_y", 60000, interval="year", nickname="Pro yearly")
BASIC = price("price_basic", 1000, nickname="Basic")
PAUSE = {"behavior": "void", "resumes_at": None}


def story() -> list[dict]:
    a = dict(sub_id="sub_A", customer="cus_A", start="2024-01-01")
    return [
        event("evt_a1", "customer.subscription.created", "2024-01-01", subscription(**a, items=[(PRO_MONTHLY, 1)])),
        event(
            "evt_c1",
            "customer.subscription.created",
            "2024-01-01",
            subscription("sub_C", "cus_C", "2024-01-01", [(BASIC, 1)]),
        ),
        event(
            "evt_b1",
            "customer.subscription.created",
            "2024-01-15",
            subscription("sub_B", "cus_B", "2024-01-15", [(BASIC, 1)]),
        ),
        event(
            "evt_a2",
            "customer.subscription.updated",
            "2024-02-01",
            subscription(**a, items=[(PRO_YEARLY, 2)]),
            previous={"items": {"data": [{"price": PRO_MONTHLY, "quantity": 1}]}},
        ),
        event(
            "evt_a3",
            "customer.subscription.updated",
            "2024-03-01",
            subscription(**a, items=[(PRO_YEARLY, 2)], pause_collection=PAUSE),
            previous={"pause_collection": None},
        ),
        event(
            "evt_b2",
            "customer.subscription.updated",
            "2024-03-05",
            subscription("sub_B", "cus_B", "2024-01-15", [(BASIC, 1)], cancel_at_period_end=True),
            previous={"cancel_at_period_end": False},
        ),
        event(
            "evt_b3",
            "customer.subscription.deleted",
            "2024-03-20",
            subscription(
                "sub_B",
                "cus_B",
                "2024-01-15",
                [(BASIC, 1)],
                status="canceled",
                cancel_at_period_end=True,
                canceled_at="2024-03-05",
                ended_at="2024-03-20",
                reason="cancellation_requested",
                feedback="too_expensive",
                comment="Cheaper elsewhere",
            ),
        ),
        event(
            "evt_a4",
            "customer.subscription.updated",
            "2024-04-01",
            subscription(**a, items=[(PRO_YEARLY, 2)]),
            previous={"pause_collection": PAUSE},
        ),
        event(
            "evt_a5",
            "customer.subscription.deleted",
            "2024-05-10",
            subscription(
                **a,
                items=[(PRO_YEARLY, 2)],
                status="canceled",
                canceled_at="2024-05-10",
                ended_at="2024-05-10",
                reason="payment_failed",
            ),
        ),
    ]


# The periods the story must yield, worked out by hand (mrr: 600.00 × 2 / 12 = 100.00).
EXPECTED_PERIODS = [
    ("sub_A", "cus_A", "Pro monthly", 30.0, "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", "active", None, None, 1),
    ("sub_A", "cus_A", "Pro yearly", 100.0, "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z", "active", None, None, 12),
    ("sub_A", "cus_A", "Pro yearly", 100.0, "2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z", "paused", None, None, 12),
    (
        "sub_A",
        "cus_A",
        "Pro yearly",
        100.0,
        "2024-04-01T00:00:00Z",
        "2024-05-10T00:00:00Z",
        "canceled",
        "payment_failed",
        "involuntary",
        12,
    ),
    (
        "sub_B",
        "cus_B",
        "Basic",
        10.0,
        "2024-01-15T00:00:00Z",
        "2024-03-20T00:00:00Z",
        "canceled",
        "price",
        "voluntary",
        1,
    ),
    ("sub_C", "cus_C", "Basic", 10.0, "2024-01-01T00:00:00Z", None, "active", None, None, 1),
]
PERIOD_COLUMNS = (
    "subscription_id",
    "customer_id",
    "plan",
    "mrr",
    "started_at",
    "ended_at",
    "status",
    "cancel_reason",
    "churn_type",
    "billing_period_months",
)
