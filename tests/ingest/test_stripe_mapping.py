"""Stripe events → canonical rows, checked against rows worked out by hand (payloads: stripe_payloads.py)."""

from __future__ import annotations

import json

import pytest
from stripe_payloads import (
    BASIC,
    EXPECTED_PERIODS,
    PERIOD_COLUMNS,
    PRO_MONTHLY,
    customer,
    event,
    invoice,
    price,
    story,
    subscription,
)

from retain.ingest.platforms import FEEDBACK_REASONS, PeriodBook, PlatformError, map_stripe_event
from retain.ingest.platforms.stripe_money import billing_period_months, monthly_amount


def _apply_all(events):
    book, rows = PeriodBook(), {}
    for e in events:
        facts = map_stripe_event(e, latest_period=book)
        book.apply(facts)
        for table, table_rows in facts.rows.items():
            for row in table_rows:
                rows.setdefault(table, {})[_key(table, row)] = row  # a later version of a key replaces it
    return rows


def _key(table, row):
    return (row["subscription_id"], row["started_at"]) if table == "subscriptions" else next(iter(row.values()))


def test_the_story_yields_the_periods_worked_out_by_hand():
    rows = _apply_all(story())
    periods = sorted(tuple(r[c] for c in PERIOD_COLUMNS) for r in rows["subscriptions"].values())
    assert periods == sorted(EXPECTED_PERIODS)


def test_the_story_records_the_exit_answer_and_the_scheduled_cancellation():
    rows = _apply_all(story())
    assert list(rows["feedback"].values()) == [
        {
            "response_id": "sub_B/cancellation",
            "customer_id": "cus_B",
            "survey": "exit",
            "score": None,
            "reason": "price",
            "comment": "Cheaper elsewhere",
            "responded_at": "2024-03-05T00:00:00Z",
        }
    ]
    (scheduled,) = rows["events"].values()
    assert scheduled["event_id"] == "evt_b2" and scheduled["event_type"] == "subscription_cancel_scheduled"
    assert scheduled["customer_id"] == "cus_B" and scheduled["occurred_at"] == "2024-03-05T00:00:00Z"


def test_an_update_older_than_the_newest_period_changes_nothing():
    events = story()
    book = PeriodBook()
    for e in events[:5]:  # up to the pause of A on Mar 1
        book.apply(map_stripe_event(e, latest_period=book))
    late = events[3]  # the Feb 1 price change, delivered again after the pause
    facts = map_stripe_event({**late, "id": "evt_late"}, latest_period=book)
    assert facts.rows == {} and "older" in facts.note


def test_the_same_cancellation_twice_adds_nothing_and_an_unchanged_update_adds_nothing():
    events = story()
    book = PeriodBook()
    for e in events:
        book.apply(map_stripe_event(e, latest_period=book))
    assert map_stripe_event(events[-1], latest_period=book).rows == {}
    unchanged = event(
        "evt_c2",
        "customer.subscription.updated",
        "2024-04-02",
        subscription("sub_C", "cus_C", "2024-01-01", [(BASIC, 1)]),
    )
    assert map_stripe_event(unchanged, latest_period=book).rows == {}


@pytest.mark.parametrize(
    ("reason", "feedback", "cancel_reason", "churn_type"),
    [
        ("payment_failed", None, "payment_failed", "involuntary"),
        ("payment_disputed", "too_expensive", "payment_failed", "involuntary"),
        ("cancellation_requested", "missing_features", "missing_feature", "voluntary"),
        ("cancellation_requested", "switched_service", "switched_competitor", "voluntary"),
        ("cancellation_requested", "unused", "no_longer_needed", "voluntary"),
        ("cancellation_requested", "customer_service", "poor_service", "voluntary"),
        ("cancellation_requested", "too_complex", "product_quality", "voluntary"),
        ("cancellation_requested", "low_quality", "product_quality", "voluntary"),
        ("cancellation_requested", "other", "other", "voluntary"),
        ("cancellation_requested", None, None, "voluntary"),
        (None, None, None, "voluntary"),
    ],
)
def test_cancellation_reason_and_feedback_map_onto_churn_type_and_reason(reason, feedback, cancel_reason, churn_type):
    sub = subscription(
        "sub_X",
        "cus_X",
        "2024-01-01",
        [(BASIC, 1)],
        status="canceled",
        ended_at="2024-02-01",
        reason=reason,
        feedback=feedback,
    )
    (row,) = map_stripe_event(event("evt_x", "customer.subscription.deleted", "2024-02-01", sub)).rows["subscriptions"]
    assert (row["cancel_reason"], row["churn_type"]) == (cancel_reason, churn_type)
    assert (row["started_at"], row["ended_at"], row["status"]) == (
        "2024-01-01T00:00:00Z",
        "2024-02-01T00:00:00Z",
        "canceled",
    )


def test_every_documented_feedback_value_has_a_reason():
    documented = {"customer_service", "low_quality", "missing_features", "other", "switched_service", "too_complex",
                  "too_expensive", "unused"}  # fmt: skip
    assert set(FEEDBACK_REASONS) == documented


@pytest.mark.parametrize(
    ("item", "mrr", "months"),
    [
        ({"price": price("p", 120000, interval="year"), "quantity": 1}, 100.0, 12),
        ({"price": price("p", 3000, interval="month", count=3), "quantity": 1}, 10.0, 3),
        ({"price": price("p", 1500), "quantity": 2}, 30.0, 1),
        ({"price": price("p", 1200, interval="week"), "quantity": 1}, 12 * 52 / 12, None),  # 12.00 × 52 / 12
        ({"price": price("p", 6000, currency="jpy"), "quantity": 1}, 6000.0, 1),  # zero-decimal: 6000 yen
    ],
)
def test_mrr_is_normalised_from_interval_count_and_quantity(item, mrr, months):
    assert monthly_amount(item) == pytest.approx(mrr)
    assert billing_period_months(item) == months


def test_a_trial_is_active_at_mrr_zero_and_its_conversion_starts_a_paid_period():
    trial = subscription("sub_T", "cus_T", "2024-01-01", [(PRO_MONTHLY, 1)], status="trialing")
    book = PeriodBook()
    first = map_stripe_event(event("e1", "customer.subscription.created", "2024-01-01", trial), latest_period=book)
    book.apply(first)
    assert [(r["status"], r["mrr"]) for r in first.rows["subscriptions"]] == [("active", 0.0)]
    paid = map_stripe_event(
        event("e2", "customer.subscription.updated", "2024-01-15", {**trial, "status": "active"}), latest_period=book
    )
    assert [(r["started_at"], r["ended_at"], r["mrr"]) for r in paid.rows["subscriptions"]] == [
        ("2024-01-01T00:00:00Z", "2024-01-15T00:00:00Z", 0.0),
        ("2024-01-15T00:00:00Z", None, 30.0),
    ]


def test_an_incomplete_subscription_has_no_period_yet():
    sub = subscription("sub_I", "cus_I", "2024-01-01", [(BASIC, 1)], status="incomplete")
    facts = map_stripe_event(event("e", "customer.subscription.created", "2024-01-01", sub))
    assert facts.rows == {} and "incomplete" in facts.note


def test_invoices_paid_become_orders_and_failed_payments_events():
    paid = map_stripe_event(
        event(
            "evt_i1",
            "invoice.paid",
            "2024-02-01T00:05",
            invoice("in_1", "cus_A", paid_at="2024-02-01T00:04", amount_paid=120000, amount_due=120000),
        )
    )
    assert paid.rows == {
        "orders": [
            {
                "order_id": "in_1",
                "customer_id": "cus_A",
                "ordered_at": "2024-02-01T00:04:00Z",
                "amount": 1200.0,
                "status": "completed",
                "items": None,
                "discount_code": None,
                "channel": "stripe",
            }
        ]
    }
    failed = map_stripe_event(
        event(
            "evt_i2",
            "invoice.payment_failed",
            "2024-04-28",
            invoice("in_2", "cus_A", paid_at=None, amount_paid=0, amount_due=120000, attempts=2),
        )
    )
    (row,) = failed.rows["events"]
    assert (row["event_id"], row["customer_id"], row["event_type"], row["occurred_at"]) == (
        "evt_i2",
        "cus_A",
        "payment_failed",
        "2024-04-28T00:00:00Z",
    )
    assert json.loads(row["properties"]) == {
        "invoice": "in_2",
        "subscription": "sub_A",
        "amount_due": 1200.0,
        "attempt_count": 2,
    }
    free = map_stripe_event(
        event(
            "evt_i3",
            "invoice.paid",
            "2024-01-01",
            invoice("in_0", "cus_T", paid_at="2024-01-01", amount_paid=0, amount_due=0),
        )
    )
    assert free.rows == {}


def test_customers_and_unmapped_events():
    facts = map_stripe_event(
        event(
            "evt_k",
            "customer.created",
            "2024-01-01",
            customer("cus_A", "2023-12-31T23:00", "ann@example.com", "Ann Lee", "DE"),
        )
    )
    assert facts.rows == {
        "customers": [
            {
                "customer_id": "cus_A",
                "created_at": "2023-12-31T23:00:00Z",
                "email": "ann@example.com",
                "name": "Ann Lee",
                "country": "DE",
            }
        ]
    }
    assert map_stripe_event(event("e", "charge.succeeded", "2024-01-01", {"id": "ch_1"})).rows == {}
    assert (
        map_stripe_event(
            event("e", "customer.deleted", "2024-01-01", customer("cus_A", "2024-01-01", "a@b.c", "A", None))
        ).rows
        == {}
    )


def test_a_tiered_price_and_a_broken_event_are_refused_with_their_reason():
    tiered = {**price("price_t", 0), "unit_amount": None, "unit_amount_decimal": None, "billing_scheme": "tiered"}
    sub = subscription("sub_Z", "cus_Z", "2024-01-01", [(tiered, 1)])
    with pytest.raises(PlatformError, match="price_t has no unit_amount") as error:
        map_stripe_event(event("e", "customer.subscription.created", "2024-01-01", sub))
    assert error.value.code == "unsupported_price"
    with pytest.raises(PlatformError) as error:
        map_stripe_event({"type": "customer.created"})
    assert error.value.code == "bad_payload"
