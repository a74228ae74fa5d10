"""Lifecycle states and flows on hand-written shop and subscription timelines (W = 90, N = 30, R = 45 days)."""

from __future__ import annotations

import ibis
import pytest
from analytics_helpers import at, order, orders, records, run, sub, subscriptions

from retain.analytics.lifecycle import FLOW_COLUMNS, lifecycle_flows, lifecycle_states
from retain.analytics.periods import period_grid
from retain.errors import InputError

ORDERS = [
    order("a1", "ana", at(2024, 6, 20)),  # first order 11 days before Jul 1: new
    order("b1", "ben", at(2024, 1, 10)),  # gaps of 51, 75 and 41 days: never lapsed
    order("b2", "ben", at(2024, 3, 1)),
    order("b3", "ben", at(2024, 5, 15)),
    order("b4", "ben", at(2024, 6, 25)),
    order("c1", "cat", at(2024, 3, 1)),
    order("c2", "cat", at(2024, 5, 10)),  # 52 days before Jul 1 (> 45): at risk
    order("d1", "dan", at(2023, 10, 1)),
    order("d2", "dan", at(2024, 6, 15)),  # back after 258 days: returning on Jul 1
    order("e1", "eve", at(2024, 3, 15)),  # 108 days before Jul 1: dormant
    order("f1", "fay", at(2023, 11, 1)),  # 243 days before Jul 1: churned
    order("g1", "gus", at(2023, 9, 1)),
    order("g2", "gus", at(2024, 4, 20)),  # a reactivation, but more than 30 days before Jul 1
    order("g3", "gus", at(2024, 6, 10)),
    order("h1", "hal", at(2024, 6, 1), status="canceled"),  # no completed order: no state
    order("h2", "hal", at(2024, 7, 2)),  # after as_of
    order("i1", "ivy", at(2024, 4, 2)),  # exactly 90 days before Jul 1: outside (t − 90d, t], dormant
    order("j1", "jon", at(2024, 5, 17)),  # exactly 45 days before Jul 1: not *more* than 45, still active
]


def test_order_states_at_an_instant(backend, load):
    out = run(backend, lifecycle_states(load(orders(ORDERS)), as_of=at(2024, 7, 1)))
    assert records(out, ["customer_id", "state"]) == [
        ("ana", "new"),
        ("ben", "active"),
        ("cat", "at_risk"),
        ("dan", "returning"),
        ("eve", "dormant"),
        ("fay", "churned"),
        ("gus", "active"),
        ("ivy", "dormant"),
        ("jon", "active"),
    ]


def test_order_flows_month_over_month(backend, load):
    # States on May 1: ben cat eve at_risk, dan fay churned, gus returning (Apr 20), ivy new (Apr 2).
    # Jun 1: ben cat gus active, eve ivy at_risk, dan fay churned, jon new.  Jul 1: see the test above.
    periods = period_grid(at(2024, 5, 1), at(2024, 7, 1), "month")
    out = run(backend, lifecycle_flows(load(orders(ORDERS)), periods=periods))
    assert list(out.columns) == list(FLOW_COLUMNS)
    may, jun = (at(2024, 5), at(2024, 6)), (at(2024, 6), at(2024, 7))
    assert records(out, list(FLOW_COLUMNS)) == [
        (*may, "at_risk", "active", 2),  # ben cat
        (*may, "at_risk", "at_risk", 1),  # eve
        (*may, "churned", "churned", 2),  # dan fay
        (*may, "new", "at_risk", 1),  # ivy
        (*may, "none", "new", 1),  # jon
        (*may, "returning", "active", 1),  # gus
        (*jun, "active", "active", 2),  # ben gus
        (*jun, "active", "at_risk", 1),  # cat
        (*jun, "at_risk", "dormant", 2),  # eve ivy
        (*jun, "churned", "churned", 1),  # fay
        (*jun, "churned", "returning", 1),  # dan: a reactivation
        (*jun, "new", "active", 1),  # jon
        (*jun, "none", "new", 1),  # ana
    ]


SUBSCRIPTIONS = [
    sub("amy", 19, at(2024, 2, 15)),  # new on Mar 1
    sub("bea", 19, at(2023, 6, 1)),
    # cal churned in December and comes back on Feb 10: a restart
    sub("cal", 19, at(2023, 1, 1), at(2023, 12, 1), "canceled", churn_type="voluntary", sid="cal-1"),
    sub("cal", 19, at(2024, 2, 10), sid="cal-2"),
    sub("deb", 19, at(2023, 5, 1), at(2024, 2, 1)),
    sub("deb", 0, at(2024, 2, 1), status="paused"),
    sub("eli", 49, at(2023, 5, 1), at(2024, 1, 15), "canceled", churn_type="voluntary"),
    sub("flo", 19, at(2023, 8, 1), at(2024, 2, 20)),
    sub("flo", 19, at(2024, 2, 20), status="past_due"),  # card failing: at risk
    sub("gil", 19, at(2023, 3, 1), at(2024, 2, 15), plan="basic"),
    sub("gil", 49, at(2024, 2, 15), plan="pro"),  # a plan change is not a restart
    sub("hue", 19, at(2023, 4, 1), at(2024, 1, 1)),
    sub("hue", 0, at(2024, 1, 1), at(2024, 2, 1), "paused"),
    sub("hue", 19, at(2024, 2, 1)),  # resumed after a pause: active, not returning
    sub("ida", 19, at(2024, 4, 1)),  # starts after every instant: no state
    sub("joe", 19, at(2023, 1, 1), at(2023, 1, 1), sid="joe-0"),  # zero-length: never ran
    sub("joe", 19, at(2024, 2, 20), sid="joe-1"),
]


def test_subscription_states_at_an_instant(backend, load):
    out = run(backend, lifecycle_states(subscriptions=load(subscriptions(SUBSCRIPTIONS)), as_of=at(2024, 3, 1)))
    assert records(out, ["customer_id", "state"]) == [
        ("amy", "new"),
        ("bea", "active"),
        ("cal", "returning"),
        ("deb", "paused"),
        ("eli", "churned"),
        ("flo", "at_risk"),
        ("gil", "active"),
        ("hue", "active"),
        ("joe", "new"),
    ]


def test_subscription_flows_month_over_month(backend, load):
    # Jan 1: bea deb eli flo gil active, cal churned, hue paused.
    # Feb 1: bea flo gil hue active, cal eli churned, deb paused.  Mar 1: see the test above.
    periods = period_grid(at(2024, 1, 1), at(2024, 3, 1), "month")
    out = run(backend, lifecycle_flows(subscriptions=load(subscriptions(SUBSCRIPTIONS)), periods=periods))
    jan, feb = (at(2024, 1), at(2024, 2)), (at(2024, 2), at(2024, 3))
    assert records(out, list(FLOW_COLUMNS)) == [
        (*jan, "active", "active", 3),  # bea flo gil
        (*jan, "active", "churned", 1),  # eli
        (*jan, "active", "paused", 1),  # deb
        (*jan, "churned", "churned", 1),  # cal
        (*jan, "paused", "active", 1),  # hue resumes
        (*feb, "active", "active", 3),  # bea gil hue
        (*feb, "active", "at_risk", 1),  # flo
        (*feb, "churned", "churned", 1),  # eli
        (*feb, "churned", "returning", 1),  # cal
        (*feb, "none", "new", 2),  # amy joe
        (*feb, "paused", "paused", 1),  # deb
    ]


def test_subscribers_follow_subscription_rules_and_shoppers_order_rules(duckdb_backend):
    shop = orders(
        [
            order("x1", "bea", at(2022, 1, 1)),  # an old order: by order rules bea would be churned
            order("x2", "zed", at(2024, 2, 20)),  # a shopper only: new
            order("x3", "ida", at(2024, 2, 25)),  # subscribes only in April: order rules apply on Mar 1
        ]
    )
    expr = lifecycle_states(ibis.memtable(shop), ibis.memtable(subscriptions(SUBSCRIPTIONS)), as_of=at(2024, 3, 1))
    out = dict(records(run(duckdb_backend, expr), ["customer_id", "state"]))
    assert out["bea"] == "active"
    assert out["zed"] == "new"
    assert out["ida"] == "new"
    assert len(out) == 11


def test_custom_windows_change_the_thresholds(duckdb_backend):
    # W = 30, N = 7, R = 0.8 × 30 = 24 days. On Jul 1: ana (11 days) is neither new nor at risk: active;
    # cat (52 days) is dormant; eve (108 > 60) churned; ben's Jun 25 order comes 41 (> 30) days after the
    # previous one: a reactivation 6 (< 7) days ago, so ben is returning.
    expr = lifecycle_states(
        ibis.memtable(orders(ORDERS)), as_of=at(2024, 7, 1), activity_window_days=30, new_days=7, at_risk_share=0.8
    )
    out = dict(records(run(duckdb_backend, expr), ["customer_id", "state"]))
    assert (out["ana"], out["ben"], out["cat"], out["eve"]) == ("active", "returning", "dormant", "churned")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"activity_window_days": 0}, "activity_window_days"),
        ({"new_days": -1}, "new_days"),
        ({"at_risk_share": 1.0}, "at_risk_share"),
        ({"at_risk_share": 0}, "at_risk_share"),
    ],
)
def test_bad_parameters_are_rejected(kwargs, match):
    with pytest.raises(InputError, match=match):
        lifecycle_states(ibis.memtable(orders(ORDERS)), as_of=at(2024, 7, 1), **kwargs)


def test_no_table_is_rejected():
    with pytest.raises(InputError, match="neither was given"):
        lifecycle_states(as_of=at(2024, 7, 1))
