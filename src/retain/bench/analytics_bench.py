"""``retain bench analytics``: retain's analytics on DuckDB against a plain pandas implementation of the same metrics.

For each size N the synthetic subscription company is generated once (Parquet) and ingested once into a workspace
under the work dir (both cached, not timed). Then, in the same process, up to three jobs run ``repeats`` times
each, rotating which goes first:

* ``refresh``: retain's full analytics refresh (:func:`retain.services.refresh`: every mart into a snapshot, every
  profile written into an empty SQLite state DB, made current together) — more work than the baseline does;
* ``metrics``: exactly the baseline's metrics (monthly retention series, logo cohorts, RFM and — once its module
  imports — the customer profiles) as retain's Ibis expressions executed to Arrow, reading the lake through
  ``Workspace.table``;
* ``pandas``: :func:`retain.bench.pandas_baseline.compute_all` reading the same lake Parquet files.

retain's jobs get a fresh DuckDB connection each run, so no run reuses a previous run's buffers.
"""

from __future__ import annotations

import importlib
import json
import shutil
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import psutil
import pyarrow as pa

from retain.bench.measure import Measurement, measure, median_of
from retain.contract.tables import TABLES
from retain.errors import InputError

__all__ = [
    "AS_OF",
    "JOBS",
    "AnalyticsBenchResult",
    "JobFigures",
    "bench_periods",
    "ibis_metrics",
    "metrics_job",
    "pandas_job",
    "prepare_workspace",
    "refresh_job",
    "retain_metrics",
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


def _fresh_workspace(workspace):
    from retain.workspace import Workspace

    return Workspace(workspace.settings)  # a new DuckDB connection: no buffers or caches from a previous run


def _close(workspace) -> None:
    if "backend" in workspace.__dict__:
        workspace.backend.disconnect()


def refresh_job(workspace, *, as_of: datetime = AS_OF) -> object:
    """retain's full analytics refresh (``retain.services.refresh``) into an empty state database.

    Each run gets a new SQLite state database, so every profile is written (the first refresh of a workspace,
    the most work a refresh does); a refresh that finds its profiles unchanged would write none.
    """
    from retain.services import refresh
    from retain.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="retain-bench-state-") as state:
        fresh = Workspace.open(workspace.path, database_url=f"sqlite:///{Path(state) / 'state.db'}")
        try:
            return refresh(fresh, as_of=as_of)
        finally:
            _close(fresh)


def metrics_job(workspace, *, as_of: datetime = AS_OF) -> dict[str, pa.Table]:
    """Exactly the metrics of the pandas baseline, as retain's Ibis expressions on a fresh DuckDB connection."""
    fresh = _fresh_workspace(workspace)
    try:
        return ibis_metrics(fresh, as_of=as_of)
    finally:
        _close(fresh)


def retain_metrics() -> tuple[str, ...]:
    """Names of the metrics :func:`ibis_metrics` computes (the profile only once its module imports)."""
    base = ("retention_series", "cohorts", "rfm")
    if _optional("retain.analytics.profile", "customer_profiles") is not None:
        return (*base, "profiles")
    return base


def pandas_job(workspace, *, as_of: datetime = AS_OF, metrics: tuple[str, ...] | None = None) -> dict:
    """The pandas baseline on the same lake files (by default the metrics :func:`ibis_metrics` computes)."""
    from retain.bench.pandas_baseline import compute_all

    metrics = retain_metrics() if metrics is None else metrics
    return compute_all(workspace.lake, as_of=as_of, periods=bench_periods(), metrics=metrics)


JOBS = ("refresh", "metrics", "pandas")
"""The jobs a run can time: retain's full refresh, retain's Ibis metrics of the baseline, the pandas baseline."""


@dataclass(frozen=True)
class JobFigures:
    """Medians over the runs of one job."""

    seconds: float
    cpu_seconds: float
    """Process CPU time (user + system, all threads): less sensitive than wall time to a busy machine."""
    peak_rss_mb: float


@dataclass(frozen=True)
class AnalyticsBenchResult:
    """Medians of one size for each job that ran, and the data volume they read."""

    customers: int
    rows: dict[str, int]
    repeats: int
    metrics: tuple[str, ...]
    jobs: dict[str, JobFigures]

    def ratio(self, job: str) -> float | None:
        """pandas seconds / ``job`` seconds (how many times faster ``job`` is), if both ran."""
        if job not in self.jobs or "pandas" not in self.jobs:
            return None
        return self.jobs["pandas"].seconds / self.jobs[job].seconds

    @property
    def lake_rows(self) -> int:
        return sum(self.rows.values())


def run_analytics_bench(
    customers: int,
    *,
    repeats: int = 3,
    jobs: tuple[str, ...] = JOBS,
    work_dir: Path | None = None,
    seed: int = 0,
    on_step: Callable[[str], None] | None = None,
    on_run: Callable[[str, int, Measurement, float], None] | None = None,
) -> AnalyticsBenchResult:
    """Prepare (cached) the workspace of ``customers`` customers, then time each of ``jobs`` ``repeats`` times,
    rotating which job goes first, and return the medians.

    Raises
    ------
    InputError
        If a job name is unknown.
    """
    unknown = [j for j in jobs if j not in JOBS]
    if unknown or not jobs:
        raise InputError(f"Unknown benchmark job(s) {unknown or jobs!r}. Valid jobs: {', '.join(JOBS)}.")
    work_dir = Path(work_dir or Path(tempfile.gettempdir()) / "retain-bench")
    ws = prepare_workspace(customers, work_dir, seed=seed, on_step=on_step)
    ready = json.loads((ws.path.parent / _READY).read_text())
    rows = {name: t["accepted"] for name, t in ready["tables"].items()}
    metrics = retain_metrics()
    funcs = {
        "refresh": lambda: refresh_job(ws),
        "metrics": lambda: metrics_job(ws),
        "pandas": lambda: pandas_job(ws, metrics=metrics),
    }
    names = [j for j in JOBS if j in jobs]
    runs: dict[str, list[tuple[Measurement, float]]] = {name: [] for name in names}
    process = psutil.Process()
    for i in range(repeats):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            before = process.cpu_times()
            m, _ = measure(funcs[name])
            after = process.cpu_times()
            cpu = (after.user + after.system) - (before.user + before.system)
            runs[name].append((m, cpu))
            if on_run:
                on_run(name, i, m, cpu)
    figures = {}
    for name, done in runs.items():
        med = median_of([m for m, _ in done])
        figures[name] = JobFigures(med.seconds, statistics.median(c for _, c in done), med.peak_rss_mb)
    return AnalyticsBenchResult(customers, rows, repeats, metrics, figures)
