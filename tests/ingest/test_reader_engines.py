"""The lake reader gives the same latest-per-key rows on DuckDB and PySpark, with several batches."""

from __future__ import annotations

import pandas as pd
import pytest

from retain.engine import connect
from retain.ingest import ingest
from retain.lake import read_table

FIRST = pd.DataFrame(
    {
        "order_id": ["o1", "o2"],
        "customer_id": ["c1", "c2"],
        "ordered_at": ["2025-01-01", "2025-01-02"],
        "amount": [1.0, 2.0],
        "status": ["completed", "completed"],
    }
)
SECOND = pd.DataFrame(
    {
        "order_id": ["o2", "o3"],
        "customer_id": ["c2", "c3"],
        "ordered_at": ["2025-01-02", "2025-01-03"],
        "amount": [5.0, 3.0],
        "status": ["canceled", "completed"],
    }
)
EXPECTED = [["o1", 1.0, "completed"], ["o2", 5.0, "canceled"], ["o3", 3.0, "completed"]]


def _rows(backend, lake):
    frame = backend.to_pandas(read_table(backend, lake, "orders")).sort_values("order_id")
    return frame[["order_id", "amount", "status"]].values.tolist()


def test_duckdb_reads_latest_version_across_batches(lake):
    ingest(lake, "orders", FIRST)
    ingest(lake, "orders", SECOND)
    assert _rows(connect("duckdb"), lake) == EXPECTED


@pytest.mark.spark
def test_pyspark_reads_the_same_rows(lake, spark_backend):
    ingest(lake, "orders", FIRST)
    ingest(lake, "orders", SECOND)
    assert _rows(spark_backend, lake) == EXPECTED
