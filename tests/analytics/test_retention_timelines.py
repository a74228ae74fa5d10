"""Hand-written timelines: subscription and shop customers with literal dates and the expected series."""

from __future__ import annotations

import ibis
import pytest
from analytics_helpers import at, order, orders, records, run, sub, subscriptions

from retain.analytics import (
    active_subscribers,
    period_grid,
    retention_series,
    retention_series_orders,
    subscriber_states,
)
from retain.errors import InputError

SUBSCRIPTIONS = [
    sub("alice", 19, at(2023, 10, 1)),  # always there
    sub("bob", 19, at(2023, 12, 1), at(2024, 1, 20), "canceled", churn_type="voluntary", reason="price"),
    # carol pauses mid-February and comes back mid-March
    sub("carol", 19, at(2023, 11, 1), at(2024, 2, 10)),
    sub("carol", 0, at(2024, 2, 10), at(2024, 3, 15), "paused"),
    sub("carol", 19, at(2024, 3, 15)),
    # dave churned in December and returns in February
    sub("dave", 49, at(2023, 6, 1), at(2023, 12, 15), "canceled", churn_type="voluntary", sid="dave-1"),
    sub("dave", 19, at(2024, 2, 5), sid="dave-2"),
    sub("erin", 149, at(2024, 1, 10)),  # new in January
    # frank's card fails: involuntary churn in March (churn_type empty, reason payment_failed)
    sub("frank", 49, at(2023, 12, 1), at(2024, 3, 5), "canceled", reason="payment_failed"),
    sub("gina", 19, at(2024, 1, 5), at(2024, 1, 25), "canceled", churn_type="voluntary"),  # in and out in Jan
    sub("hank", 19, at(2023, 12, 1), status="past_due"),  # in dunning, still served: active
    sub("ivan", 19, at(2024, 3, 20)),  # new in March
]

COUNT_COLUMNS = [
    "start_customers",
    "new_customers",
    "end_customers",
    "retained",
    "lost",
    "lost_voluntary",
    "lost_involuntary",
    "paused",
    "acquired",
    "reactivated",
    "resumed",
]


def test_subscription_series_with_pause_reactivation_and_involuntary_churn(backend, load):
    periods = period_grid(at(2024, 1, 1), at(2024, 4, 1), "month")
    out = run(backend, retention_series(load(subscriptions(SUBSCRIPTIONS)), periods))

    assert records(out, ["period_start", "period_end"]) == [
        (at(2024, 1), at(2024, 2)),
        (at(2024, 2), at(2024, 3)),
        (at(2024, 3), at(2024, 4)),
    ]
    # Jan: S = alice bob carol frank hank; E = alice carol erin frank hank; bob lost, erin acquired.
    # Feb: S = alice carol erin frank hank; E = alice dave erin frank hank; carol paused, dave reactivated.
    # Mar: S = alice dave erin frank hank; E = alice carol dave erin hank ivan; frank lost (involuntary),
    #      carol resumed, ivan acquired.
    assert records(out, COUNT_COLUMNS) == [
        (5, 1, 5, 4, 1, 1, 0, 0, 1, 0, 0),
        (5, 1, 5, 4, 0, 0, 0, 1, 0, 1, 0),
        (5, 2, 6, 4, 1, 0, 1, 0, 1, 0, 1),
    ]
    assert out["retention_rate"].tolist() == [80.0, 80.0, 80.0]
    assert out["churn_rate"].tolist() == [20.0, 0.0, 20.0]
    assert out["voluntary_churn_rate"].tolist() == [20.0, 0.0, 0.0]
    assert out["involuntary_churn_rate"].tolist() == [0.0, 0.0, 20.0]
    assert out["pause_rate"].tolist() == [0.0, 20.0, 0.0]


def test_active_and_paused_subscribers_at_an_instant(backend, load):
    table = load(subscriptions(SUBSCRIPTIONS))
    active = run(backend, active_subscribers(table, at(2024, 3, 1)))
    assert active["customer_id"].tolist() == ["alice", "dave", "erin", "frank", "hank"]
    states = run(backend, subscriber_states(table, at(2024, 3, 1)))
    assert records(states, ["customer_id", "state", "mrr"]) == [
        ("alice", "active", 19.0),
        ("carol", "paused", 0.0),
        ("dave", "active", 19.0),
        ("erin", "active", 149.0),
        ("frank", "active", 49.0),
        ("hank", "active", 19.0),
    ]


def test_a_subscription_period_runs_from_start_inclusive_to_end_exclusive(duckdb_backend):
    table = ibis.memtable(subscriptions(SUBSCRIPTIONS))
    at_end_of_bob = run(duckdb_backend, active_subscribers(table, at(2024, 1, 20)))["customer_id"].tolist()
    at_start_of_erin = run(duckdb_backend, active_subscribers(table, at(2024, 1, 10)))["customer_id"].tolist()
    assert "bob" not in at_end_of_bob
    assert "erin" in at_start_of_erin and "bob" in at_start_of_erin


def test_periods_without_customers_get_a_row_of_zeros_and_null_rates(duckdb_backend):
    periods = period_grid(at(2020, 1, 1), at(2020, 3, 1), "month")
    out = run(duckdb_backend, retention_series(ibis.memtable(subscriptions(SUBSCRIPTIONS)), periods))
    assert len(out) == 2
    assert records(out, COUNT_COLUMNS) == [(0,) * len(COUNT_COLUMNS)] * 2
    assert out["retention_rate"].isna().all() and out["churn_rate"].isna().all()


ORDERS = [
    order("o1", "alice", at(2024, 1, 20)),
    order("o2", "alice", at(2024, 2, 15)),
    order("o3", "alice", at(2024, 3, 20)),
    order("o4", "bob", at(2024, 1, 25)),  # active on Feb 1, gone by Mar 1
    order("o5", "carol", at(2024, 2, 10)),  # first order: acquired in Feb, lapsed by Apr 1
    order("o6", "dave", at(2023, 10, 1)),  # an old customer...
    order("o7", "dave", at(2024, 3, 10)),  # ...reactivated in March
    order("o8", "erin", at(2024, 2, 20), status="canceled"),  # not activity
    order("o9", "erin", at(2024, 2, 21), amount=-10.0, status="refunded"),  # not activity
    order("o10", "frank", at(2024, 3, 1)),  # exactly at the boundary: active at Mar 1, not at Apr 1
    order("o11", "gina", at(2024, 1, 2)),  # exactly 30 days before Feb 1: outside (t − 30d, t]
]


def test_order_series_with_activity_window(backend, load):
    periods = period_grid(at(2024, 2, 1), at(2024, 4, 1), "month")
    out = run(backend, retention_series_orders(load(orders(ORDERS)), periods, activity_window_days=30))
    # Feb: S = alice bob; E = alice carol frank; bob lost; carol and frank acquired.
    # Mar: S = alice carol frank; E = alice dave; carol and frank lost; dave reactivated.
    assert records(out, COUNT_COLUMNS) == [
        (2, 2, 3, 1, 1, 1, 0, 0, 2, 0, 0),
        (3, 1, 2, 1, 2, 2, 0, 0, 0, 1, 0),
    ]
    assert out["retention_rate"].tolist() == [50.0, 100.0 / 3]
    assert out["churn_rate"].tolist() == [50.0, 200.0 / 3]
    assert out["involuntary_churn_rate"].tolist() == [0.0, 0.0]


def test_order_series_default_window_is_90_days(duckdb_backend):
    periods = period_grid(at(2024, 2, 1), at(2024, 4, 1), "month")
    out = run(duckdb_backend, retention_series_orders(ibis.memtable(orders(ORDERS)), periods))
    # 90 days. Feb 1: alice bob gina. Mar 1: alice bob carol frank gina (carol, frank new). Apr 1, window
    # (Jan 2, Apr 1]: alice bob carol dave frank; gina's order of Jan 2 00:00 is exactly 90 days old: lapsed.
    assert records(out, ["start_customers", "end_customers", "new_customers", "lost", "reactivated"]) == [
        (3, 5, 2, 0, 0),
        (5, 5, 1, 1, 1),
    ]


@pytest.mark.parametrize("window", [0, -5, 2.5, True])
def test_order_series_rejects_bad_window(window):
    with pytest.raises(InputError, match="activity_window_days"):
        retention_series_orders(ibis.memtable(orders(ORDERS)), period_grid(at(2024, 2, 1), at(2024, 3, 1)), window)
