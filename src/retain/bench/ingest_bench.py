"""``retain bench ingest``: our validated ingest against DuckDB's bare CSV-to-Parquet conversion of the same file."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import duckdb

from retain.bench.measure import Measurement, measure, median_of
from retain.ingest import ingest
from retain.lake import Lake

__all__ = ["IngestBenchResult", "make_orders_csv", "run_ingest_bench"]

# A realistic orders export: 10 % of customers order again and again, a few refunds, a discount code on some.
_ORDERS_QUERY = """
SELECT
    'O' || lpad(CAST(i AS VARCHAR), 10, '0')                                        AS order_id,
    'C' || lpad(CAST(hash(i) % greatest($n // 8, 1) AS VARCHAR), 8, '0')            AS customer_id,
    TIMESTAMP '2023-01-01' + to_seconds(CAST(hash(i * 7) % 63072000 AS BIGINT))      AS ordered_at,
    CASE WHEN hash(i * 3) % 50 = 0 THEN -round((hash(i * 5) % 20000) / 100.0, 2)
         ELSE round((hash(i * 5) % 20000) / 100.0, 2) END                            AS amount,
    CASE WHEN hash(i * 3) % 50 = 0 THEN 'refunded'
         WHEN hash(i * 3) % 50 = 1 THEN 'canceled' ELSE 'completed' END              AS status,
    CAST(1 + hash(i * 11) % 6 AS INTEGER)                                            AS items,
    CASE WHEN hash(i * 13) % 10 = 0 THEN 'WELCOME10' END                             AS discount_code,
    CASE WHEN hash(i * 17) % 3 = 0 THEN 'app' ELSE 'web' END                         AS channel
FROM range($n) t(i)
"""


def make_orders_csv(path: Path, rows: int) -> Path:
    """Write a deterministic ``rows``-row orders CSV (cached: an existing file of that name is reused)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect()
    con.sql(_ORDERS_QUERY, params={"n": rows}).write_csv(str(tmp), header=True)
    tmp.rename(path)
    return path


@dataclass(frozen=True)
class IngestBenchResult:
    rows: int
    file_mb: float
    repeats: int
    baseline: Measurement
    retain: Measurement
    accepted: int

    @property
    def ratio(self) -> float:
        return self.retain.seconds / self.baseline.seconds

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.retain.seconds


def _duckdb_convert(csv: Path, out: Path) -> None:
    con = duckdb.connect()
    con.read_csv(str(csv)).write_parquet(str(out))
    con.close()


def run_ingest_bench(
    rows: int,
    *,
    repeats: int = 3,
    work_dir: Path | None = None,
    on_run: Callable[[str, int, Measurement], None] | None = None,
) -> IngestBenchResult:
    """Median time and peak memory of both jobs over ``repeats`` alternating runs on the same file."""
    work_dir = Path(work_dir or tempfile.gettempdir()) / "retain-bench"
    csv = make_orders_csv(work_dir / f"orders-{rows}.csv", rows)
    base_runs, our_runs, accepted = [], [], 0
    for i in range(repeats):
        scratch = Path(tempfile.mkdtemp(dir=work_dir))
        try:
            base, _ = measure(partial(_duckdb_convert, csv, scratch / "baseline.parquet"))
            base_runs.append(base)
            if on_run:
                on_run("duckdb csv→parquet", i, base)
            ours, result = measure(partial(ingest, Lake(scratch / "lake"), "orders", csv))
            our_runs.append(ours)
            accepted = result.rows_accepted
            if on_run:
                on_run("retain ingest", i, ours)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return IngestBenchResult(
        rows, csv.stat().st_size / 2**20, repeats, median_of(base_runs), median_of(our_runs), accepted
    )
