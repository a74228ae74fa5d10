"""What a workspace holds: rows and time range per table, rejected rows, the latest ingests, the current
snapshot and churn model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from retain.contract.tables import TABLES
from retain.services.training import churn_registry
from retain.state import IngestRun, RunStatus, list_runs
from retain.state.workspace_row import CurrentSnapshot, current_snapshot
from retain.workspace import Workspace

__all__ = ["TableSummary", "WorkspaceStatus", "status", "table_summaries"]


@dataclass(frozen=True)
class TableSummary:
    table: str
    rows: int
    first: datetime | None
    last: datetime | None
    batches: int
    rejected_rows: int


@dataclass(frozen=True)
class WorkspaceStatus:
    tables: list[TableSummary]
    runs: list[IngestRun]
    snapshot: CurrentSnapshot | None
    churn_model: str | None


def table_summaries(ws: Workspace) -> list[TableSummary]:
    """Rows, time range, batches and rejected rows per canonical table (one fixed view of the lake)."""
    facts = ws.facts()
    with ws.connect() as connection:
        runs = list_runs(connection, limit=100_000)
    rejected: dict[str, int] = {}
    for run in runs:
        if run.status in (RunStatus.COMMITTED, RunStatus.FAILED):
            rejected[run.table_name] = rejected.get(run.table_name, 0) + run.rows_rejected
    out = []
    for name, spec in TABLES.items():
        files = facts.view.batch_files(name)
        rows, first, last = 0, None, None
        table = facts.table(name)
        if table is not None:
            stats = facts.backend.to_pyarrow(
                table.aggregate(
                    rows=table.count(), first=table[spec.time_column].min(), last=table[spec.time_column].max()
                )
            ).to_pylist()[0]
            rows, first, last = stats["rows"], stats["first"], stats["last"]
        out.append(TableSummary(str(name), rows, first, last, len(files), rejected.get(str(name), 0)))
    return out


def status(ws: Workspace, *, runs: int = 10) -> WorkspaceStatus:
    """The tables, the latest ``runs`` ingests, the current snapshot and the current churn model of ``ws``."""
    with ws.connect() as connection:
        latest = list_runs(connection, limit=runs)
        snapshot = current_snapshot(connection)
    return WorkspaceStatus(table_summaries(ws), latest, snapshot, churn_registry(ws).current())
