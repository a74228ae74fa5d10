"""The customer 360 profile: literal expected rows (every column) for the hand-written world, no leakage from
facts after ``as_of``, identical on DuckDB and PySpark; and the usage windows it is built from."""

from __future__ import annotations

import ibis
import pyarrow.parquet as pq
import pytest
from analytics_helpers import run
from builders_profile import AS_OF, event, order, plain, table, ts, world

from retain.analytics.profile import PROFILE_COLUMNS, PROFILE_TYPES, customer_profiles
from retain.analytics.segments import add_segment_columns
from retain.analytics.usage import customer_usage, usage_columns
from retain.errors import InputError

NONE_OF_ORDERS = {
    "orders": 0,
    "total_revenue": 0.0,
    "aov": None,
    "first_order_at": None,
    "last_order_at": None,
    "days_since_last_order": None,
    "r_score": None,
    "f_score": None,
    "m_score": None,
    "rfm": None,
    "rfm_segment": None,
}
NO_SUBSCRIPTION = {"subscription_status": "none", "plan": None, "mrr": None, "subscription_started_at": None}
NO_EVENTS = {
    "events_7d": 0,
    "events_30d": 0,
    "events_90d": 0,
    "logins_7d": 0,
    "logins_30d": 0,
    "logins_90d": 0,
    "usage_trend": None,
    "days_since_last_event": None,
    "days_since_last_login": None,
}
NO_TICKETS = {"tickets_open": 0, "complaints_unresolved": 0}

# RFM among the three customers with completed orders (ana, cara, dan; score = 1 + floor(5 k / 3) with k the
# number of customers strictly worse): recency 12 / 487 / 1 days -> R 2 / 1 / 4; orders 2 / 1 / 3 -> F 2 / 1 / 4;
# net revenue 170 / 200 / 145.5 -> M 2 / 4 / 1. Segments from (R, round-half-up mean of F and M).
EXPECTED = {
    "ana": {
        "customer_id": "ana",
        "name": "Ana",
        "email": "ana@example.com",
        "country": "DE",
        "acquisition_channel": "ads",
        "created_at": ts(2023, 1, 10),
        "tenure_days": 447,
        "orders": 2,  # O1 + O2; the refund and the canceled order are not orders
        "total_revenue": 170.0,  # 120 + 80 - 30
        "aov": 85.0,
        "first_order_at": ts(2023, 6, 1),
        "last_order_at": ts(2024, 3, 20),
        "days_since_last_order": 12,
        "r_score": 2,
        "f_score": 2,
        "m_score": 2,
        "rfm": "222",
        "rfm_segment": "Hibernating",
        "lifecycle_state": "active",
        "subscription_status": "active",
        "plan": "max",  # after the plan change on 1 January
        "mrr": 99.0,
        "subscription_started_at": ts(2023, 2, 1),  # the plan change does not restart the subscription
        # 7 days: the 4 logins of 30-31 March (the feature use at exactly as_of - 7 days is out);
        # 30 days: + that feature use; 90 days: + the 2 logins of 15 February.
        "events_7d": 4,
        "events_30d": 5,
        "events_90d": 7,
        "logins_7d": 4,
        "logins_30d": 4,
        "logins_90d": 6,
        "usage_trend": 2.5,  # 5 in the last 30 days / 2 in the 30 before
        "days_since_last_event": 0,  # 31 March 10:00 is 14 hours before as_of
        "days_since_last_login": 0,
        "tickets_open": 1,  # T2; the complaint T1 was resolved
        "complaints_unresolved": 0,
        "nps_score": 9,
        "nps_at": ts(2024, 3, 15),
        "csat_score": 4,
        "csat_at": ts(2024, 3, 12, 10),
    },
    "ben": {
        "customer_id": "ben",
        "name": "Ben",
        "email": None,
        "country": None,
        "acquisition_channel": None,
        "created_at": ts(2023, 5, 5),
        "tenure_days": 332,
        **NONE_OF_ORDERS,
        "lifecycle_state": "paused",
        "subscription_status": "paused",
        "plan": "basic",  # the paused period's plan
        "mrr": 0.0,  # a pause brings no revenue
        "subscription_started_at": ts(2023, 6, 1),
        **NO_EVENTS,
        "events_90d": 1,  # the login of 10 January 09:00, 81 days 15 hours before as_of
        "logins_90d": 1,
        "days_since_last_event": 81,
        "days_since_last_login": 81,
        "tickets_open": 1,
        "complaints_unresolved": 1,
        "nps_score": None,
        "nps_at": None,
        "csat_score": 2,
        "csat_at": ts(2024, 2, 21),
    },
    "cara": {
        "customer_id": "cara",
        "name": "Cara",
        "email": "cara@example.com",
        "country": "FR",
        "acquisition_channel": "organic",
        "created_at": ts(2022, 11, 1),
        "tenure_days": 517,
        "orders": 1,
        "total_revenue": 200.0,
        "aov": 200.0,
        "first_order_at": ts(2022, 12, 1),
        "last_order_at": ts(2022, 12, 1),
        "days_since_last_order": 487,
        "r_score": 1,
        "f_score": 1,
        "m_score": 4,
        "rfm": "114",
        "rfm_segment": "At risk",
        "lifecycle_state": "churned",
        "subscription_status": "canceled",
        "plan": None,
        "mrr": 0.0,
        "subscription_started_at": ts(2023, 1, 1),
        **NO_EVENTS,
        **NO_TICKETS,
        "nps_score": 3,  # the exit survey has no score
        "nps_at": ts(2023, 11, 1),
        "csat_score": None,
        "csat_at": None,
    },
    "dan": {
        "customer_id": "dan",
        "name": None,
        "email": None,
        "country": None,
        "acquisition_channel": None,
        "created_at": ts(2024, 2, 9, 8),  # no customers row: first seen through his page view
        "tenure_days": 51,
        "orders": 3,
        "total_revenue": 145.5,
        "aov": 48.5,
        "first_order_at": ts(2024, 2, 10),
        "last_order_at": ts(2024, 3, 30, 12),
        "days_since_last_order": 1,  # 36 hours
        "r_score": 4,
        "f_score": 4,
        "m_score": 1,
        "rfm": "441",
        "rfm_segment": "Potential loyalist",
        "lifecycle_state": "active",
        **NO_SUBSCRIPTION,
        **NO_EVENTS,
        "events_90d": 1,
        "usage_trend": 0.0,  # 0 events in the last 30 days, 1 in the 30 before
        "days_since_last_event": 51,
        **NO_TICKETS,
        "nps_score": 10,  # two answers at the same instant: the larger response id (F8) is the latest
        "nps_at": ts(2024, 3, 31),
        "csat_score": None,
        "csat_at": None,
    },
    "eve": {
        "customer_id": "eve",
        "name": None,
        "email": "eve@example.com",
        "country": "US",
        "acquisition_channel": "referral",
        "created_at": ts(2024, 3, 25, 10),
        "tenure_days": 6,
        **NONE_OF_ORDERS,
        "lifecycle_state": None,  # neither orders nor a subscription
        **NO_SUBSCRIPTION,
        # one login exactly at as_of: inside every window; nothing in the 30 days before -> no trend
        "events_7d": 1,
        "events_30d": 1,
        "events_90d": 1,
        "logins_7d": 1,
        "logins_30d": 1,
        "logins_90d": 1,
        "usage_trend": None,
        "days_since_last_event": 0,
        "days_since_last_login": 0,
        **NO_TICKETS,
        "nps_score": None,
        "nps_at": None,
        "csat_score": None,
        "csat_at": None,
    },
}


def expected_rows(customers=("ana", "ben", "cara", "dan", "eve")) -> list[tuple]:
    return [tuple(EXPECTED[c][col] for col in PROFILE_COLUMNS) for c in customers]


def profiles(backend, tables, **kwargs):
    out = run(backend, customer_profiles(tables, as_of=AS_OF, **kwargs))
    assert list(out.columns) == list(PROFILE_COLUMNS)
    return plain(out)


def test_profiles_of_the_world_ignore_everything_after_as_of(duckdb_backend):
    """Literal rows for every column, computed from a world that also holds later facts and later versions of
    rows still open at as_of (fay signs up, ana orders 500, ben resumes, T2 is resolved, new answers...)."""
    tables = {name: ibis.memtable(t) for name, t in world(future=True).items()}
    assert profiles(duckdb_backend, tables) == expected_rows()


@pytest.mark.spark
@pytest.mark.slow
def test_pyspark_gives_the_same_literal_profiles(spark_backend, tmp_path):
    """The same world and expectations on PySpark (reading Parquet, as from the lake). Slow: Spark plans the
    profile's dozen joins for tens of seconds, which is why this is the only profile query it runs."""
    tables = {}
    for name, t in world(future=True).items():
        pq.write_table(t, tmp_path / f"{name}.parquet")
        tables[name] = spark_backend.read_parquet(tmp_path / f"{name}.parquet")
    assert profiles(spark_backend, tables) == expected_rows()


def test_later_facts_change_nothing(duckdb_backend):
    before = {name: ibis.memtable(t) for name, t in world().items()}
    after = {name: ibis.memtable(t) for name, t in world(future=True).items()}
    assert profiles(duckdb_backend, before) == profiles(duckdb_backend, after) == expected_rows()


def test_every_column_is_documented_and_typed():
    tables = {name: ibis.memtable(t) for name, t in world().items()}
    schema = customer_profiles(tables, as_of=AS_OF).schema()
    assert list(schema.names) == list(PROFILE_COLUMNS) == list(PROFILE_TYPES)
    assert {name: str(schema[name]) for name in schema.names} == PROFILE_TYPES
    assert all(len(text) > 10 for text in PROFILE_COLUMNS.values())


def test_a_shop_without_subscriptions_events_tickets_or_surveys(duckdb_backend):
    tables = {"orders": ibis.memtable(world()["orders"])}
    got = profiles(duckdb_backend, tables)
    ids = [row[0] for row in got]
    assert ids == ["ana", "cara", "dan"]  # only customers some table mentions
    cols = list(PROFILE_COLUMNS)
    ana = dict(zip(cols, got[0], strict=True))
    # Created at the first order. The lifecycle follows the order rules now: O2 came more than 90 days after O1
    # (a reactivation) within the last 30 days, so ana is returning.
    assert ana["created_at"] == ts(2023, 6, 1)
    assert ana["tenure_days"] == 305
    assert (ana["orders"], ana["total_revenue"], ana["aov"], ana["rfm"]) == (2, 170.0, 85.0, "222")
    assert ana["lifecycle_state"] == "returning"
    assert (ana["subscription_status"], ana["mrr"], ana["plan"]) == ("none", None, None)
    assert (ana["events_90d"], ana["tickets_open"], ana["nps_score"]) == (0, 0, None)


def test_user_segments_compile_against_the_profile(duckdb_backend):
    tables = {name: ibis.memtable(t) for name, t in world().items()}
    profile = customer_profiles(tables, as_of=AS_OF)
    segmented = add_segment_columns(
        profile,
        {
            "big_spenders": "total_revenue >= 150 AND days_since_last_order < 30",
            "unhappy": "complaints_unresolved > 0 OR csat_score <= 2",
            "paused_subscribers": "subscription_status = 'paused'",
        },
    )
    out = run(duckdb_backend, segmented.select("customer_id", *[c for c in segmented.columns if "segment_" in c]))
    assert plain(out) == [
        ("ana", True, False, False),
        ("ben", False, True, True),
        ("cara", False, False, False),
        ("dan", False, False, False),
        ("eve", False, False, False),
    ]


def test_usage_windows_are_half_open_on_the_left(backend, load):
    events = table(
        "events",
        [
            event("a", "kim", "login", ts(2024, 3, 25)),  # exactly as_of - 7 days: out of the 7-day window
            event("b", "kim", "login", ts(2024, 3, 25, 0, 0, 1)),  # one second later: in
            event("c", "kim", "feature_used", ts(2024, 3, 2)),  # exactly as_of - 30 days: previous window
            event("d", "kim", "feature_used", ts(2024, 2, 1)),  # exactly as_of - 60 days: in neither
            event("e", "kim", "login", ts(2024, 1, 2, 0, 0, 1)),  # just inside 90 days
            event("f", "kim", "login", ts(2024, 4, 1, 0, 0, 1)),  # after as_of: ignored
            event("g", "lee", "email_open", ts(2024, 3, 31)),
        ],
    )
    out = run(backend, customer_usage(load(events), as_of=AS_OF))
    assert list(out.columns) == usage_columns()
    assert plain(out) == [
        # 7d, 30d, 90d events; 7d, 30d, 90d logins; trend = 2 / 1; last event and last login
        ("kim", 1, 2, 5, 1, 2, 3, 2.0, ts(2024, 3, 25, 0, 0, 1), ts(2024, 3, 25, 0, 0, 1)),
        ("lee", 1, 1, 1, 0, 0, 0, None, ts(2024, 3, 31), None),
    ]


def test_usage_trend_is_rounded_and_windows_are_configurable(duckdb_backend):
    rows = [event(f"p{i}", "kim", "login", ts(2024, 2, 10 + i)) for i in range(3)]
    rows.append(event("c1", "kim", "login", ts(2024, 3, 20)))
    out = run(
        duckdb_backend,
        customer_usage(ibis.memtable(table("events", rows)), as_of=AS_OF, windows=(14,), login_event=None),
    )
    assert list(out.columns) == ["customer_id", "events_14d", "usage_trend", "last_event_at"]
    assert plain(out) == [("kim", 1, 0.3333, ts(2024, 3, 20))]


def test_bad_arguments_are_refused_with_clear_errors():
    tables = {"orders": ibis.memtable(world()["orders"])}
    with pytest.raises(InputError, match="needs at least one table"):
        customer_profiles({}, as_of=AS_OF)
    with pytest.raises(InputError, match="Unknown table 'order'"):
        customer_profiles({"order": tables["orders"]}, as_of=AS_OF)
    with pytest.raises(InputError, match="Expected a date or datetime"):
        customer_profiles(tables, as_of="2024-04-01")
    with pytest.raises(InputError, match="whole number of days >= 1, got 0"):
        customer_usage(ibis.memtable(world()["events"]), as_of=AS_OF, windows=(0,))
    with pytest.raises(InputError, match="trend_days must be a whole number"):
        customer_usage(ibis.memtable(world()["events"]), as_of=AS_OF, trend_days=True)
    bad = ibis.memtable(table("orders", [order("X", "kim", ts(2024, 1, 1), 1.0)]).drop(["status"]))
    with pytest.raises(InputError, match="orders table lacks column"):
        customer_profiles({"orders": bad}, as_of=AS_OF)
