"""Shopify webhooks → canonical rows.

=========================================  ==================================================================
topic                                      rows
=========================================  ==================================================================
``customers/create``, ``customers/update`` a ``customers`` row
``orders/paid``                            an ``orders`` row: amount = ``total_price``, status ``completed``
``orders/updated``                         the same row once the order is paid (``financial_status`` paid,
                                           partially_refunded or refunded), plus one row per refund it lists
``orders/cancelled``                       the order with status ``canceled`` (it counts nowhere, as the contract
                                           says), and its refunds at 0.00 (their money left with the
                                           cancellation; without this a refund would count twice)
``refunds/create``                         a refund row: amount = −Σ successful refund transactions, status
                                           ``refunded``; at 0.00 when the order is canceled
=========================================  ==================================================================

**Keys.** ``order_id`` is the order's numeric ``id`` (the ``Id`` column of Shopify's orders export); a refund is
``<order id>-refund-<refund id>``, so it never overwrites its order. ``customer_id`` is the customer's e-mail
address in lower case — the one identity both the webhooks and Shopify's CSV exports carry (the orders export
has no customer id) — or ``shopify-<customer id>`` for a customer without one.

A refund's payload names its order but not the customer, so the mapper takes ``known_order(order_id)``: the
order's row as already recorded (lake or inbox). A refund of an order retain has not seen is refused
(``unknown_order``); Shopify delivers it again later, after the order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from retain.contract.tables import TableName
from retain.ingest.platforms.facts import PlatformError, PlatformFacts, iso_utc

__all__ = ["KnownOrder", "map_shopify_webhook", "refund_order_id", "shopify_customer_id"]

KnownOrder = Callable[[str], dict | None]
"""The recorded ``orders`` row of an order id, or ``None``."""

_PAID = frozenset({"paid", "partially_refunded", "refunded"})


def _no_order(_: str) -> dict | None:
    return None


def shopify_customer_id(email: str | None, shopify_id: object = None) -> str | None:
    """retain's id of a Shopify customer: the e-mail in lower case, else ``shopify-<id>``; ``None`` without either."""
    if email and email.strip():
        return email.strip().lower()
    return f"shopify-{shopify_id}" if shopify_id not in (None, "") else None


def refund_order_id(order_id: object, refund_id: object) -> str:
    """The ``order_id`` of a refund row: ``<order id>-refund-<refund id>``."""
    return f"{order_id}-refund-{refund_id}"


def _time(value: Any, what: str) -> str:
    try:
        return iso_utc(datetime.fromisoformat(str(value)))
    except (TypeError, ValueError):
        raise PlatformError("bad_payload", f"Shopify {what} is not an ISO 8601 time: {str(value)[:40]!r}.") from None


def _money(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PlatformError("bad_payload", f"Shopify {what} is not an amount: {str(value)[:40]!r}.") from None


def map_shopify_webhook(topic: str, payload: dict[str, Any], *, known_order: KnownOrder = _no_order) -> PlatformFacts:
    """The canonical rows of one Shopify webhook (``X-Shopify-Topic`` and the JSON body).

    Raises
    ------
    PlatformError
        ``bad_payload`` when the body lacks what its topic needs; ``unknown_order`` for a refund of an order
        retain has not recorded yet.
    """
    if not isinstance(payload, dict):
        raise PlatformError("bad_payload", f"The Shopify {topic} body is not a JSON object.")
    handler = _HANDLERS.get(topic)
    if handler is None:
        return PlatformFacts(note=f"topic {topic} is not mapped; nothing to record")
    return handler(topic, payload, known_order)


def _customers(_: str, customer: dict, __: KnownOrder) -> PlatformFacts:
    facts = PlatformFacts()
    customer_id = shopify_customer_id(customer.get("email"), customer.get("id"))
    if customer_id is None:
        raise PlatformError("bad_payload", "The Shopify customer has neither an id nor an email.")
    address = customer.get("default_address") or {}
    name = " ".join(part for part in (customer.get("first_name"), customer.get("last_name")) if part) or None
    facts.add(
        TableName.CUSTOMERS,
        {
            "customer_id": customer_id,
            "created_at": _time(customer.get("created_at"), f"customer {customer.get('id')} created_at"),
            "email": (customer.get("email") or "").strip() or None,
            "name": name,
            "country": address.get("country_code") or None,
            "attributes": json.dumps({"shopify_customer_id": str(customer.get("id"))}) if customer.get("id") else None,
        },
    )
    return facts


def _order_customer(order: dict) -> str:
    customer = order.get("customer") or {}
    email = customer.get("email") or order.get("email") or order.get("contact_email")
    customer_id = shopify_customer_id(email, customer.get("id"))
    if customer_id is None:
        raise PlatformError(
            "bad_payload", f"Shopify order {order.get('id')} has no customer and no email; it cannot be attributed."
        )
    return customer_id


def _order_row(order: dict, status: str) -> dict[str, Any]:
    if order.get("id") in (None, ""):
        raise PlatformError("bad_payload", "The Shopify order has no id.")
    codes = [c.get("code") for c in order.get("discount_codes") or [] if c.get("code")]
    return {
        "order_id": str(order["id"]),
        "customer_id": _order_customer(order),
        "ordered_at": _time(order.get("created_at"), f"order {order['id']} created_at"),
        "amount": round(_money(order.get("total_price"), f"order {order['id']} total_price"), 2),
        "status": status,
        "items": sum(int(line.get("quantity") or 0) for line in order.get("line_items") or []),
        "discount_code": codes[0] if codes else None,
        "channel": order.get("source_name") or None,
    }


def _refund_row(refund: dict, order_id: str, customer_id: str, *, canceled: bool) -> dict[str, Any] | None:
    refunded = sum(
        _money(t.get("amount"), f"refund {refund.get('id')} transaction amount")
        for t in refund.get("transactions") or []
        if t.get("kind") == "refund" and t.get("status") == "success"
    )
    if refunded <= 0 and not canceled:
        return None  # a restock without money back changes no revenue
    return {
        "order_id": refund_order_id(order_id, refund.get("id")),
        "customer_id": customer_id,
        "ordered_at": _time(refund.get("processed_at") or refund.get("created_at"), f"refund {refund.get('id')} time"),
        "amount": 0.0 if canceled else -round(refunded, 2),
        "status": "refunded",
        "items": sum(int(line.get("quantity") or 0) for line in refund.get("refund_line_items") or []),
        "discount_code": None,
        "channel": None,
    }


def _orders(topic: str, order: dict, _: KnownOrder) -> PlatformFacts:
    facts = PlatformFacts()
    canceled = topic == "orders/cancelled" or bool(order.get("cancelled_at"))
    if canceled:
        row = _order_row(order, "canceled")
    elif topic == "orders/paid" or order.get("financial_status") in _PAID:
        row = _order_row(order, "completed")
    else:
        facts.note = f"order {order.get('id')} is {order.get('financial_status')}, not paid; nothing to record yet"
        return facts
    facts.add(TableName.ORDERS, row)
    for refund in order.get("refunds") or []:
        refund_row = _refund_row(refund, row["order_id"], row["customer_id"], canceled=canceled)
        if refund_row is not None:
            facts.add(TableName.ORDERS, refund_row)
    return facts


def _refunds(_: str, refund: dict, known_order: KnownOrder) -> PlatformFacts:
    facts = PlatformFacts()
    order_id = str(refund.get("order_id") or "")
    if not order_id or refund.get("id") in (None, ""):
        raise PlatformError("bad_payload", "The Shopify refund has no id or no order_id.")
    order = known_order(order_id)
    if order is None:
        raise PlatformError(
            "unknown_order",
            f"Shopify refund {refund['id']} is for order {order_id}, which retain has not recorded yet; the refund "
            "is accepted once the order (orders/paid) has arrived, so let Shopify retry it.",
        )
    row = _refund_row(refund, order_id, order["customer_id"], canceled=order.get("status") == "canceled")
    if row is None:
        facts.note = f"refund {refund['id']} returned no money; nothing to record"
    else:
        facts.add(TableName.ORDERS, row)
    return facts


_HANDLERS: dict[str, Callable[[str, dict, KnownOrder], PlatformFacts]] = {
    "customers/create": _customers,
    "customers/update": _customers,
    "orders/paid": _orders,
    "orders/updated": _orders,
    "orders/cancelled": _orders,
    "refunds/create": _refunds,
}
