"""Commerce metrics (revenue, AOV, frequency, repeat rate, order gaps, historical CLV) on a hand-written shop."""

from __future__ import annotations

import pandas as pd
from analytics_helpers import at, order, orders, records, run

from retain.analytics.commerce import COMMERCE_COLUMNS, commerce_summary, customer_order_stats, historical_clv
from retain.analytics.periods import period_grid

ORDERS = [
    order("a1", "a", at(2024, 1, 3), 10.0),
    order("a2", "a", at(2024, 1, 13), 20.0),
    order("a3", "a", at(2024, 2, 2), 40.0),
    order("a4", "a", at(2024, 2, 5), -5.0, "refunded"),
    order("a5", "a", at(2024, 3, 4), 30.0),
    order("b1", "b", at(2024, 1, 20), 30.0),
    order("b2", "b", at(2024, 1, 20, 12), 15.0),  # half a day after b1
    order("b3", "b", at(2024, 3, 1), 45.5),  # exactly at the March boundary: a March order
    order("c1", "c", at(2024, 2, 10), 100.0),
    order("c2", "c", at(2024, 2, 11), 999.0, "canceled"),  # never happened
    order("c3", "c", at(2024, 2, 12), 20.0, "refunded"),  # a refund recorded as a positive magnitude
    order("d1", "d", at(2024, 3, 31, 23), 12.25),
    order("e1", "e", at(2024, 2, 20), -7.0, "refunded"),  # a refund of a sale older than the data
]


def _rows(frame):
    """Records with NaN (null) replaced by None so that rows compare with ==."""
    return [tuple(None if v is pd.NaT or (isinstance(v, float) and v != v) else v for v in row) for row in frame]


def test_monthly_commerce_summary(backend, load):
    out = run(backend, commerce_summary(load(orders(ORDERS)), period_grid(at(2024, 1), at(2024, 5))))
    # Jan: a1 a2 b1 b2; gaps a 10 d, b 0.5 d -> median 5.25.
    # Feb: a3 c1 sales 140, refunds 5 + 20 + 7; gap a2 -> a3 = 20 d.
    # Mar: b3 a5 d1 = 87.75; gaps a3 -> a5 = 31 d, b2 -> b3 = 40.5 d.
    assert _rows(records(out, list(COMMERCE_COLUMNS))) == [
        (at(2024, 1), at(2024, 2), 75.0, 75.0, 0.0, 4, 2, 2, 18.75, 2.0, 100.0, 2, 5.25),
        (at(2024, 2), at(2024, 3), 108.0, 140.0, 32.0, 2, 2, 0, 54.0, 1.0, 0.0, 1, 20.0),
        (at(2024, 3), at(2024, 4), 87.75, 87.75, 0.0, 3, 3, 0, 29.25, 1.0, 0.0, 2, 35.75),
        (at(2024, 4), at(2024, 5), 0.0, 0.0, 0.0, 0, 0, 0, None, None, None, 0, None),
    ]


def test_whole_window_is_one_period(backend, load):
    out = run(backend, commerce_summary(load(orders(ORDERS)), [(at(2024, 1), at(2024, 4))]))
    # 9 sales by a b c d; a and b ordered at least twice; gaps 0.5 10 20 31 40.5 -> median 20.
    assert _rows(records(out, list(COMMERCE_COLUMNS))) == [
        (at(2024, 1), at(2024, 4), 270.75, 302.75, 32.0, 9, 4, 2, 30.08, 2.25, 50.0, 5, 20.0)
    ]


def test_customer_order_stats_and_historical_clv(backend, load):
    table = load(orders(ORDERS))
    out = run(backend, customer_order_stats(table, as_of=at(2024, 3, 4)))
    columns = [
        "customer_id",
        "first_order_at",
        "last_order_at",
        "orders",
        "revenue",
        "refunds",
        "aov",
        "median_days_between_orders",
        "days_since_last_order",
    ]
    # a5 is exactly at as_of and counts; d1 is later and does not.
    assert _rows(records(out, columns)) == [
        ("a", at(2024, 1, 3), at(2024, 3, 4), 4, 95.0, 5.0, 23.75, 20.0, 0.0),
        ("b", at(2024, 1, 20), at(2024, 3, 1), 3, 90.5, 0.0, 30.17, 20.5, 3.0),
        ("c", at(2024, 2, 10), at(2024, 2, 10), 1, 80.0, 20.0, 80.0, None, 23.0),
        ("e", None, None, 0, -7.0, 7.0, None, None, None),
    ]
    clv = run(backend, historical_clv(table, as_of=at(2024, 3, 4)))
    assert records(clv, ["customers", "revenue", "average_clv"]) == [(3, 265.5, 88.5)]
