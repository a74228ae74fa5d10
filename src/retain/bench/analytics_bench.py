"""``retain bench analytics``: retain's analytics on DuckDB against a plain pandas implementation of the same metrics.

For each size N the synthetic subscription company is generated once (Parquet) and ingested once into a workspace
under the work dir (both cached, not timed). Then, in the same process and alternating, the two jobs run
``repeats`` times each:

* **retain**: the marts refresh (``retain.marts.refresh``) when it exists, else the Ibis metrics the pandas
  baseline also computes (retention series, logo cohorts, RFM, customer profile) executed to Arrow on the
  workspace's DuckDB backend, reading the lake through ``Workspace.table``.
* **pandas**: :func:`retain.bench.pandas_baseline.compute_all` reading the same lake Parquet files.
"""

from __future__ import annotations

import importlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa

from retain.bench.measure import Measurement, measure, median_of
from retain.contract.tables import TABLES
from retain.errors import InputError

__all__ = [
    "AS_OF",
    "AnalyticsBenchResult",
    "bench_periods",
    "ibis_metrics",
    "pandas_job",
    "prepare_workspace",
    "retain_job",
    "retain_metrics",
    "retain_mode",
    "run_analytics_bench",
]

SYNTH_END = date(2025, 12, 31)
SYNTH_MONTHS = 24
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
"""The instant every metric describes: the day after the synthetic window ends."""
PERIODS_FROM = datetime(2024, 1, 1, tzinfo=UTC)
"""First month of the retention series and of the cohorts: the first month of the synthetic window."""
_READY = "ready.json"


def prepare_workspace(customers: int, work_dir: Path, *, seed: int = 0, on_step: Callable[[str], None] | None = None):
    """The workspace holding ``customers`` synthetic subscription customers, created once and cached.

    The data is generated as Parquet into ``work_dir/analytics-<N>/synth`` and ingested into the workspace
    ``work_dir/analytics-<N>/workspace``; a ``ready.json`` marker written last makes an interrupted preparation
    start over instead of being reused half-done.

    Returns
    -------
    retain.workspace.Workspace
        The opened workspace.
    """
    from retain.synth import generate
    from retain.workspace import Workspace

    if customers < 1:
        raise InputError(f"--customers must be at least 1, got {customers}.")
    root = Path(work_dir) / f"analytics-{customers}-seed{seed}"
    if (root / _READY).is_file():
        return Workspace.open(root / "workspace")
    shutil.rmtree(root, ignore_errors=True)
    synth_dir = root / "synth"
    if on_step:
        on_step(f"synthesise {customers:,} customers")
    summary = generate(synth_dir, customers=customers, seed=seed, fmt="parquet", end=SYNTH_END, months=SYNTH_MONTHS)
    ws = Workspace.init(root / "workspace")
    counts = {}
    for name in TABLES:
        file = synth_dir / f"{name}.parquet"
        if not file.exists():
            continue
        if on_step:
            on_step(f"ingest {name} ({summary.rows.get(str(name), 0):,} rows)")
        result = ws.ingest(name, file)
        counts[str(name)] = {"accepted": result.rows_accepted, "rejected": result.rows_rejected}
    shutil.rmtree(synth_dir, ignore_errors=True)  # the lake holds the data now; the copy only costs disk
    (root / _READY).write_text(json.dumps({"customers": customers, "seed": seed, "tables": counts}, indent=2))
    return ws


def bench_periods() -> list:
    """The monthly periods of the retention series: every month of the synthetic window."""
    from retain.analytics import period_grid

    return period_grid(PERIODS_FROM, AS_OF, "month")


def ibis_metrics(workspace, *, as_of: datetime = AS_OF, periods=None) -> dict[str, pa.Table]:
    """The metrics the pandas baseline computes, as retain's Ibis expressions executed to Arrow.

    Monthly retention series (subscriptions), monthly logo cohorts, RFM scores and — when
    ``retain.analytics.profile`` is importable — the customer profiles, each read from the lake through
    ``workspace.table`` and run on ``workspace.backend``.
    """
    from retain.analytics import retention_series
    from retain.analytics.cohorts import cohort_matrix
    from retain.analytics.rfm import rfm_scores
    from retain.engine import to_arrow

    backend = workspace.backend
    tables = {str(name): workspace.table(name) for name in TABLES}
    periods = bench_periods() if periods is None else periods
    out = {
        "retention_series": to_arrow(backend, retention_series(tables["subscriptions"], periods)),
        "cohorts": to_arrow(backend, cohort_matrix(tables["subscriptions"], as_of=as_of, measure="logo")),
        "rfm": to_arrow(backend, rfm_scores(tables["orders"], as_of=as_of)),
    }
    profiles = _optional("retain.analytics.profile", "customer_profiles")
    if profiles is not None:
        out["profiles"] = to_arrow(backend, profiles(tables, as_of=as_of))
    return out


def _optional(module: str, name: str):
    """``module.name`` if that module imports (metrics still being built are skipped, not fatal)."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def retain_mode() -> str:
    """``"refresh"`` when ``retain.marts.refresh`` exists, else ``"metrics"`` (the Ibis metrics to Arrow)."""
    return "refresh" if _optional("retain.marts", "refresh") is not None else "metrics"


def retain_job(workspace, *, as_of: datetime = AS_OF) -> object:
    """retain's side of the benchmark on a fresh DuckDB connection: the marts refresh, or :func:`ibis_metrics`."""
    from retain.workspace import Workspace

    fresh = Workspace(workspace.settings)  # no buffers or caches left over from a previous run
    try:
        refresh = _optional("retain.marts", "refresh")
        if refresh is not None:
            return refresh(fresh, as_of=as_of)
        return ibis_metrics(fresh, as_of=as_of)
    finally:
        if "backend" in fresh.__dict__:
            fresh.backend.disconnect()


def retain_metrics() -> tuple[str, ...]:
    """Names of the metrics retain's side computes (the profile only once its module imports)."""
    base = ("retention_series", "cohorts", "rfm")
    if retain_mode() == "refresh" or _optional("retain.analytics.profile", "customer_profiles") is not None:
        return (*base, "profiles")
    return base


def pandas_job(workspace, *, as_of: datetime = AS_OF, metrics: tuple[str, ...] | None = None) -> dict:
    """The pandas baseline on the same lake files (by default the metrics retain's side computes)."""
    from retain.bench.pandas_baseline import compute_all

    metrics = retain_metrics() if metrics is None else metrics
    return compute_all(workspace.lake, as_of=as_of, periods=bench_periods(), metrics=metrics)


@dataclass(frozen=True)
class AnalyticsBenchResult:
    """Medians of one size: ``retain`` and ``pandas`` measurements and the data volume they read."""

    customers: int
    rows: dict[str, int]
    repeats: int
    mode: str
    metrics: tuple[str, ...]
    retain: Measurement
    pandas: Measurement

    @property
    def ratio(self) -> float:
        """pandas seconds / retain seconds: how many times faster retain is."""
        return self.pandas.seconds / self.retain.seconds

    @property
    def lake_rows(self) -> int:
        return sum(self.rows.values())


def run_analytics_bench(
    customers: int,
    *,
    repeats: int = 3,
    work_dir: Path | None = None,
    seed: int = 0,
    on_step: Callable[[str], None] | None = None,
    on_run: Callable[[str, int, Measurement], None] | None = None,
) -> AnalyticsBenchResult:
    """Prepare (cached) the workspace of ``customers`` customers, then time both jobs ``repeats`` times each,
    alternating which one goes first, and return the medians."""
    work_dir = Path(work_dir or Path(tempfile.gettempdir()) / "retain-bench")
    ws = prepare_workspace(customers, work_dir, seed=seed, on_step=on_step)
    ready = json.loads((ws.path.parent / _READY).read_text())
    rows = {name: t["accepted"] for name, t in ready["tables"].items()}
    mode, metrics = retain_mode(), retain_metrics()
    jobs = {f"retain {mode}": lambda: retain_job(ws), "pandas": lambda: pandas_job(ws, metrics=metrics)}
    runs: dict[str, list[Measurement]] = {name: [] for name in jobs}
    for i in range(repeats):
        order = list(jobs) if i % 2 == 0 else list(reversed(jobs))
        for name in order:
            m, _ = measure(jobs[name])
            runs[name].append(m)
            if on_run:
                on_run(name, i, m)
    retain_runs, pandas_runs = runs[f"retain {mode}"], runs["pandas"]
    return AnalyticsBenchResult(customers, rows, repeats, mode, metrics, median_of(retain_runs), median_of(pandas_runs))
