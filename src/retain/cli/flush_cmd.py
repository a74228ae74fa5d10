"""``retain flush``: move the facts posted live (waiting in the inbox) into the lake."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID

from retain.cli._common import WorkspaceOption, console, handle_errors, progress_bar
from retain.cli._safe import safe_markup, safe_text
from retain.cli._tables import Col, fit_table
from retain.contract.tables import TableName
from retain.services.live_facts import FiredFlush, flush_and_fire, flush_inbox
from retain.workspace import Workspace

__all__ = ["flush"]


def _report(result: FiredFlush, *, fire: bool) -> None:
    flushed = result.flush
    if flushed.recovered or flushed.released:
        console.print(
            f"A flush that was killed left {flushed.recovered:,} facts already in the lake (now marked flushed) and "
            f"{flushed.released:,} not yet written (flushed now).",
            highlight=False,
        )
    if not flushed.tables:
        console.print("The inbox holds no facts waiting for a flush; nothing written.", highlight=False)
    else:
        rows = [[t.table, f"{t.rows:,}", safe_text(t.source), safe_text(t.batch_id)] for t in flushed.tables]
        columns = [Col("table", "table"), Col("facts", "facts", "right"), Col("from", "from"), Col("batch", "batch")]
        console.print(fit_table(columns, rows, width=console.width, title="Flushed into the lake"))
        batches = len(flushed.tables)
        console.print(f"{flushed.rows:,} facts in {batches} batch{'es' if batches > 1 else ''}.", highlight=False)
    if result.playbooks is not None:
        for run in result.playbooks.playbooks:
            line = f"playbook {safe_markup(run.name)}: {run.entered:,} entered ({run.entered_holdout:,} held out)"
            console.print(line + (f", error: {safe_markup(run.error)}" if run.error else ""), highlight=False)
    elif fire:
        console.print(
            "No playbook ran: no events were flushed, or no enabled playbook has an event trigger.", highlight=False
        )


@handle_errors
def flush(
    workspace: WorkspaceOption = Path("."),
    table: Annotated[
        list[TableName] | None,
        typer.Option("--table", "-t", help="Flush only this table. Repeatable.", case_sensitive=False),
    ] = None,
    fire: Annotated[
        bool,
        typer.Option("--fire", help="Then run the enabled playbooks with an event trigger (when events came in)."),
    ] = False,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to wait for another flush or ingest to finish.")
    ] = 60.0,
) -> None:
    """Move the facts posted live (waiting in the inbox) into the lake: one batch per table.

    Facts posted to the API wait in the state database's inbox; `retain serve` flushes them every few seconds
    (retain.toml, inbox table: flush_seconds, flush_rows), this command at once. Each table's facts become one
    batch in the order they were received, recorded as an ingest run (see `retain status`). Safe to run at any
    time, also twice at once or after a flush was killed: no fact is lost or written twice.

    Examples:
      retain flush -w shop
      retain flush -w shop --table events --fire
    """
    ws = Workspace.open(workspace)
    names = [t.value for t in table] if table else None
    with progress_bar() as bar:
        tasks: dict[str, TaskID] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"flush {name}", total=total)
            bar.update(tasks[name], completed=done, total=total)

        if fire:
            result = flush_and_fire(ws, tables=names, progress=progress, wait=wait)
        else:
            result = FiredFlush(flush_inbox(ws, tables=names, progress=progress, wait=wait))
    _report(result, fire=fire)
