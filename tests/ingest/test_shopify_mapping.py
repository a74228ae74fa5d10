"""Shopify webhooks → canonical rows, checked against rows worked out by hand (payloads: shopify_payloads.py).

The story: Ann (ann@example.com) orders #1001 (id 5001) on Jan 10 for 59.90 (3 items, code WELCOME5) and gets
20.00 back on Jan 20 for one item (the gateway's first refund try failed, only the second succeeded). Her
order #1002 (id 5002, 35.00) on Feb 2 is refunded in full and then cancelled.
"""

from __future__ import annotations

import json

import pytest
from shopify_payloads import customer, order, refund

from retain.ingest.platforms import PlatformError, map_shopify_webhook

PAID = order(5001, "#1001", "Ann@Example.com", "2024-01-10T10:00:00+01:00", "59.90", [2, 1], discount="WELCOME5")
REFUND = refund(
    9001, 5001, "2024-01-20T12:30:00-05:00", [("refund", "failure", "20.00"), ("refund", "success", "20.00")], 1
)

ORDER_1001 = {
    "order_id": "5001",
    "customer_id": "ann@example.com",
    "ordered_at": "2024-01-10T09:00:00Z",
    "amount": 59.9,
    "status": "completed",
    "items": 3,
    "discount_code": "WELCOME5",
    "channel": "web",
}
REFUND_1001 = {
    "order_id": "5001-refund-9001",
    "customer_id": "ann@example.com",
    "ordered_at": "2024-01-20T17:30:00Z",
    "amount": -20.0,
    "status": "refunded",
    "items": 1,
    "discount_code": None,
    "channel": None,
}


def _orders(topic, payload, known=None):
    return map_shopify_webhook(topic, payload, known_order=lambda oid: (known or {}).get(oid)).rows.get("orders", [])


def test_a_paid_order_becomes_a_completed_order_of_its_total():
    assert _orders("orders/paid", PAID) == [ORDER_1001]


def test_a_refund_becomes_a_negative_refunded_row_that_keeps_the_order():
    assert _orders("refunds/create", REFUND, {"5001": ORDER_1001}) == [REFUND_1001]


def test_a_refund_before_its_order_is_refused_so_shopify_retries_it():
    with pytest.raises(PlatformError, match="order 5001, which retain has not recorded yet") as error:
        map_shopify_webhook("refunds/create", REFUND)
    assert error.value.code == "unknown_order"


def test_orders_updated_carries_the_order_and_its_refunds():
    updated = {**PAID, "financial_status": "partially_refunded", "refunds": [REFUND]}
    assert _orders("orders/updated", updated) == [ORDER_1001, REFUND_1001]
    pending = {**PAID, "financial_status": "pending"}
    facts = map_shopify_webhook("orders/updated", pending)
    assert facts.rows == {} and "pending" in facts.note


def test_a_cancelled_order_counts_nowhere_and_its_refunds_are_neutralised():
    full = refund(9002, 5002, "2024-02-03T08:00:00Z", [("refund", "success", "35.00")], 1)
    second = order(5002, "#1002", "ann@example.com", "2024-02-02T08:00:00Z", "35.00", [1])
    # The refund arrives first, while the order is still completed: it counts.
    assert _orders("refunds/create", full, {"5002": {"customer_id": "ann@example.com", "status": "completed"}}) == [
        {**REFUND_1001, "order_id": "5002-refund-9002", "ordered_at": "2024-02-03T08:00:00Z", "amount": -35.0}
    ]
    # The cancellation makes the order canceled and overwrites its refund with 0.00: the revenue leaves once.
    cancelled = {**second, "cancelled_at": "2024-02-03T08:01:00Z", "financial_status": "refunded", "refunds": [full]}
    assert _orders("orders/cancelled", cancelled) == [
        {**ORDER_1001, "order_id": "5002", "ordered_at": "2024-02-02T08:00:00Z", "amount": 35.0, "status": "canceled",
         "items": 1, "discount_code": None},
        {**REFUND_1001, "order_id": "5002-refund-9002", "ordered_at": "2024-02-03T08:00:00Z", "amount": 0.0},
    ]  # fmt: skip
    # A refund delivered after the cancellation gives the same 0.00 row.
    assert (
        _orders("refunds/create", full, {"5002": {"customer_id": "ann@example.com", "status": "canceled"}})[0]["amount"]
        == 0.0
    )


def test_a_refund_without_money_back_adds_nothing():
    restock_only = refund(9003, 5001, "2024-01-21T00:00:00Z", [], 1)
    facts = map_shopify_webhook("refunds/create", restock_only, known_order=lambda _: ORDER_1001)
    assert facts.rows == {} and "no money" in facts.note


def test_customers_are_keyed_by_email_in_lower_case():
    facts = map_shopify_webhook(
        "customers/create",
        customer(706405506930370000, "Ann@Example.com", "2023-12-01T09:00:00-05:00", "Ann", "Lee", "DE"),
    )
    (row,) = facts.rows["customers"]
    assert {**row, "attributes": json.loads(row["attributes"])} == {
        "customer_id": "ann@example.com",
        "created_at": "2023-12-01T14:00:00Z",
        "email": "Ann@Example.com",
        "name": "Ann Lee",
        "country": "DE",
        "attributes": {"shopify_customer_id": "706405506930370000"},
    }
    no_email = map_shopify_webhook("customers/update", customer(42, None, "2023-12-01T09:00:00Z", "Bo", "", None))
    assert no_email.rows["customers"][0]["customer_id"] == "shopify-42"


def test_unmapped_topics_and_bad_bodies():
    assert map_shopify_webhook("products/create", {"id": 1}).rows == {}
    with pytest.raises(PlatformError) as error:
        map_shopify_webhook("orders/paid", {**PAID, "total_price": "n/a"})
    assert error.value.code == "bad_payload" and "total_price" in str(error.value)
