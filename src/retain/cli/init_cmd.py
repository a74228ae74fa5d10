"""``retain init`` and ``retain status``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from retain import services
from retain.cli._common import WorkspaceOption, console, handle_errors
from retain.services import TableSummary
from retain.workspace import Workspace

__all__ = ["init", "status", "summary_table"]


@handle_errors
def init(path: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")] = Path(".")) -> None:
    """Create a workspace: retain.toml, data/, marts/, models/, playbooks/ and the state database."""
    workspace = Workspace.init(path)
    console.print(f"Workspace ready at [bold]{workspace.path.resolve()}[/]")
    console.print(f"  settings  {workspace.path / 'retain.toml'}")
    console.print(f"  state     {workspace.settings.resolved_database_url}")
    console.print(f"Next: [bold]retain ingest orders FILE -w {path}[/]  (see `retain schema` for the columns)")


def summary_table(rows: list[TableSummary], title: str = "Workspace data") -> Table:
    table = Table(title=title)
    for header, justify in (
        ("table", "left"),
        ("rows", "right"),
        ("from", "left"),
        ("to", "left"),
        ("batches", "right"),
        ("rejected rows", "right"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for s in rows:
        table.add_row(
            s.table,
            f"{s.rows:,}",
            s.first.strftime("%Y-%m-%d") if s.first else "—",
            s.last.strftime("%Y-%m-%d") if s.last else "—",
            str(s.batches),
            f"{s.rejected_rows:,}",
        )
    return table


@handle_errors
def status(workspace: WorkspaceOption = Path(".")) -> None:
    """Show what the workspace holds: rows and date range per table, and the latest ingests."""
    state = services.status(Workspace.open(workspace))
    console.print(summary_table(state.tables))
    runs = state.runs
    if runs:
        table = Table(title="Latest ingests")
        for header in ("started", "table", "status", "accepted", "rejected", "source"):
            table.add_column(header)
        for run in runs:
            table.add_row(
                run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                run.table_name,
                str(run.status),
                f"{run.rows_accepted:,}",
                f"{run.rows_rejected:,}",
                run.source,
            )
        console.print(table)
    snapshot = state.snapshot
    console.print(
        f"Current snapshot: {snapshot.snapshot_id} (as of {snapshot.as_of:%Y-%m-%d %H:%M} UTC)"
        if snapshot
        else "No analytics snapshot yet: run `retain refresh`.",
        highlight=False,
    )
    console.print(
        f"Churn model: {state.churn_model}" if state.churn_model else "No churn model yet: run `retain model train`.",
        highlight=False,
    )
