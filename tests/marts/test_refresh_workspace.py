"""Refresh end to end: profiles upserted on SQLite and PostgreSQL, a synthetic workspace checked against an
independent pandas computation, and the PySpark engine giving the same marts as DuckDB."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pyarrow.compute as pc
import pytest
from marts_builders import build_synthetic, build_tiny

from retain.services import current_snapshot, marts_store, refresh
from retain.state.profiles import count_profiles, get_profile


def _count(ws) -> int:
    with ws.connect() as connection:
        return count_profiles(connection)


def _profile(ws, customer_id: str):
    with ws.connect() as connection:
        return get_profile(connection, customer_id)


def test_second_refresh_updates_profiles_without_duplicates(tmp_path, database_url):
    ws = build_tiny(tmp_path / "ws", database_url=database_url)
    first = refresh(ws)
    assert first.profiles_written == 3 and _count(ws) == 3
    c1 = _profile(ws, "c1")
    p = c1.profile
    assert (p["total_revenue"], p["days_since_last_order"], p["lifecycle_state"], p["mrr"]) == (
        150.0,
        41,
        "active",
        10.0,
    )
    assert c1.snapshot_id == first.snapshot_id

    second = refresh(ws, as_of=date(2024, 3, 1))  # before c1's second order
    assert second.snapshot_id != first.snapshot_id
    assert _count(ws) == 3
    c1 = _profile(ws, "c1")
    assert (c1.profile["total_revenue"], c1.profile["days_since_last_order"], c1.snapshot_id) == (
        100.0,
        51,
        second.snapshot_id,
    )
    assert current_snapshot(ws).as_of == datetime(2024, 3, 1, tzinfo=UTC)
    assert _profile(ws, "c3").profile["subscription_status"] == "canceled"  # ended Feb 20


class _TickingClock:
    """A clock one minute later at every reading (creation times that differ, as in real life)."""

    def __init__(self) -> None:
        self.at = datetime(2024, 5, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self.at += timedelta(minutes=1)
        return self.at


def test_keeps_the_last_n_snapshots(tmp_path):
    ws = build_tiny(tmp_path / "ws", keep_snapshots=2)
    ws.clock = _TickingClock()
    ids = [refresh(ws, as_of=date(2024, 2, 1) if i % 2 else None).snapshot_id for i in range(3)]
    assert [s.id for s in marts_store(ws).snapshots()] == ids[1:]  # oldest-created first, the first one pruned
    assert current_snapshot(ws).id == ids[2]


def _active_at(subs: pd.DataFrame, t: pd.Timestamp) -> set[str]:
    running = (subs.started_at <= t) & (subs.ended_at.isna() | (subs.ended_at > t)) & (subs.status != "paused")
    return set(subs.loc[running, "customer_id"])


def test_synthetic_marts_match_an_independent_pandas_computation(tmp_path):
    ws = build_synthetic(tmp_path, customers=300)
    result = refresh(ws)
    snapshot = current_snapshot(ws)
    raw = tmp_path / "synthetic-subscription"
    subs = pd.read_parquet(raw / "subscriptions.parquet")
    for column in ("started_at", "ended_at"):
        subs[column] = pd.to_datetime(subs[column], utc=True)

    months = [r for r in snapshot.read("retention").to_pylist() if r["freq"] == "month"]
    assert len(months) >= 12
    for row in months:
        start, end = pd.Timestamp(row["period_start"]), pd.Timestamp(row["period_end"])
        s, e = _active_at(subs, start), _active_at(subs, end)
        assert (row["start_customers"], row["end_customers"], row["retained"]) == (len(s), len(e), len(s & e))

    # MRR at as_of = the last period's ending MRR; profiles: every customer any table mentions.
    at = pd.Timestamp(result.as_of)
    running = (subs.started_at <= at) & (subs.ended_at.isna() | (subs.ended_at > at)) & (subs.status != "paused")
    last_month = months[-1]
    mrr = [r for r in snapshot.read("mrr_summary").to_pylist() if r["freq"] == "month"][-1]
    assert mrr["period_end"] == last_month["period_end"] == result.as_of
    assert mrr["ending_mrr"] == pytest.approx(subs.loc[running, "mrr"].sum(), abs=1e-6)
    ids = set()
    for name in ("customers", "orders", "subscriptions", "events", "tickets", "feedback"):
        path = raw / f"{name}.parquet"
        if path.exists():
            ids |= set(pd.read_parquet(path, columns=["customer_id"]).customer_id)
    profiles = snapshot.read("profiles")
    assert profiles.num_rows == len(ids) == result.profiles_written
    assert _count(ws) == len(ids)
    assert set(snapshot.read("lifecycle").column("customer_id").to_pylist()) <= ids
    assert pc.sum(pc.is_null(profiles["lifecycle_state"])).as_py() < len(ids)


@pytest.mark.spark
@pytest.mark.slow
def test_pyspark_engine_gives_the_same_marts_as_duckdb(tmp_path, spark_backend):
    # ``spark_backend`` (tests/conftest.py) skips without Java, or fails under CI; the refresh reuses its session.
    duck = build_tiny(tmp_path / "duck")
    spark = build_tiny(tmp_path / "spark", engine="pyspark", segments={"big": "total_revenue >= 100"})
    duck_result = refresh(duck)
    spark_result = refresh(spark)
    assert spark_result.engine == "pyspark" and spark_result.as_of == duck_result.as_of
    a, b = current_snapshot(duck), current_snapshot(spark)
    assert set(b.marts) == set(a.marts) | {"segment_membership"}
    for name in a.marts:
        left, right = a.read(name).to_pandas(), b.read(name).to_pandas()
        assert list(left.columns) == list(right.columns), name
        pd.testing.assert_frame_equal(left, right, check_dtype=False, obj=name)
    assert b.read("segment_membership").to_pylist() == [{"customer_id": "c1", "segment": "big"}]
