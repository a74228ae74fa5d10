"""The customer timeline: literal chronological rows for the hand-written world, on DuckDB and PySpark."""

from __future__ import annotations

import ibis
import pytest
from analytics_helpers import run
from builders_profile import AS_OF, event, period, plain, table, ts, world

from retain.analytics.timeline import TIMELINE_COLUMNS, customer_timeline
from retain.errors import InputError

REPORTS = '{"feature": "reports"}'
IOS = '{"device": "ios"}'
ANA_SUB = "subscription_id=S-ana, status=active"

# Ana at AS_OF: signup, the plan change pro → max (one subscription), orders with a refund and a cancellation,
# logins grouped per day (3 on 30 March, 2 on 15 February), a resolved complaint and an open ticket, surveys.
ANA_AT_AS_OF = [
    (ts(2023, 1, 10), "signup", "Signed up via ads", None, "name=Ana, email=ana@example.com, country=DE"),
    (ts(2023, 2, 1), "subscription_started", "Subscribed to pro", 49.0, ANA_SUB + ", billing_period_months=1"),
    (ts(2023, 6, 1), "order", "Order O1", 120.0, "items=2, channel=web"),
    (ts(2023, 12, 1), "survey", "nps 6", None, "comment=ok"),
    (ts(2024, 1, 1), "plan_changed", "Plan pro → max", 99.0, ANA_SUB + ", billing_period_months=12"),
    (ts(2024, 2, 15, 10), "events", "2 × login", None, None),
    (ts(2024, 3, 10, 9), "ticket_opened", "Ticket T1 opened: billing (complaint)", None, "priority=high"),
    (ts(2024, 3, 12, 9), "ticket_resolved", "Ticket T1 resolved", None, "satisfaction=4"),
    (ts(2024, 3, 12, 10), "survey", "csat 4", None, None),
    (ts(2024, 3, 15), "survey", "nps 9", None, None),
    (ts(2024, 3, 20), "order", "Order O2", 80.0, "items=1"),
    (ts(2024, 3, 25), "events", "feature_used", None, REPORTS),
    (ts(2024, 3, 25, 12), "refund", "Refund O3", -30.0, None),
    (ts(2024, 3, 28), "order_canceled", "Canceled order O4", 50.0, None),
    (ts(2024, 3, 29, 15), "ticket_opened", "Ticket T2 opened: how-to", None, "priority=low"),
    (ts(2024, 3, 30, 8), "events", "3 × login", None, None),
    (ts(2024, 3, 31, 10), "events", "login", None, IOS),
]

# Ben with everything known (no as_of): paused on 1 March, an order and the resumption after AS_OF.
BEN_ALL = [
    (ts(2023, 5, 5), "signup", "Signed up", None, "name=Ben"),
    (ts(2023, 6, 1), "subscription_started", "Subscribed to basic", 19.0, "subscription_id=S-ben, status=active"),
    (ts(2024, 1, 10, 9), "events", "login", None, None),
    (ts(2024, 2, 20), "ticket_opened", "Ticket T3 opened (complaint)", None, None),
    (ts(2024, 2, 21), "survey", "csat 2", None, None),
    (ts(2024, 3, 1), "subscription_paused", "Paused basic", None, "subscription_id=S-ben, status=paused"),
    (ts(2024, 4, 2), "order", "Order O10", 30.0, None),
    (ts(2024, 4, 10), "subscription_resumed", "Resumed basic", 19.0, "subscription_id=S-ben, status=active"),
]

# Cara: the subscription ended (listed before the exit survey answered at the same instant: kind order).
CARA_AT_AS_OF = [
    (ts(2022, 11, 1), "signup", "Signed up via organic", None, "name=Cara, email=cara@example.com, country=FR"),
    (ts(2022, 12, 1), "order", "Order O5", 200.0, None),
    (ts(2023, 1, 1), "subscription_started", "Subscribed to pro", 49.0, "subscription_id=S-cara, status=canceled"),
    (ts(2023, 11, 1), "survey", "nps 3", None, None),
    (
        ts(2023, 12, 15),
        "subscription_ended",
        "Subscription ended: pro",
        None,
        "subscription_id=S-cara, cancel_reason=price, churn_type=voluntary",
    ),
    (ts(2023, 12, 15), "survey", "exit", None, "reason=price, comment=too expensive"),
]

# Dan has no customers row: "First seen" at his first fact (an event), before his first order.
DAN_AT_AS_OF = [
    (ts(2024, 2, 9, 8), "signup", "First seen", None, None),
    (ts(2024, 2, 9, 8), "events", "page_view", None, None),
    (ts(2024, 2, 10), "order", "Order O6", 60.0, None),
    (ts(2024, 3, 5), "order", "Order O7", 40.0, None),
    (ts(2024, 3, 30, 12), "order", "Order O8", 45.5, None),
    (ts(2024, 3, 31), "survey", "nps 10", None, None),
    (ts(2024, 3, 31), "survey", "nps 7", None, None),
]


def timeline(backend, tables, customer_id, as_of=AS_OF):
    out = run(backend, customer_timeline(tables, customer_id, as_of=as_of))
    assert list(out.columns) == list(TIMELINE_COLUMNS)
    return plain(out)


def test_timeline_hides_later_facts_identically_on_both_engines(backend, load):
    # The world includes facts after AS_OF (a 500.00 order of ana, T2 resolved on 3 April, ben resumed, ...):
    # none of them shows at AS_OF, and ana's ticket T2 is still open (no "resolved" row). Spark runs this one
    # timeline only: each query costs it seconds.
    tables = {name: load(t) for name, t in world(future=True).items()}
    assert timeline(backend, tables, "ana") == ANA_AT_AS_OF


@pytest.fixture
def future_world():
    return {name: ibis.memtable(t) for name, t in world(future=True).items()}


def test_timelines_of_pause_cancellation_and_first_seen(duckdb_backend, future_world):
    assert timeline(duckdb_backend, future_world, "cara") == CARA_AT_AS_OF
    assert timeline(duckdb_backend, future_world, "dan") == DAN_AT_AS_OF
    assert timeline(duckdb_backend, future_world, "ben", as_of=None) == BEN_ALL


def test_without_as_of_everything_shows(duckdb_backend, future_world):
    later = [
        (ts(2024, 4, 3), "ticket_resolved", "Ticket T2 resolved", None, "satisfaction=5"),
        (ts(2024, 4, 5), "order", "Order O9", 500.0, None),
    ]
    assert timeline(duckdb_backend, future_world, "ana", as_of=None) == ANA_AT_AS_OF + later


def test_timeline_at_an_earlier_instant_and_of_unknown_customers(duckdb_backend, future_world):
    tables = future_world
    # At 1 March ben's pause starts exactly at as_of (included); the ticket and the survey came before.
    ben = timeline(duckdb_backend, tables, "ben", as_of=ts(2024, 3, 1))
    assert ben == BEN_ALL[:6]
    # Before her first fact, dan is unknown: no rows at all; a customer nobody mentions has none either.
    assert timeline(duckdb_backend, tables, "dan", as_of=ts(2024, 2, 9, 7)) == []
    assert timeline(duckdb_backend, tables, "zoe") == []


def test_several_events_of_a_day_are_grouped_per_type_and_single_ones_keep_properties(duckdb_backend):
    events = table(
        "events",
        [event(f"x{i}", "kim", "login", ts(2024, 3, 1, 8 + i)) for i in range(12)]
        + [
            event("y1", "kim", "feature_used", ts(2024, 3, 1, 9), '{"feature": "export"}'),
            event("y2", "kim", "login", ts(2024, 3, 2, 23, 59, 59)),
            event("y3", "kim", "login", ts(2024, 3, 3)),  # another UTC day
        ],
    )
    out = timeline(duckdb_backend, {"events": ibis.memtable(events)}, "kim", as_of=None)
    assert out == [
        (ts(2024, 3, 1, 8), "signup", "First seen", None, None),
        (ts(2024, 3, 1, 8), "events", "12 × login", None, None),
        (ts(2024, 3, 1, 9), "events", "feature_used", None, '{"feature": "export"}'),
        (ts(2024, 3, 2, 23, 59, 59), "events", "login", None, None),
        (ts(2024, 3, 3), "events", "login", None, None),
    ]


def test_subscription_restart_after_a_gap_and_status_change(duckdb_backend):
    subs = table(
        "subscriptions",
        [
            period("S", "lou", "pro", 49, ts(2023, 1, 1), ts(2023, 3, 1)),
            period("S", "lou", "pro", 49, ts(2023, 3, 1), ts(2023, 4, 1), "past_due"),
            # a gap of a month: the subscription ended and restarts
            period("S", "lou", "pro", 39, ts(2023, 5, 1), churn_type=None),
        ],
    )
    out = timeline(duckdb_backend, {"subscriptions": ibis.memtable(subs)}, "lou", as_of=None)
    assert out == [
        (ts(2023, 1, 1), "signup", "First seen", None, None),
        (ts(2023, 1, 1), "subscription_started", "Subscribed to pro", 49.0, "subscription_id=S, status=active"),
        (ts(2023, 3, 1), "status_changed", "pro: active → past_due", 49.0, "subscription_id=S, status=past_due"),
        (ts(2023, 4, 1), "subscription_ended", "Subscription ended: pro", None, "subscription_id=S"),
        (ts(2023, 5, 1), "subscription_started", "Subscribed to pro", 39.0, "subscription_id=S, status=active"),
    ]


def test_bad_arguments_are_refused_with_clear_errors():
    tables = {"orders": ibis.memtable(world()["orders"])}
    with pytest.raises(InputError, match="customer_id must be a non-empty string"):
        customer_timeline(tables, "")
    with pytest.raises(InputError, match=r"Unknown table 'order'.*Valid tables: customers, orders"):
        customer_timeline({"order": tables["orders"]}, "ana")
    with pytest.raises(InputError, match="needs at least one table"):
        customer_timeline({}, "ana")
