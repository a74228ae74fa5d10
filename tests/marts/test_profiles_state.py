"""Profiles in the state DB: batched upsert on SQLite and PostgreSQL, no duplicates, typed columns, pruning."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from retain.errors import InputError
from retain.state import make_engine, upgrade
from retain.state.profiles import count_profiles, get_profile, list_profiles, upsert_profiles
from retain.state.tables import customer_profiles

AS_OF = datetime(2024, 4, 15, 12, tzinfo=UTC)
RAN = datetime(2024, 5, 1, 8, tzinfo=UTC)


@pytest.fixture
def engine(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _profiles(n: int, revenue: float) -> list[dict]:
    return [
        {
            "customer_id": f"c{i:03d}",
            "lifecycle": "active" if i % 2 else "dormant",
            "rfm_segment": "Champions" if i < 3 else "Lost",
            "mrr": 10.0 * i,
            "total_revenue": revenue + i,
            "days_since_last_order": i,
            "last_order_at": datetime(2024, 4, 1, tzinfo=UTC),
            "aov": math.nan,
        }
        for i in range(n)
    ]


def test_second_upsert_updates_rows_without_duplicates(engine):
    assert (
        upsert_profiles(engine, _profiles(25, 100.0), snapshot_id="snap-1", as_of=AS_OF, refreshed_at=RAN, batch_size=7)
        == 25
    )
    assert count_profiles(engine) == 25
    first = get_profile(engine, "c004")
    assert (first.snapshot_id, first.lifecycle, first.rfm_segment, first.mrr, first.total_revenue) == (
        "snap-1",
        "dormant",
        "Lost",
        40.0,
        104.0,
    )
    assert first.days_since_last_order == 4 and first.as_of == AS_OF and first.refreshed_at == RAN
    assert first.profile["last_order_at"] == "2024-04-01T00:00:00+00:00"
    assert first.profile["aov"] is None  # NaN is not JSON: stored as null

    # The second refresh has 30 customers and new revenue: 25 updated, 5 inserted.
    written = upsert_profiles(
        engine, _profiles(30, 500.0), snapshot_id="snap-2", as_of=AS_OF, refreshed_at=RAN, batch_size=7
    )
    assert written == 30 and count_profiles(engine) == 30
    with engine.connect() as connection:
        ids = connection.execute(sa.select(customer_profiles.c.customer_id)).scalars().all()
        snapshots = set(connection.execute(sa.select(customer_profiles.c.snapshot_id)).scalars())
    assert sorted(ids) == [f"c{i:03d}" for i in range(30)]
    assert snapshots == {"snap-2"}
    assert get_profile(engine, "c004").total_revenue == 504.0
    assert json.loads(json.dumps(get_profile(engine, "c029").profile))["total_revenue"] == 529.0


def test_customers_missing_from_the_new_snapshot_are_removed(engine):
    upsert_profiles(engine, _profiles(10, 1.0), snapshot_id="a", as_of=AS_OF, refreshed_at=RAN)
    upsert_profiles(engine, _profiles(4, 1.0), snapshot_id="b", as_of=AS_OF, refreshed_at=RAN)
    assert count_profiles(engine) == 4
    assert get_profile(engine, "c009") is None


def test_filters_by_typed_columns(engine):
    upsert_profiles(engine, _profiles(10, 1.0), snapshot_id="a", as_of=AS_OF, refreshed_at=RAN)
    assert [p.customer_id for p in list_profiles(engine, rfm_segment="Champions")] == ["c000", "c001", "c002"]
    assert [p.customer_id for p in list_profiles(engine, lifecycle="active", rfm_segment="Lost")] == [
        "c003",
        "c005",
        "c007",
        "c009",
    ]


def test_bad_rows_are_refused_and_nothing_is_written(engine):
    rows = [*_profiles(3, 1.0), {"customer_id": "c001"}]
    with pytest.raises(InputError, match="'c001' appears twice"):
        upsert_profiles(engine, rows, snapshot_id="a", as_of=AS_OF, refreshed_at=RAN, batch_size=2)
    assert count_profiles(engine) == 0  # one transaction: the first batch was rolled back too
    with pytest.raises(InputError, match="no customer_id"):
        upsert_profiles(engine, [{"lifecycle": "active"}], snapshot_id="a", as_of=AS_OF, refreshed_at=RAN)
