"""DuckDB and PySpark give identical results on a few hundred random customers."""

from __future__ import annotations

from datetime import timedelta

import ibis
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from analytics_helpers import at, order, orders, run, sub, subscriptions

from retain.analytics import mrr_movements, mrr_summary, period_grid, retention_series, retention_series_orders

ORIGIN = at(2023, 1, 1)


def _random_facts(seed: int, customers: int):
    rng = np.random.default_rng(seed)
    subs, ords = [], []
    for c in range(customers):
        day = int(rng.integers(0, 500))
        for k in range(int(rng.integers(1, 5))):
            start = ORIGIN + timedelta(days=day, hours=int(rng.integers(0, 24)))
            length = int(rng.integers(1, 200))
            open_ended = rng.random() < 0.2
            status = str(rng.choice(["active", "paused", "canceled", "past_due"], p=[0.5, 0.15, 0.25, 0.1]))
            # MRR values that are exact in binary floating point, so sums cannot depend on summation order.
            mrr = float(rng.choice([0.0, 9.5, 19.0, 49.0, 149.0]))
            churn_type = rng.choice([None, "voluntary", "involuntary"])
            subs.append(
                sub(
                    f"c{c}",
                    mrr,
                    start,
                    None if open_ended else start + timedelta(days=length),
                    status,
                    churn_type=churn_type,
                    reason="payment_failed" if churn_type == "involuntary" else None,
                    sid=f"c{c}-{k}",
                )
            )
            day += length + int(rng.integers(0, 60))
        for k in range(int(rng.integers(0, 8))):
            when = ORIGIN + timedelta(days=int(rng.integers(0, 700)), minutes=int(rng.integers(0, 1440)))
            status = str(rng.choice(["completed", "refunded", "canceled"], p=[0.85, 0.1, 0.05]))
            ords.append(order(f"o{c}-{k}", f"c{c}", when, 25.0, status))
    return subscriptions(subs), orders(ords)


@pytest.mark.spark
def test_duckdb_and_pyspark_agree_exactly(duckdb_backend, spark_backend, tmp_path):
    subs, ords = _random_facts(seed=7, customers=300)
    pq.write_table(subs, tmp_path / "subscriptions.parquet")
    pq.write_table(ords, tmp_path / "orders.parquet")
    spark_subs = spark_backend.read_parquet(tmp_path / "subscriptions.parquet")
    spark_ords = spark_backend.read_parquet(tmp_path / "orders.parquet")
    months = period_grid(at(2023, 3, 1), at(2024, 9, 1), "month")
    quarters = period_grid(at(2023, 1, 1), at(2024, 12, 1), "quarter")

    metrics = [
        ("retention", lambda s, o: retention_series(s, months)),
        ("movements", lambda s, o: mrr_movements(s, quarters)),
        ("summary", lambda s, o: mrr_summary(s, months)),
        ("orders", lambda s, o: retention_series_orders(o, quarters, activity_window_days=60)),
    ]
    for name, metric in metrics:
        expected = run(duckdb_backend, metric(ibis.memtable(subs), ibis.memtable(ords)))
        got = run(spark_backend, metric(spark_subs, spark_ords))
        assert len(expected) > 0, name
        pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=name)
    # The data really exercises the interesting cases.
    movements = run(duckdb_backend, mrr_movements(ibis.memtable(subs), quarters))
    assert set(movements["movement"]) == {
        "new",
        "expansion",
        "contraction",
        "churned",
        "reactivation",
        "paused",
        "resumed",
    }
