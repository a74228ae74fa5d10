"""``retain ingest``: load a file into a canonical table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from retain.cli._common import WorkspaceOption, console, handle_errors, progress_bar
from retain.cli._safe import safe_markup, safe_text
from retain.cli._tables import Col, fit_table
from retain.contract.presets import PresetName
from retain.contract.tables import TableName
from retain.ingest import IngestResult, IngestStatus, parse_assignments
from retain.workspace import Workspace

__all__ = ["ingest", "report_ingest"]


def report_ingest(result: IngestResult) -> None:
    """What an ingest did: rows read, accepted and rejected (by reason), where the rejects are, the batch."""
    source = safe_markup(result.source)
    if result.status is IngestStatus.ALREADY_INGESTED:
        console.print(
            f"[yellow]{source}[/] was already ingested into {result.table} (batch {safe_markup(result.batch_id)}); "
            "nothing added.",
            highlight=False,
        )
        return
    colour = "green" if result.ok else "red"
    if result.preset:  # a preset turns input lines into other rows (invoice lines into orders)
        counts = (
            f"read {result.rows_read:,} lines, accepted {result.rows_accepted:,} {result.table}, "
            f"rejected {result.rows_rejected:,} lines (preset {safe_markup(result.preset)})"
        )
    else:
        counts = f"read {result.rows_read:,} rows, accepted {result.rows_accepted:,}, rejected {result.rows_rejected:,}"
    console.print(f"[{colour}]{result.table}[/]: {counts}", highlight=False)
    if result.rejects_by_reason:
        reasons = [[safe_text(reason), f"{count:,}"] for reason, count in result.rejects_by_reason.items()]
        console.print(
            fit_table(
                [Col("reason", "reason"), Col("rows", "rows", "right")],
                reasons,
                width=console.width,
                title="Rejected rows by reason",
            )
        )
    if result.rejects_path:
        # The path on a line of its own, to copy; only a path wider than the terminal folds.
        console.print("Rejects (row, column, value, reason):", highlight=False)
        console.print(safe_text(result.rejects_path), overflow="fold")
    if result.batch_path:
        console.print(f"Batch {safe_markup(result.batch_id)} committed.", highlight=False)


@handle_errors
def ingest(
    table: Annotated[TableName, typer.Argument(help="Target table.", case_sensitive=False)],
    file: Annotated[Path, typer.Argument(help="CSV (any delimiter), Parquet, JSON Lines (.jsonl) or XLSX.")],
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", "-m", help="TARGET=SOURCE: take column TARGET from input column SOURCE. Repeatable."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="COLUMN=VALUE: fill COLUMN with a constant. Repeatable."),
    ] = None,
    preset: Annotated[PresetName | None, typer.Option(help="A known export layout.")] = None,
    keep_extra: Annotated[
        bool, typer.Option("--keep-extra", help="Keep unknown columns in the table's JSON column (attributes).")
    ] = False,
    delimiter: Annotated[
        str | None, typer.Option(help="Field separator of a CSV; detected from the header line when omitted.")
    ] = None,
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Validate FILE against TABLE and add its valid rows as one batch.

    Bad rows go to the batch's rejects file with row, column, value and reason; the good rows commit together.
    Ingesting the same file again adds nothing. Exits non-zero only when no row could be accepted.

    Examples:
      retain ingest orders orders.csv -w shop --map amount=total
      retain ingest orders retail.csv --preset online-retail-ii -w shop
      retain ingest customers bank.csv -w shop --map customer_id=customerId
    """
    ws = Workspace.open(workspace)
    with progress_bar() as bar:
        task = bar.add_task(f"ingest {table.value}", total=None)
        result = ws.ingest(
            table,
            file,
            mapping=parse_assignments(map_, "--map"),
            constants=parse_assignments(set_, "--set"),
            preset=preset.value if preset else None,
            keep_extra=keep_extra,
            delimiter=delimiter,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        bar.update(task, completed=1, total=1)
    report_ingest(result)
    if not result.ok:
        raise typer.Exit(1)
