"""Profiles in the state DB on SQLite and PostgreSQL: typed columns, only changed rows rewritten, removals."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pyarrow as pa
import pytest
import sqlalchemy as sa

from retain.contract.profile import PROFILE
from retain.errors import InputError
from retain.state import make_engine, upgrade
from retain.state.profiles import PROFILE_WRITE_COLUMNS, count_profiles, get_profile, list_profiles, write_profiles
from retain.state.tables import customer_profiles

LAST_ORDER = datetime(2024, 4, 1, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def engine(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _profiles(n: int, revenue: float) -> pa.Table:
    """``n`` customers c000…: every profile column (null unless set below) and their segments as JSON."""
    rows = {name: [None] * n for name in PROFILE_WRITE_COLUMNS}
    rows["customer_id"] = [f"c{i:03d}" for i in range(n)]
    rows["lifecycle_state"] = ["active" if i % 2 else "dormant" for i in range(n)]
    rows["rfm_segment"] = ["Champions" if i < 3 else "Lost" for i in range(n)]
    rows["mrr"] = [10.0 * i for i in range(n)]
    rows["total_revenue"] = [revenue + i for i in range(n)]
    rows["days_since_last_order"] = list(range(n))
    rows["last_order_at"] = [LAST_ORDER] * n
    rows["aov"] = [math.nan] * n  # NaN is stored as null (the same on both databases)
    rows["name"] = ['Zoë, "the" tester\nline 2' if i == 4 else f"Customer {i}" for i in range(n)]
    rows["segments"] = ['["big_spenders"]' if i < 2 else "[]" for i in range(n)]
    schema = PROFILE.arrow_schema().append(pa.field("segments", pa.string()))
    return pa.table(rows, schema=schema)


def _write(engine, table: pa.Table, snapshot_id: str):
    with engine.begin() as connection:
        return write_profiles(connection, table, snapshot_id=snapshot_id)


def test_typed_values_round_trip(engine):
    result = _write(engine, _profiles(25, 100.0), "snap-1")
    assert (result.written, result.unchanged, result.deleted) == (25, 0, 0)
    with engine.connect() as connection:
        assert count_profiles(connection) == 25
        stored = get_profile(connection, "c004")
    p = stored.profile
    assert (stored.snapshot_id, p["lifecycle_state"], p["rfm_segment"], p["mrr"], p["total_revenue"]) == (
        "snap-1",
        "dormant",
        "Lost",
        40.0,
        104.0,
    )
    assert p["days_since_last_order"] == 4 and p["last_order_at"] == LAST_ORDER  # microseconds and UTC kept
    assert p["aov"] is None and p["p_churn"] is None
    assert p["name"] == 'Zoë, "the" tester\nline 2'  # CSV quoting on PostgreSQL's COPY path
    assert list(p) == PROFILE.names
    assert stored.segments == [] and get_profile_segments(engine, "c001") == ["big_spenders"]


def get_profile_segments(engine, customer_id: str) -> list[str]:
    with engine.connect() as connection:
        return get_profile(connection, customer_id).segments


def test_only_changed_rows_are_rewritten_and_departed_customers_removed(engine):
    _write(engine, _profiles(30, 100.0), "snap-1")
    changed = _profiles(28, 100.0)  # c028 and c029 left
    revenue = changed["total_revenue"].to_pylist()
    revenue[7] = 999.0  # one customer bought something
    changed = changed.set_column(changed.schema.get_field_index("total_revenue"), "total_revenue", pa.array(revenue))
    result = _write(engine, changed, "snap-2")
    assert (result.written, result.unchanged, result.deleted) == (1, 27, 2)
    with engine.connect() as connection:
        assert count_profiles(connection) == 28
        assert get_profile(connection, "c029") is None
        assert get_profile(connection, "c007").profile["total_revenue"] == 999.0
        by_snapshot = dict(
            connection.execute(
                sa.select(customer_profiles.c.snapshot_id, sa.func.count()).group_by(customer_profiles.c.snapshot_id)
            ).all()
        )
    assert by_snapshot == {"snap-1": 27, "snap-2": 1}  # the row hash said the other 27 had not changed
    again = _write(engine, changed, "snap-3")
    assert (again.written, again.unchanged, again.deleted) == (0, 28, 0)


def test_filters_by_typed_columns(engine):
    _write(engine, _profiles(10, 1.0), "a")
    with engine.connect() as connection:
        champions = [p.customer_id for p in list_profiles(connection, rfm_segment="Champions")]
        lost_active = [p.customer_id for p in list_profiles(connection, lifecycle_state="active", rfm_segment="Lost")]
        recent = connection.execute(
            sa.select(customer_profiles.c.customer_id).where(customer_profiles.c.last_order_at >= LAST_ORDER)
        ).scalars()
        assert len(list(recent)) == 10  # a timestamp compares in SQL on both databases
    assert champions == ["c000", "c001", "c002"]
    assert lost_active == ["c003", "c005", "c007", "c009"]


def test_bad_rows_are_refused_and_nothing_is_written(engine):
    table = _profiles(3, 1.0)
    twice = pa.concat_tables([table, table.slice(1, 1)])
    with pytest.raises(InputError, match=r"Customer\(s\) \['c001'\] appear twice"):
        _write(engine, twice, "a")
    no_id = table.set_column(0, "customer_id", pa.array([None, "c1", "c2"], pa.string()))
    with pytest.raises(InputError, match="no customer_id"):
        _write(engine, no_id, "a")
    with pytest.raises(InputError, match=r"lack column\(s\) \['segments'\]"):
        _write(engine, table.drop_columns(["segments"]), "a")
    with engine.connect() as connection:
        assert count_profiles(connection) == 0
