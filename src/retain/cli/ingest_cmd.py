"""``retain ingest``: load a file into a canonical table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID

from retain import services
from retain.cli._common import WorkspaceOption, console, handle_errors, progress_bar
from retain.cli._safe import safe_markup, safe_text
from retain.cli._tables import Col, fit_table
from retain.contract.formats import DecimalSeparator, ValueFormats
from retain.contract.presets import PresetName
from retain.contract.tables import TableName
from retain.errors import InputError
from retain.ingest import IngestResult, IngestStatus, parse_assignments
from retain.services import FolderIngest
from retain.workspace import Workspace

__all__ = ["ingest", "report_folder", "report_ingest"]


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
                caption=_several_reasons_note([result]),
            )
        )
    if result.rejects_path:
        # The path on a line of its own, to copy; only a path wider than the terminal folds.
        console.print("Rejects (row, column, value, reason):", highlight=False)
        console.print(safe_text(result.rejects_path), overflow="fold")
    if result.batch_path:
        console.print(f"Batch {safe_markup(result.batch_id)} committed.", highlight=False)


def _several_reasons_note(results: list[IngestResult]) -> str | None:
    """Said when some rows have more than one reason, so the counts add up to more than the rejected rows."""
    if any(sum(r.rejects_by_reason.values()) > r.rows_rejected for r in results):
        return "A row with several problems counts under each of its reasons."
    return None


_STATUS = {
    IngestStatus.COMMITTED: "committed",
    IngestStatus.ALREADY_INGESTED: "already ingested",
    IngestStatus.NOTHING_ACCEPTED: "nothing accepted",
}


def _counts(result: IngestResult) -> list[str]:
    """Rows read, accepted and rejected; none for a file ingested before (nothing was read now)."""
    if result.status is IngestStatus.ALREADY_INGESTED:
        return ["", "", ""]
    return [f"{result.rows_read:,}", f"{result.rows_accepted:,}", f"{result.rows_rejected:,}"]


def report_folder(folder: FolderIngest) -> None:
    """One table for a folder ingest: per table its file, counts and outcome; then reasons, rejects, skipped."""
    rows = [[r.table, safe_text(Path(r.source).name), *_counts(r), _STATUS[r.status]] for r in folder.results]
    columns = [
        Col("table", "table"),
        Col("file", "file"),
        Col("read", "read", "right"),
        Col("accepted", "accepted", "right"),
        Col("rejected", "rejected", "right"),
        Col("status", "status"),
    ]
    title = f"Ingested from {safe_text(folder.folder)}"
    # The file is its table's name plus a suffix: the first column to go when the terminal is narrow.
    console.print(fit_table(columns, rows, width=console.width, title=title, optional=["file"]))
    reasons = [
        [r.table, safe_text(reason), f"{count:,}"]
        for r in folder.results
        for reason, count in r.rejects_by_reason.items()
    ]
    if reasons:
        console.print(
            fit_table(
                [Col("table", "table"), Col("reason", "reason"), Col("rows", "rows", "right")],
                reasons,
                width=console.width,
                title="Rejected rows by reason",
                caption=_several_reasons_note(folder.results),
            )
        )
    for r in folder.results:
        if r.rejects_path:
            console.print(f"Rejects of {r.table} (row, column, value, reason):", highlight=False)
            console.print(safe_text(r.rejects_path), overflow="fold")
    if folder.skipped:
        console.print(
            f"Skipped, not a table file: {safe_markup(', '.join(folder.skipped))} (table files are named after their "
            "table, e.g. orders.csv).",
            highlight=False,
        )


@handle_errors
def ingest(
    target: Annotated[
        str,
        typer.Argument(
            metavar="TABLE|DIR",
            help="Target table (customers, orders, subscriptions, events, tickets, feedback), or a folder of table "
            "files laid out like `retain synth` output (customers.csv, orders.parquet …).",
        ),
    ],
    file: Annotated[
        Path | None,
        typer.Argument(help="CSV (any delimiter), Parquet, JSON Lines (.jsonl) or XLSX; none with a folder."),
    ] = None,
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
    sheet: Annotated[
        str | None, typer.Option(help="Worksheet of an XLSX file: its name or its number (1 = first; the default).")
    ] = None,
    skip_rows: Annotated[
        int, typer.Option("--skip-rows", min=0, help="Banner lines (CSV) or rows (XLSX) above the header.")
    ] = 0,
    date_format: Annotated[
        str | None,
        typer.Option(
            "--date-format",
            help="strptime format of every timestamp and date column, e.g. '%d/%m/%Y %H:%M' (a value with only "
            "the date part is midnight); ISO 8601 when omitted.",
        ),
    ] = None,
    decimal: Annotated[
        DecimalSeparator,
        typer.Option(help="Decimal separator of numbers; with ',' 1.234,50 and 1 234,50 read as 1234.5."),
    ] = DecimalSeparator.POINT,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="IANA time zone of times without an offset, e.g. Europe/Berlin (stored in UTC; times with an "
            "offset keep it); UTC when omitted."
        ),
    ] = None,
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Validate FILE against TABLE and add its valid rows as one batch, or every table file of DIR.

    Bad rows go to the batch's rejects file with row, column, value and every reason found; the good rows commit
    together. Ingesting the same file with the same options again adds nothing. Exits non-zero only when no row
    of a file could be accepted. Times without an offset in a time zone's skipped or repeated hour are read with
    the offset before the change (02:30 on 2025-03-30 in Europe/Berlin is 01:30 UTC).

    Examples:
      retain ingest orders orders.csv -w shop --map amount=total
      retain ingest orders retail.csv --preset online-retail-ii -w shop
      retain ingest customers bank.csv -w shop --map customer_id=customerId
      retain ingest synthetic/ -w shop
      retain ingest orders export.csv --skip-rows 2 --decimal , -w shop
      retain ingest orders export.csv --date-format '%d/%m/%Y %H:%M' -w shop
      retain ingest events events.csv --timezone Europe/Berlin -w shop
      retain ingest orders book.xlsx --sheet Orders -w shop
    """
    formats = ValueFormats(date_format=date_format, decimal=decimal, timezone=timezone)
    reading = {"keep_extra": keep_extra, "delimiter": delimiter, "sheet": sheet, "skip_rows": skip_rows}
    table, path = _table_or_folder(target, file)
    ws = Workspace.open(workspace)
    if table is None:
        per_table = [name for name, given in (("--map", map_), ("--set", set_), ("--preset", preset)) if given]
        if per_table:
            raise InputError(
                f"{' and '.join(per_table)} {'apply' if len(per_table) > 1 else 'applies'} to one table's file, "
                "not to a folder; ingest that file on its own with `retain ingest TABLE FILE`."
            )
        with progress_bar() as bar:
            tasks: dict[str, TaskID] = {}

            def show(name: str, done: int, total: int | None) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(f"ingest {name}", total=None)
                bar.update(tasks[name], completed=done, total=total)

            result = services.ingest_folder(ws, path, formats=formats, progress=show, **reading)
        report_folder(result)
        if not result.ok:
            raise typer.Exit(1)
        return
    with progress_bar() as bar:
        task = bar.add_task(f"ingest {table}", total=None)
        single = ws.ingest(
            table,
            path,
            mapping=parse_assignments(map_, "--map"),
            constants=parse_assignments(set_, "--set"),
            preset=preset.value if preset else None,
            formats=formats,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            **reading,
        )
        bar.update(task, completed=1, total=1)
    report_ingest(single)
    if not single.ok:
        raise typer.Exit(1)


def _table_or_folder(target: str, file: Path | None) -> tuple[TableName, Path] | tuple[None, Path]:
    """``TABLE FILE`` or ``DIR``: which one the arguments are, with a message when they are neither."""
    tables = ", ".join(TableName)
    if file is None:
        folder = Path(target)
        if folder.is_dir():
            return None, folder
        if target.lower() in tuple(TableName):
            raise InputError(f"Give the FILE to ingest into {target.lower()}: retain ingest {target.lower()} FILE.")
        raise InputError(f"{target}: neither a table ({tables}) nor a folder of table files.")
    try:
        return TableName(target.lower()), file
    except ValueError:
        raise InputError(f"{target!r} is not a table; tables: {tables} (or give only a folder).") from None
