"""``retain init`` and ``retain status``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from retain import services
from retain.cli._common import WorkspaceOption, console, handle_errors
from retain.cli._safe import safe_markup, safe_text
from retain.cli._tables import Col, Fitted, fit_table
from retain.services import TableSummary
from retain.workspace import Workspace

__all__ = ["init", "status", "summary_table"]


@handle_errors
def init(path: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")] = Path(".")) -> None:
    """Create a workspace: retain.toml, data/, marts/, models/, playbooks/ and the state database.

    Examples:
      retain init shop
      RETAIN_DATABASE_URL=postgresql+psycopg://u:pw@host/db retain init shop
    """
    workspace = Workspace.init(path)
    console.print(f"Workspace ready at [bold]{safe_markup(workspace.path.resolve())}[/]", highlight=False)
    console.print(f"  settings  {safe_markup(workspace.path / 'retain.toml')}", highlight=False)
    console.print(f"  state     {safe_markup(workspace.settings.resolved_database_url)}", highlight=False)
    console.print(
        f"Next: [bold]retain ingest orders FILE -w {safe_markup(path)}[/]  (see `retain schema` for the columns)",
        highlight=False,
    )


def summary_table(rows: list[TableSummary], title: str = "Workspace data") -> Fitted:
    """Rows, date range, batches and rejected rows per canonical table."""
    columns = [
        Col("table", "table"),
        Col("rows", "rows", "right"),
        Col("from", "from"),
        Col("to", "to"),
        Col("batches", "batches", "right"),
        Col("rejected", "rejected rows", "right"),
    ]
    cells = [
        [
            s.table,
            f"{s.rows:,}",
            s.first.strftime("%Y-%m-%d") if s.first else "—",
            s.last.strftime("%Y-%m-%d") if s.last else "—",
            f"{s.batches:,}",
            f"{s.rejected_rows:,}",
        ]
        for s in rows
    ]
    return fit_table(columns, cells, width=console.width, title=safe_text(title))


@handle_errors
def status(workspace: WorkspaceOption = Path(".")) -> None:
    """Show what the workspace holds: rows and date range per table, and the latest ingests.

    Example: retain status -w shop
    """
    state = services.status(Workspace.open(workspace))
    console.print(summary_table(state.tables))
    runs = state.runs
    if runs:
        columns = [
            Col("started", "started"),
            Col("table", "table"),
            Col("status", "status"),
            Col("accepted", "accepted", "right"),
            Col("rejected", "rejected", "right"),
            Col("source", "source file", wrap=True, min_width=16),
        ]
        cells = [
            [
                run.started_at.strftime("%Y-%m-%d\n%H:%M:%S"),  # two short lines leave room for the source
                run.table_name,
                safe_text(run.status),
                f"{run.rows_accepted:,}",
                f"{run.rows_rejected:,}",
                safe_text(Path(run.source).name if run.source else ""),
            ]
            for run in runs
        ]
        console.print(fit_table(columns, cells, width=console.width, title="Latest ingests"))
    snapshot = state.snapshot
    console.print(
        f"Current snapshot: {snapshot.snapshot_id} (as of {snapshot.as_of:%Y-%m-%d %H:%M} UTC)"
        if snapshot
        else "No analytics snapshot yet: run `retain refresh`.",
        highlight=False,
    )
    console.print(
        f"Churn model: {safe_markup(state.churn_model)}"
        if state.churn_model
        else "No churn model yet: run `retain model train`.",
        highlight=False,
    )
