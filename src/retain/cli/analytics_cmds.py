"""Analytics commands: ``retain refresh``, ``metrics``, ``cohorts``, ``segments``, ``customer`` and ``report``.

Each command is thin: it opens the workspace, calls one service (:func:`retain.services.refresh`, a view of
:mod:`retain.services.analytics`, :func:`retain.services.customer_360`) and formats the rows as a Rich table,
JSON or CSV. The views read the current marts snapshot; without one they say to run ``retain refresh`` first.
"""

from __future__ import annotations

import csv
import math
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from retain import services
from retain.analytics.periods import Freq
from retain.cli._common import WorkspaceOption, console, err_console, handle_errors, print_json, progress_bar
from retain.workspace import Workspace

__all__ = ["OutputFormat", "cohorts", "customer", "metrics", "refresh_cmd", "report", "segments"]


class OutputFormat(StrEnum):
    """How a view is printed: a Rich table for people, JSON or CSV for scripts."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table (for people), json or csv (for scripts).")
]


def _open(workspace: Path) -> Workspace:
    return Workspace.open(workspace)


def _num(value: Any, digits: int = 2, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


def _print_csv(rows: list[dict[str, Any]]) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: ("" if v is None else v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
        )


def _flatten(row: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def _period_label(start: datetime, freq: Freq, complete: bool) -> str:
    if freq is Freq.MONTH:
        label = f"{start:%Y-%m}"
    elif freq is Freq.QUARTER:
        label = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    else:
        label = f"{start.year}"
    return label if complete else label + "*"


@handle_errors
def refresh_cmd(
    workspace: WorkspaceOption = Path("."),
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            help="Instant the marts describe (default: just after the latest fact).",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
        ),
    ] = None,
) -> None:
    """Compute every metric into a new marts snapshot and upsert the customer profiles."""
    ws = _open(workspace)
    with progress_bar() as bar:
        task = bar.add_task("refresh", total=None)

        def on_progress(mart: str, done: int, total: int) -> None:
            bar.update(task, description=f"refresh: {mart}", completed=done, total=total)

        result = services.refresh(ws, as_of=as_of, progress=on_progress)
    table = Table(title=f"Snapshot {result.snapshot_id}", title_justify="left")
    table.add_column("mart")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    for name, rows in result.rows.items():
        table.add_row(name, f"{rows:,}", f"{result.seconds[name]:.2f}")
    for name, reason in result.skipped.items():
        table.add_row(f"[dim]{name}[/]", "[dim]skipped[/]", f"[dim]{reason}[/]")
    console.print(table)
    for name, error in result.segment_errors.items():
        err_console.print(f"[yellow]segment {name} skipped:[/] {escape(error)}", highlight=False, soft_wrap=True)
    written = result.profiles
    console.print(
        f"as of {result.as_of:%Y-%m-%d %H:%M:%S} UTC · {result.model} · engine {result.engine} · profiles: "
        f"{written.written:,} written, {written.unchanged:,} unchanged, {written.deleted:,} removed · "
        f"{result.seconds_total:.1f} s",
        highlight=False,
    )


@handle_errors
def metrics(
    workspace: WorkspaceOption = Path("."),
    freq: Annotated[Freq, typer.Option(help="Period length.")] = Freq.MONTH,
    last: Annotated[int | None, typer.Option(min=1, help="Show only the newest N periods.")] = 12,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """KPIs per period: retention and churn, MRR movements, NRR/GRR, ARPA, AOV, repeat rate, NPS/CSAT."""
    view = services.metrics(_open(workspace), freq=freq, last=last)
    rows = view.data
    if fmt is OutputFormat.JSON:
        return print_json({"snapshot": view.snapshot_id, "as_of": view.as_of, "freq": freq.value, "periods": rows})
    if fmt is OutputFormat.CSV:
        return _print_csv([_flatten(r) for r in rows])
    columns: list[tuple[str, str, str, int, str]] = [
        # header, section, column, digits, suffix
        ("start", "retention", "start_customers", 0, ""),
        ("end", "retention", "end_customers", 0, ""),
        ("retention", "retention", "retention_rate", 1, "%"),
        ("churn", "retention", "churn_rate", 1, "%"),
        ("vol.", "retention", "voluntary_churn_rate", 1, "%"),
        ("invol.", "retention", "involuntary_churn_rate", 1, "%"),
        ("MRR", "mrr", "ending_mrr", 0, ""),
        ("new", "mrr", "new_mrr", 0, ""),
        ("exp.", "mrr", "expansion_mrr", 0, ""),
        ("contr.", "mrr", "contraction_mrr", 0, ""),
        ("churned", "mrr", "churned_mrr", 0, ""),
        ("react.", "mrr", "reactivation_mrr", 0, ""),
        ("NRR", "mrr", "nrr", 1, "%"),
        ("GRR", "mrr", "grr", 1, "%"),
        ("ARPA", "mrr", "arpa", 2, ""),
        ("revenue", "commerce", "revenue", 0, ""),
        ("AOV", "commerce", "aov", 2, ""),
        ("repeat", "commerce", "repeat_purchase_rate", 1, "%"),
        ("NPS", "satisfaction", "nps", 1, ""),
        ("CSAT", "satisfaction", "csat", 1, "%"),
    ]
    present = {section for r in rows for section in r if isinstance(r[section], dict)}
    columns = [c for c in columns if c[1] in present]
    table = Table(title=f"Metrics by {freq.value} (as of {view.as_of:%Y-%m-%d})", title_justify="left")
    table.add_column("period")
    for header, *_ in columns:
        table.add_column(header, justify="right")
    for r in rows:
        cells = [_num(r.get(section, {}).get(col), digits, suffix) for _, section, col, digits, suffix in columns]
        table.add_row(_period_label(r["period_start"], Freq(freq), r["complete"]), *cells)
    console.print(table)
    if rows and not rows[-1]["complete"]:
        console.print("* partial period: cut at the snapshot's as-of time.", style="dim")


@handle_errors
def cohorts(
    workspace: WorkspaceOption = Path("."),
    measure: Annotated[str, typer.Option(help="logo (customers) or revenue.")] = "logo",
    shares: Annotated[bool, typer.Option("--shares", help="Show shares of the cohort size instead of values.")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Monthly signup cohorts: customers (or revenue) still there at each age."""
    result = services.cohorts(_open(workspace), measure=measure, shares=shares)
    view = result.data
    flat = [
        {
            "cohort": r["cohort"],
            "cohort_size": r["cohort_size"],
            **{f"age_{a}": v for a, v in zip(view.ages, r["values"], strict=True)},
        }
        for r in view.rows
    ]
    if fmt is OutputFormat.JSON:
        return print_json(
            {
                "snapshot": result.snapshot_id,
                "measure": view.measure,
                "shares": view.shares,
                "ages": view.ages,
                "cohorts": view.rows,
            }
        )
    if fmt is OutputFormat.CSV:
        return _print_csv(flat)
    what = "share of cohort" if shares else ("customers" if view.measure == "logo" else "revenue")
    table = Table(title=f"Cohorts by signup month: {view.measure}, {what}", title_justify="left")
    table.add_column("cohort")
    table.add_column("size", justify="right")
    for age in view.ages:
        table.add_column(f"+{age}", justify="right")
    for r in view.rows:
        values = [_num(v * 100, 0, "%") if shares and v is not None else _num(v, 0) for v in r["values"]]
        table.add_row(f"{r['cohort']:%Y-%m}", _num(r["cohort_size"], 0), *values)
    console.print(table)


@handle_errors
def segments(
    workspace: WorkspaceOption = Path("."),
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Segment sizes: RFM segments with their revenue, lifecycle states, user-defined segments."""
    result = services.segments(_open(workspace))
    view = result.data
    if fmt is OutputFormat.JSON:
        return print_json({"snapshot": result.snapshot_id, **view})
    if fmt is OutputFormat.CSV:
        return _print_csv([{"kind": kind, **row} for kind, rows in view.items() for row in rows])
    titles = {"rfm": "RFM segments", "lifecycle": "Lifecycle states", "user": "User-defined segments"}
    for kind, rows in view.items():
        table = Table(title=titles[kind], title_justify="left")
        keys = [k for k in rows[0] if k != "share"] if rows else ["segment", "customers"]
        for key in [*keys, "share"]:
            table.add_column(key, justify="left" if key in ("segment", "state") else "right")
        for row in rows:
            table.add_row(
                *[_num(row[k]) if not isinstance(row[k], str) else row[k] for k in keys], _num(row.get("share"), 1, "%")
            )
        console.print(table)
    if not view:
        console.print("This snapshot has no segment marts (no orders or subscriptions).")


@handle_errors
def customer(
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    workspace: WorkspaceOption = Path("."),
    limit: Annotated[int, typer.Option(min=1, help="Timeline rows to show (newest).")] = 30,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """The 360 of one customer: profile, segments and timeline."""
    view = services.customer_360(_open(workspace), customer_id)
    if fmt is OutputFormat.JSON:
        return print_json(
            {
                "snapshot": view.snapshot_id,
                "profile": view.profile,
                "segments": view.segments,
                "timeline": view.timeline,
            }
        )
    if fmt is OutputFormat.CSV:
        return _print_csv([{"customer_id": customer_id, **row} for row in view.timeline])
    profile = Table(
        title=f"Customer {customer_id} (as of {view.as_of:%Y-%m-%d})", title_justify="left", show_header=False
    )
    profile.add_column("field", style="bold")
    profile.add_column("value")
    for key, value in view.profile.items():
        if value is not None:
            shown = (
                f"{value:%Y-%m-%d %H:%M}"
                if isinstance(value, datetime | date)
                else _num(value)
                if isinstance(value, float)
                else str(value)
            )
            profile.add_row(key, shown)
    if view.segments:
        profile.add_row("segments", ", ".join(view.segments))
    console.print(profile)
    timeline = Table(title="Timeline", title_justify="left")
    for column in ("at", "kind", "summary", "amount"):
        timeline.add_column(column, justify="right" if column == "amount" else "left")
    for row in view.timeline[-limit:]:
        timeline.add_row(f"{row['at']:%Y-%m-%d %H:%M}", str(row["kind"]), row["summary"] or "", _num(row["amount"]))
    console.print(timeline)


@handle_errors
def report(
    workspace: WorkspaceOption = Path("."),
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="HTML file to write (default <workspace>/report.html).")
    ] = None,
) -> None:
    """Write one self-contained HTML report (charts need no network) from the current snapshot."""
    from retain.report import write_report

    ws = _open(workspace)
    snapshot = services.require_snapshot(ws)
    written = write_report(snapshot, out if out is not None else ws.path / "report.html")
    console.print(
        f"Report written to [bold]{written}[/] ({written.stat().st_size / 1e6:.1f} MB, snapshot {snapshot.id})."
    )
