"""The Stripe and Shopify export presets on small hand-written files in the exported header layout.

The files (tests/data/platforms, described in its README) follow the dashboards' CSV exports: Stripe's
subscriptions and invoices exports and Shopify's orders export (one line per line item, the order's own fields
on its first line only). The expected rows are worked out by hand below.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from retain.errors import InputError
from retain.ingest import IngestOptions, ingest

DATA = Path(__file__).resolve().parents[1] / "data" / "platforms"


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_stripe_subscriptions_export_becomes_one_period_each(tmp_path, lake, lake_rows):
    path = DATA / "stripe_subscriptions.csv"
    result = ingest(lake, "subscriptions", path, IngestOptions(preset="stripe-subscriptions"))
    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (5, 3, 2)
    assert result.rejects_by_reason == {"not_allowed": 2}  # incomplete never started; fortnight is no interval
    rows = sorted(lake_rows("subscriptions").to_pylist(), key=lambda r: r["subscription_id"])
    got = [
        (r["subscription_id"], r["customer_id"], r["plan"], r["mrr"], r["started_at"], r["ended_at"], r["status"],
         r["churn_type"], r["billing_period_months"])
        for r in rows
    ]  # fmt: skip
    assert got == [
        ("sub_A", "cus_A", "Pro yearly", 100.0, _utc(2024, 1, 1), None, "active", None, 12),  # 600 × 2 / 12
        ("sub_B", "cus_B", "Basic", 10.0, _utc(2024, 1, 15, 8, 30), _utc(2024, 3, 15, 8, 30), "canceled", None, 1),
        ("sub_T", "cus_T", "Pro monthly", 0.0, _utc(2024, 2, 1), None, "active", None, 1),  # a trial pays nothing
    ]


def test_stripe_invoices_export_becomes_orders_of_paid_invoices(tmp_path, lake, lake_rows):
    path = DATA / "stripe_invoices.csv"
    result = ingest(lake, "orders", path, IngestOptions(preset="stripe-invoices"))
    assert (result.rows_read, result.rows_accepted) == (4, 2)
    assert result.rejects_by_reason == {"not_allowed": 1, "out_of_range": 1}  # open; 0.00
    got = sorted((r["order_id"], r["customer_id"], r["ordered_at"], r["amount"], r["status"], r["channel"])
                 for r in lake_rows("orders").to_pylist())  # fmt: skip
    assert got == [
        ("in_1", "cus_A", _utc(2024, 1, 1, 0, 4), 1200.0, "completed", "stripe"),
        ("in_4", "cus_B", _utc(2024, 1, 15, 8, 30), 10.0, "completed", "stripe"),  # no Paid At: the invoice date
    ]


def test_shopify_orders_export_groups_lines_and_adds_refunds(tmp_path, lake, lake_rows):
    path = DATA / "shopify_orders_export.csv"
    result = ingest(lake, "orders", path, IngestOptions(preset="shopify-orders"))
    assert result.rows_read == 6  # lines
    assert result.rejects_by_reason == {"missing_customer": 1, "not_allowed": 1}  # #1004 no email; #1003 pending
    got = sorted(
        (r["order_id"], r["customer_id"], r["ordered_at"], r["amount"], r["status"], r["items"], r["discount_code"],
         r["channel"])
        for r in lake_rows("orders").to_pylist()
    )  # fmt: skip
    assert got == [
        ("5001", "ann@example.com", _utc(2024, 1, 10, 9), 59.9, "completed", 3, "WELCOME5", "web"),
        ("5001-refunded", "ann@example.com", _utc(2024, 1, 10, 9), -20.0, "refunded", None, None, "web"),
        ("5002", "ann@example.com", _utc(2024, 2, 2, 8), 35.0, "canceled", 1, None, "web"),  # cancelled: no refund row
        ("5005", "dee@example.com", _utc(2024, 2, 7, 11), 1250.0, "completed", 5, None, "web"),
    ]
    assert result.rows_accepted == 4


def test_a_file_without_the_exported_columns_names_what_is_missing(tmp_path, lake):
    path = tmp_path / "orders.csv"
    path.write_text("Name,Email,Total\n#1,a@b.c,1.00\n")
    with pytest.raises(InputError, match="preset shopify-orders needs column"):
        ingest(lake, "orders", path, IngestOptions(preset="shopify-orders"))
    with pytest.raises(InputError, match="produces table subscriptions, not orders"):
        ingest(lake, "orders", path, IngestOptions(preset="stripe-subscriptions"))
