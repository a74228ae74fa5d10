"""Churn labels and the monthly dataset on hand-written timelines.

As-of 2024-07-01 00:00 UTC with the default 90-day horizon: the label window is (07-01, 09-29 00:00].
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import ibis
import pandas as pd
import pytest
from churn_builders import AS_OF, table

from retain.engine import to_pandas
from retain.errors import InputError
from retain.models.churn.dataset import build_dataset, data_end, monthly_dates, observable_dates
from retain.models.churn.labels import noncontractual_labels, subscription_labels


def _period(customer: str, start: str, end: str | None = None, status: str = "active") -> dict:
    return {
        "subscription_id": f"S{customer}",
        "customer_id": customer,
        "plan": "basic",
        "mrr": 0.0 if status == "paused" else 19.0,
        "started_at": start,
        "ended_at": end,
        "status": status,
    }


SUBSCRIPTIONS = [
    _period("L1", "2024-01-01"),  # keeps running: 0
    _period("L2", "2024-01-01", "2024-08-10", "canceled"),  # ends inside the window: 1
    _period("L3", "2024-01-01", "2024-08-10"),  # plan change at 08-10, no gap: 0
    _period("L3", "2024-08-10"),
    _period("L4", "2024-01-01", "2024-08-01"),  # pauses, then resumes: a pause is not churn: 0
    _period("L4", "2024-08-01", "2024-09-01", "paused"),
    _period("L4", "2024-09-01"),
    _period("L5", "2024-01-01", "2024-06-01"),  # paused at AS_OF: not labelled
    _period("L5", "2024-06-01", None, "paused"),
    _period("L6", "2024-01-01", "2024-10-15", "canceled"),  # ends after the window: 0
    _period("L7", "2024-01-01", "2024-09-29", "canceled"),  # ends at the window's last instant: 1
    _period("L8", "2024-01-01", "2024-08-01", "canceled"),  # leaves, comes back: 1
    _period("L8", "2024-08-20"),
    _period("L9", "2024-07-02"),  # starts after AS_OF: not labelled
    _period("L10", "2024-01-01", "2024-08-01"),  # pauses, and the subscription ends during the pause: 1
    _period("L10", "2024-08-01", "2024-09-01", "paused"),
    _period("L11", "2024-01-01", "2024-06-15", "canceled"),  # gone before AS_OF: not labelled
    _period("L12", "2024-07-01", "2024-07-20", "canceled"),  # starts exactly at AS_OF, ends in the window: 1
]
EXPECTED_SUBSCRIPTION = {
    "L1": 0,
    "L2": 1,
    "L3": 0,
    "L4": 0,
    "L6": 0,
    "L7": 1,
    "L8": 1,
    "L10": 1,
    "L12": 1,
}


def _order(i: int, customer: str, when: str, status: str = "completed") -> dict:
    return {"order_id": f"O{i}", "customer_id": customer, "ordered_at": when, "amount": 10.0, "status": status}


ORDERS = [
    _order(1, "N1", "2024-05-01"),
    _order(2, "N1", "2024-08-01"),  # ordered again: 0
    _order(3, "N2", "2024-05-01"),  # silent: 1
    _order(4, "N3", "2024-05-01"),
    _order(5, "N3", "2024-08-01", "canceled"),  # only a canceled order: 1
    _order(6, "N4", "2024-08-01"),  # first order after AS_OF: not labelled
    _order(7, "N5", "2024-05-01", "refunded"),  # never completed an order: not labelled
    _order(8, "N6", "2024-07-01"),  # exactly at AS_OF: labelled
    _order(9, "N6", "2024-09-29"),  # at the window's last instant: 0
    _order(10, "N7", "2024-03-01"),
    _order(11, "N7", "2024-09-30"),  # after the window: 1
]
EXPECTED_NONCONTRACTUAL = {"N1": 0, "N2": 1, "N3": 1, "N6": 0, "N7": 1}


def _labels(backend, expr) -> dict[str, int]:
    frame = to_pandas(backend, expr)
    assert list(frame.columns) == ["customer_id", "churned"]
    return dict(zip(frame.customer_id, frame.churned.astype(int), strict=True))


def test_subscription_labels(backend, load):
    subs = load(table("subscriptions", SUBSCRIPTIONS))
    assert _labels(backend, subscription_labels(subs, as_of=AS_OF)) == EXPECTED_SUBSCRIPTION


def test_subscription_labels_shorter_horizon(backend, load):
    subs = load(table("subscriptions", SUBSCRIPTIONS))
    # 30 days: the window is (07-01, 07-31]; only L12 ends in it.
    expected = dict.fromkeys(EXPECTED_SUBSCRIPTION, 0) | {"L12": 1}
    assert _labels(backend, subscription_labels(subs, as_of=AS_OF, horizon_days=30)) == expected


def test_noncontractual_labels(backend, load):
    orders = load(table("orders", ORDERS))
    assert _labels(backend, noncontractual_labels(orders, as_of=AS_OF)) == EXPECTED_NONCONTRACTUAL


def test_label_inputs_are_checked():
    subs = ibis.memtable(table("subscriptions", SUBSCRIPTIONS))
    with pytest.raises(InputError, match="horizon_days"):
        subscription_labels(subs, as_of=AS_OF, horizon_days=0)
    with pytest.raises(InputError, match="unknown business model"):
        build_dataset({"subscriptions": subs}, observation_dates=[AS_OF], model="saas")


def test_monthly_and_observable_dates():
    dates = monthly_dates(date(2024, 1, 15), date(2024, 4, 1))
    assert [d.date() for d in dates] == [date(2024, m, 1) for m in (1, 2, 3, 4)]
    # 2024-01-01 + 90 days = 03-31, 02-01 + 90 days = 05-01: only January fits before 2024-04-30.
    assert observable_dates(dates, horizon_days=90, end=date(2024, 4, 30)) == [datetime(2024, 1, 1, tzinfo=UTC)]


def test_dataset_rows_per_customer_and_date(duckdb_backend):
    subs = ibis.memtable(table("subscriptions", SUBSCRIPTIONS))
    tables = {"subscriptions": subs}
    # The latest timestamp in the data is 2024-10-15 (L6's end): 07-01 + 90 days fits, 08-01 + 90 does not.
    assert data_end(tables) == datetime(2024, 10, 15, tzinfo=UTC)
    expr = build_dataset(tables, observation_dates=monthly_dates(date(2024, 6, 1), date(2024, 8, 1)))
    frame = to_pandas(duckdb_backend, expr)
    assert list(frame.columns[:2]) == ["customer_id", "as_of"] and frame.columns[-1] == "churned"
    got = {
        (row.as_of.date().isoformat(), row.customer_id): int(row.churned)
        for row in frame[["as_of", "customer_id", "churned"]].itertuples()
    }
    # At 06-01 (window to 08-30): L11 (ends 06-15), L2 and L8 churn; L10's pause still runs at 08-30; L5 is
    # paused from 06-01 on, L9 and L12 have not started (not labelled); L7 ends after the window.
    june = {"L1": 0, "L2": 1, "L3": 0, "L4": 0, "L6": 0, "L7": 0, "L8": 1, "L10": 0, "L11": 1}
    july = EXPECTED_SUBSCRIPTION
    expected = {("2024-06-01", c): v for c, v in june.items()} | {("2024-07-01", c): v for c, v in july.items()}
    assert got == expected
    # Features come with each row: L1 was subscribed at both dates with 19 MRR.
    assert frame.loc[frame.customer_id == "L1", "mrr"].tolist() == [19.0, 19.0]


def test_dataset_without_an_observable_date_is_refused():
    subs = ibis.memtable(table("subscriptions", SUBSCRIPTIONS))
    with pytest.raises(InputError, match="full 90-day label window"):
        build_dataset({"subscriptions": subs}, observation_dates=[datetime(2024, 9, 1, tzinfo=UTC)])


def test_dataset_noncontractual(duckdb_backend):
    tables = {"orders": ibis.memtable(table("orders", ORDERS))}
    expr = build_dataset(tables, observation_dates=[AS_OF], model="commerce", end=pd.Timestamp("2024-12-31"))
    frame = to_pandas(duckdb_backend, expr)
    assert dict(zip(frame.customer_id, frame.churned, strict=True)) == EXPECTED_NONCONTRACTUAL
    assert frame.set_index("customer_id").loc["N1", "orders"] == 1  # the 08-01 order is in the future
