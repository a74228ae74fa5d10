"""Cohort triangles and N-day return retention on hand-written timelines, identical on DuckDB and PySpark."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from analytics_helpers import at, order, orders, records, run, sub, subscriptions
from builders_commerce import event, events

from retain.analytics.cohorts import (
    cohort_matrix,
    order_cohort_matrix,
    return_retention,
    return_retention_summary,
)
from retain.errors import InputError

JAN, FEB, MAR = at(2024, 1), at(2024, 2), at(2024, 3)

SUBSCRIPTIONS = [
    sub("alice", 10, at(2024, 1, 5)),  # Jan cohort, always there
    sub("bob", 20, at(2024, 1, 20), at(2024, 2, 10), "canceled"),  # Jan cohort, active on Feb 1 only
    # carol: free plan first (not a paid start), pays from Jan 15, upgrades exactly at Mar 1
    sub("carol", 0, at(2023, 12, 10), at(2024, 1, 15), sid="carol-free"),
    sub("carol", 30, at(2024, 1, 15), at(2024, 3, 1), sid="carol-1"),
    sub("carol", 50, at(2024, 3, 1), sid="carol-2"),
    # dave starts exactly at Feb 1 (Feb cohort), is paused over Mar 1, resumes exactly at Apr 1
    sub("dave", 40, at(2024, 2, 1), at(2024, 3, 1)),
    sub("dave", 0, at(2024, 3, 1), at(2024, 4, 1), "paused"),
    sub("dave", 40, at(2024, 4, 1)),
    sub("erin", 15, at(2024, 2, 29), at(2024, 3, 1), "canceled"),  # one day: gone at Mar 1
    sub("frank", 25, at(2024, 3, 10)),  # Mar cohort
    sub("gina", 99, at(2024, 4, 20)),  # after as_of: not known yet
    # ivan leaves in Feb and comes back in March (a second subscription)
    sub("ivan", 10, at(2024, 1, 10), at(2024, 2, 15), "canceled", sid="ivan-1"),
    sub("ivan", 10, at(2024, 3, 20), sid="ivan-2"),
]
AS_OF = at(2024, 4, 15)
COLUMNS = ["cohort", "age", "customers", "cohort_size", "share"]


def test_logo_cohort_triangle_counts_customers_active_at_each_period_start(backend, load):
    out = run(backend, cohort_matrix(load(subscriptions(SUBSCRIPTIONS)), as_of=AS_OF))
    # Jan: alice bob carol ivan. Feb 1: all four; Mar 1: alice carol (bob gone, ivan away); Apr 1: + ivan.
    # Feb: dave erin. Mar 1: dave paused, erin ended exactly then; Apr 1: dave resumed.
    assert records(out, COLUMNS) == [
        (JAN, 0, 4, 4, 1.0),
        (JAN, 1, 4, 4, 1.0),
        (JAN, 2, 2, 4, 0.5),
        (JAN, 3, 3, 4, 0.75),
        (FEB, 0, 2, 2, 1.0),
        (FEB, 1, 0, 2, 0.0),
        (FEB, 2, 1, 2, 0.5),
        (MAR, 0, 1, 1, 1.0),
        (MAR, 1, 1, 1, 1.0),
    ]


def test_revenue_cohort_triangle_follows_mrr_at_each_period_start(backend, load):
    out = run(backend, cohort_matrix(load(subscriptions(SUBSCRIPTIONS)), as_of=AS_OF, measure="revenue"))
    # Jan at signup: 10 + 20 + 30 (carol's paid start) + 10 = 70; Mar 1: alice 10 + carol 50 (upgraded).
    assert records(out, ["cohort", "age", "mrr", "cohort_size", "share"]) == [
        (JAN, 0, 70.0, 70.0, 1.0),
        (JAN, 1, 70.0, 70.0, 1.0),
        (JAN, 2, 60.0, 70.0, 0.8571),
        (JAN, 3, 70.0, 70.0, 1.0),
        (FEB, 0, 55.0, 55.0, 1.0),
        (FEB, 1, 0.0, 55.0, 0.0),
        (FEB, 2, 40.0, 55.0, 0.7273),
        (MAR, 0, 25.0, 25.0, 1.0),
        (MAR, 1, 25.0, 25.0, 1.0),
    ]


def test_quarterly_cohorts_and_as_of_at_a_period_start(backend, load):
    table = load(subscriptions(SUBSCRIPTIONS))
    quarterly = run(backend, cohort_matrix(table, as_of=AS_OF, freq="quarter"))
    # Q1 2024: alice bob carol dave erin frank ivan; on Apr 1: alice carol dave frank ivan.
    assert records(quarterly, COLUMNS) == [(JAN, 0, 7, 7, 1.0), (JAN, 1, 5, 7, 0.7143)]
    # as_of exactly at Mar 1: the state at that instant is known, so age 2 of January is shown; later facts
    # (frank, ivan's return) are not.
    early = run(backend, cohort_matrix(table, as_of=MAR))
    assert records(early, COLUMNS) == [
        (JAN, 0, 4, 4, 1.0),
        (JAN, 1, 4, 4, 1.0),
        (JAN, 2, 2, 4, 0.5),
        (FEB, 0, 2, 2, 1.0),
        (FEB, 1, 0, 2, 0.0),
    ]


ORDERS = [
    order("a1", "a", at(2024, 1, 5), 100.0),
    order("a2", "a", at(2024, 1, 20), 50.0),
    order("a3", "a", at(2024, 3, 3), 30.0),
    order("b1", "b", at(2024, 1, 10), 80.0),
    order("b2", "b", at(2024, 2, 2), -80.0, "refunded"),  # a refund only: revenue, but no active logo
    order("c0", "c", at(2023, 12, 30), -20.0, "refunded"),  # before c's first sale: ignored
    order("c1", "c", at(2024, 2, 14), 60.0),
    order("c2", "c", at(2024, 2, 20), 500.0, "canceled"),  # never happened
    order("c3", "c", at(2024, 3, 9), 40.0),
    order("d1", "d", at(2024, 3, 31, 23), 10.0),
    order("e1", "e", at(2024, 4, 1), 25.0),  # exactly at as_of: known, but April has not started before it
    order("f1", "f", at(2024, 1, 31), 20.0),
    order("f2", "f", at(2024, 4, 2), 20.0),  # after as_of
]


def test_order_cohorts_logo_and_revenue(backend, load):
    table = load(orders(ORDERS))
    logo = run(backend, order_cohort_matrix(table, as_of=at(2024, 4, 1)))
    assert records(logo, COLUMNS) == [
        (JAN, 0, 3, 3, 1.0),
        (JAN, 1, 0, 3, 0.0),
        (JAN, 2, 1, 3, 0.3333),
        (FEB, 0, 1, 1, 1.0),
        (FEB, 1, 1, 1, 1.0),
        (MAR, 0, 1, 1, 1.0),
    ]
    revenue = run(backend, order_cohort_matrix(table, as_of=at(2024, 4, 1), measure="revenue"))
    assert records(revenue, ["cohort", "age", "revenue", "cohort_size", "share"]) == [
        (JAN, 0, 250.0, 250.0, 1.0),
        (JAN, 1, -80.0, 250.0, -0.32),
        (JAN, 2, 30.0, 250.0, 0.12),
        (FEB, 0, 60.0, 60.0, 1.0),
        (FEB, 1, 40.0, 60.0, 0.6667),
        (MAR, 0, 10.0, 10.0, 1.0),
    ]


def test_order_cohorts_show_a_partial_newest_period(backend, load):
    out = run(backend, order_cohort_matrix(load(orders(ORDERS)), as_of=at(2024, 4, 1, 12)))
    apr = at(2024, 4)
    # April has started: every cohort gets age "April" (f's order on Apr 2 is still unknown); e joins.
    assert records(out, COLUMNS) == [
        (JAN, 0, 3, 3, 1.0),
        (JAN, 1, 0, 3, 0.0),
        (JAN, 2, 1, 3, 0.3333),
        (JAN, 3, 0, 3, 0.0),
        (FEB, 0, 1, 1, 1.0),
        (FEB, 1, 1, 1, 1.0),
        (FEB, 2, 0, 1, 0.0),
        (MAR, 0, 1, 1, 1.0),
        (MAR, 1, 0, 1, 0.0),
        (apr, 0, 1, 1, 1.0),
    ]


def day(d: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2024, 1, d, hour, minute, tzinfo=UTC)


EVENTS = [
    event("u1", day(1, 10)),
    event("u1", day(2, 9)),
    event("u1", day(8, 23, 59)),
    event("u2", day(1, 23)),
    event("u2", day(3, 1)),
    event("u2", day(9)),
    event("u3", day(2, 12)),
    event("u3", day(3)),
    event("u3", day(9), "feature_used"),  # another event type: not a return
    event("u4", day(5)),
    event("u4", day(9, 23, 30)),
    event("u4", day(10)),  # exactly at as_of: known (day 5 of u4)
    event("u5", day(9)),  # day 1 (Jan 10) is not over at as_of
    event("u6", day(2), "page_view"),  # never logs in
    event("u7", day(11)),  # after as_of
]


def test_n_day_return_retention_per_cohort_and_overall(backend, load):
    table = load(events(EVENTS))
    out = run(backend, return_retention(table, as_of=day(10), days=(1, 7)))
    # Jan 1: u1 returns on Jan 2 and Jan 8, u2 on Jan 3 and Jan 9 (days 2 and 8). Jan 2: u3 on Jan 3 only.
    # Jan 5: u4 not on Jan 6; its day 7 (Jan 12) is not over. Jan 9 (u5): day 1 not over: no row.
    assert records(out, ["cohort_day", "day", "cohort_size", "returned", "share"]) == [
        (day(1).date(), 1, 2, 1, 0.5),
        (day(1).date(), 7, 2, 1, 0.5),
        (day(2).date(), 1, 1, 1, 1.0),
        (day(2).date(), 7, 1, 0, 0.0),
        (day(5).date(), 1, 1, 0, 0.0),
    ]
    summary = run(backend, return_retention_summary(table, as_of=day(10), days=(1, 7)))
    assert records(summary, ["day", "customers", "returned", "share"]) == [(1, 4, 2, 0.5), (7, 3, 1, 0.3333)]


def test_unbounded_return_retention_counts_day_n_or_later(backend, load):
    table = load(events(EVENTS))
    out = run(backend, return_retention(table, as_of=day(10), days=(1, 7), unbounded=True))
    assert records(out, ["cohort_day", "day", "cohort_size", "returned", "share"]) == [
        (day(1).date(), 1, 2, 2, 1.0),
        (day(1).date(), 7, 2, 2, 1.0),
        (day(2).date(), 1, 1, 1, 1.0),
        (day(2).date(), 7, 1, 0, 0.0),
        (day(5).date(), 1, 1, 1, 1.0),
    ]
    summary = run(backend, return_retention_summary(table, as_of=day(10), days=(1, 7), unbounded=True))
    assert records(summary, ["day", "customers", "returned", "share"]) == [(1, 4, 4, 1.0), (7, 3, 2, 0.6667)]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: cohort_matrix(t, as_of=MAR, freq="week"), "Valid frequencies: month, quarter, year"),
        (lambda t: cohort_matrix(t, as_of=MAR, measure="mrr"), "Valid measures: logo, revenue"),
    ],
)
def test_cohort_options_are_validated(call, message):
    import ibis

    with pytest.raises(InputError, match=message):
        call(ibis.memtable(subscriptions(SUBSCRIPTIONS)))


@pytest.mark.parametrize("days", [(), (0, 7), (1.5,), (True,)])
def test_return_days_must_be_positive_whole_days(days):
    import ibis

    with pytest.raises(InputError, match="days must be whole numbers of days >= 1"):
        return_retention(ibis.memtable(events(EVENTS)), as_of=day(10), days=days)
