"""The pandas baseline computes the SAME numbers as retain's Ibis metrics (otherwise the benchmark compares
different work): checked on a small synthetic company (every column, every row) and on hand-written timelines."""

from __future__ import annotations

from datetime import UTC, datetime

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from retain.analytics import period_grid, retention_series
from retain.analytics.cohorts import cohort_matrix
from retain.analytics.rfm import rfm_scores
from retain.bench import pandas_baseline as pb
from retain.bench.analytics_bench import AS_OF, bench_periods, ibis_metrics
from retain.contract import TABLES
from retain.engine import connect, to_pandas
from retain.ingest import ingest
from retain.lake import Lake


def _norm(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.astype("datetime64[us, UTC]")
    return s.astype(object).where(s.notna(), None)


def assert_same(ibis_frame: pd.DataFrame, pandas_frame: pd.DataFrame, columns) -> None:
    """Same rows in the same order, every value equal (nulls in the same places), column by column."""
    assert len(ibis_frame) == len(pandas_frame)
    for col in columns:
        x, y = _norm(ibis_frame[col]).reset_index(drop=True), _norm(pandas_frame[col]).reset_index(drop=True)
        nx, ny = x.isna().to_numpy(), y.isna().to_numpy()
        differ = (nx != ny) | (~nx & ~ny & (x.to_numpy() != y.to_numpy()))
        assert not differ.any(), (
            f"{col}: {int(differ.sum())} rows differ, e.g.\n{pd.DataFrame({'ibis': x, 'pandas': y})[differ].head()}"
        )


# --- a small synthetic company: every metric, every row --------------------------------------------------------


@pytest.fixture(scope="module")
def both(synth_workspace):
    ibis_side = {name: table.to_pandas() for name, table in ibis_metrics(synth_workspace).items()}
    pandas_side = pb.compute_all(synth_workspace.lake, as_of=AS_OF, periods=bench_periods())
    return ibis_side, pandas_side


def test_synthetic_company_is_not_trivial(both):
    ibis_side, _ = both
    series = ibis_side["retention_series"]
    assert series["lost_voluntary"].sum() > 0 and series["lost_involuntary"].sum() > 0
    assert series["paused"].sum() > 0 and series["resumed"].sum() > 0
    assert ibis_side["rfm"]["segment"].nunique() >= 5
    assert (ibis_side["profiles"]["tickets_open"] > 0).any() and ibis_side["profiles"]["nps_score"].notna().any()


def test_retention_series_matches_ibis(both):
    ibis_side, pandas_side = both
    assert len(pandas_side["retention_series"]) == 24
    assert_same(ibis_side["retention_series"], pandas_side["retention_series"], pb.SERIES_COLUMNS)


def test_cohort_matrix_matches_ibis(both):
    ibis_side, pandas_side = both
    assert_same(ibis_side["cohorts"], pandas_side["cohorts"], pb.COHORT_COLUMNS)


def test_rfm_matches_ibis(both):
    ibis_side, pandas_side = both
    assert_same(ibis_side["rfm"], pandas_side["rfm"], pb.RFM_COLUMNS)


def test_profile_matches_ibis(both):
    ibis_side, pandas_side = both
    assert len(pandas_side["profiles"]) == 1_500
    assert_same(ibis_side["profiles"], pandas_side["profiles"], pb.PROFILE_COLUMNS)


# --- hand-written timelines ------------------------------------------------------------------------------------


def _ts(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _subscriptions(rows: list[tuple]) -> pa.Table:
    names = ("subscription_id", "customer_id", "plan", "mrr", "started_at", "ended_at", "status", "cancel_reason")
    data = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    data["churn_type"] = [None] * len(rows)
    data["billing_period_months"] = [1] * len(rows)
    schema = TABLES["subscriptions"].arrow_schema
    return pa.table({f.name: pa.array(data[f.name], f.type) for f in schema}, schema=schema)


TIMELINE = _subscriptions(
    [
        # a: stays all along; b: leaves voluntarily mid-February; c: card fails (involuntary) mid-February;
        # d: pauses in February, resumes in March; e: signs up in February; f: a zero-length period never runs.
        ("s1", "a", "pro", 50.0, _ts(2023, 12, 5), None, "active", None),
        ("s2", "b", "pro", 20.0, _ts(2023, 12, 10), _ts(2024, 2, 15), "canceled", "price"),
        ("s3", "c", "basic", 10.0, _ts(2023, 12, 20), _ts(2024, 2, 10), "canceled", "payment_failed"),
        ("s4", "d", "basic", 10.0, _ts(2023, 12, 1), _ts(2024, 2, 3), "active", None),
        ("s4", "d", "basic", 0.0, _ts(2024, 2, 3), _ts(2024, 3, 3), "paused", None),
        ("s4", "d", "basic", 10.0, _ts(2024, 3, 3), None, "active", None),
        ("s5", "e", "pro", 50.0, _ts(2024, 2, 20), None, "active", None),
        ("s6", "f", "pro", 50.0, _ts(2024, 1, 7), _ts(2024, 1, 7), "canceled", "other"),
    ]
)


def test_retention_series_of_a_hand_written_timeline():
    periods = period_grid(_ts(2024, 1, 1), _ts(2024, 4, 1))
    got = pb.retention_series(TIMELINE.to_pandas(), periods)
    # Jan: a b c d active at both ends. Feb: b (voluntary) and c (involuntary) lost, d paused, e acquired.
    # Mar: d resumes.
    assert got["start_customers"].tolist() == [4, 4, 2]
    assert got["end_customers"].tolist() == [4, 2, 3]
    assert got["lost_voluntary"].tolist() == [0, 1, 0]
    assert got["lost_involuntary"].tolist() == [0, 1, 0]
    assert got["paused"].tolist() == [0, 1, 0]
    assert got["acquired"].tolist() == [0, 1, 0]
    assert got["resumed"].tolist() == [0, 0, 1]
    assert got["retention_rate"].tolist() == [100.0, 25.0, 100.0]
    assert got["churn_rate"].tolist() == [0.0, 50.0, 0.0]
    expected = to_pandas(connect(), retention_series(ibis.memtable(TIMELINE), periods))
    assert_same(expected, got, pb.SERIES_COLUMNS)


def test_cohort_matrix_of_a_hand_written_timeline():
    as_of = _ts(2024, 3, 15)
    got = pb.cohort_matrix(TIMELINE.to_pandas(), as_of=as_of)
    dec = got[got["cohort"] == pd.Timestamp("2023-12-01", tz="UTC")]
    # December cohort a b c d: all active on Jan 1 and Feb 1; on Mar 1 only a (d is paused).
    assert dec["customers"].tolist() == [4, 4, 4, 1]
    assert dec["share"].tolist() == [1.0, 1.0, 1.0, 0.25]
    feb = got[got["cohort"] == pd.Timestamp("2024-02-01", tz="UTC")]
    assert feb["customers"].tolist() == [1, 1]
    expected = to_pandas(connect(), cohort_matrix(ibis.memtable(TIMELINE), as_of=as_of))
    assert_same(expected, got, pb.COHORT_COLUMNS)


def test_rfm_ties_refunds_and_cancellations():
    rows = [  # order_id, customer, day, amount, status
        ("o1", "x", 1, 100.0, "completed"),
        ("o2", "x", 20, 50.0, "completed"),
        ("o3", "x", 21, -30.0, "refunded"),
        ("o4", "y", 20, 120.0, "completed"),
        ("o5", "y", 25, 999.0, "canceled"),
        ("o6", "z", 5, 10.0, "completed"),
        ("o7", "w", 10, -5.0, "refunded"),  # only a refund: not scored
    ]
    schema = TABLES["orders"].arrow_schema
    data = {
        "order_id": [r[0] for r in rows],
        "customer_id": [r[1] for r in rows],
        "ordered_at": [_ts(2024, 1, r[2], 12) for r in rows],
        "amount": [r[3] for r in rows],
        "status": [r[4] for r in rows],
    }
    table = pa.table({f.name: pa.array(data.get(f.name, [None] * len(rows)), f.type) for f in schema}, schema=schema)
    got = pb.rfm_scores(table.to_pandas(), as_of=_ts(2024, 2, 1))
    assert got["customer_id"].tolist() == ["x", "y", "z"]
    assert got["recency_days"].tolist() == [11, 11, 26]  # x and y tie on recency: same score
    assert got["frequency"].tolist() == [2, 1, 1]
    assert got["monetary"].tolist() == [120.0, 120.0, 10.0]
    assert got["r_score"].tolist() == [2, 2, 1]  # k = 1 worse customer of 3: 1 + 5 // 3
    assert got["f_score"].tolist() == [4, 1, 1]
    expected = to_pandas(connect(), rfm_scores(ibis.memtable(table), as_of=_ts(2024, 2, 1)))
    assert_same(expected, got, pb.RFM_COLUMNS)


def test_rounding_is_half_away_from_zero_like_duckdb():
    values = pd.Series([0.78125, -0.78125, 2.5, 0.125, np.nan])
    assert pb._round(values, 4).tolist()[:4] == [0.7813, -0.7813, 2.5, 0.125]
    assert pb._round(values, 0).tolist()[:3] == [1.0, -1.0, 3.0]
    assert np.isnan(pb._round(values, 2).iloc[4])


def test_read_lake_table_keeps_the_newest_version_of_each_key(tmp_path):
    lake = Lake(tmp_path / "lake")
    first = TIMELINE.slice(0, 3)
    changed = TIMELINE.slice(1, 1).set_column(3, "mrr", pa.array([99.0]))  # s2 re-sent with a new price
    ingest(lake, "subscriptions", first)
    ingest(lake, "subscriptions", changed)
    got = pb.read_lake_table(lake, "subscriptions").sort_values("subscription_id")
    assert got["subscription_id"].tolist() == ["s1", "s2", "s3"]
    assert got["mrr"].tolist() == [50.0, 99.0, 10.0]
