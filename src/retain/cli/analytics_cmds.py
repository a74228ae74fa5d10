"""Analytics commands: ``retain refresh``, ``metrics``, ``cohorts``, ``segments``, ``customer`` and ``report``.

Each command is thin: it opens the workspace, calls one service (:func:`retain.services.refresh`, a view of
:mod:`retain.services.analytics`, :func:`retain.services.customer_360`) and formats the rows as a Rich table,
JSON or CSV. The views read the current marts snapshot; without one they say to run ``retain refresh`` first.

Tables are sized for the terminal (:mod:`retain.cli._tables`: ids and numbers whole, long text wrapped); the
wide views have layouts of their own, explained where they are built: metrics one row per KPI
(:mod:`retain.cli._metrics_table`), cohorts the ages that fit (:mod:`retain.cli._cohorts_table`). Every value
from the data is printed through :mod:`retain.cli._safe`.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.text import Text

from retain import services
from retain.analytics.cohorts import CohortMeasure
from retain.analytics.periods import Freq
from retain.cli._cohorts_table import cohorts_table, shown_ages
from retain.cli._common import WorkspaceOption, console, err_console, handle_errors, print_json, progress_bar
from retain.cli._metrics_table import DEFAULT_KPIS, SUBSCRIPTION_ONLY_KPIS, choose_kpis, metrics_table, shop_label
from retain.cli._safe import safe_markup, safe_text
from retain.cli._tables import Col, fit_table
from retain.display.export import write_csv
from retain.display.numbers import fmt_number
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


def _print_csv(rows: list[dict[str, Any]]) -> None:
    write_csv(rows, sys.stdout)


def _flatten(row: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


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
    """Compute every metric into a new marts snapshot and upsert the customer profiles.

    Examples:
      retain refresh -w shop
      retain refresh -w shop --as-of 2024-12-31
    """
    ws = _open(workspace)
    with progress_bar() as bar:
        task = bar.add_task("refresh", total=None)

        def on_progress(mart: str, done: int, total: int) -> None:
            bar.update(task, description=f"refresh: {mart}", completed=done, total=total)

        result = services.refresh(ws, as_of=as_of, progress=on_progress)
    computed = fit_table(
        [Col("mart", "mart"), Col("rows", "rows", "right"), Col("seconds", "seconds", "right")],
        [[name, f"{rows:,}", f"{result.seconds[name]:.2f}"] for name, rows in result.rows.items()],
        width=console.width,
        title=f"Snapshot {result.snapshot_id}",
    )
    console.print(computed)
    if result.skipped:
        skipped = fit_table(
            [Col("mart", "mart"), Col("reason", "why", wrap=True)],
            [[name, safe_text(reason)] for name, reason in result.skipped.items()],
            width=console.width,
            title="Skipped",
        )
        console.print(skipped)
    for name, error in result.segment_errors.items():
        err_console.print(
            f"[yellow]segment {safe_markup(name)} skipped:[/] {safe_markup(error, keep_newlines=True)}",
            highlight=False,
        )
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
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            help="KPIs to show, comma-separated, by their CSV name (section.column, or the column alone where "
            "it is unique): e.g. retention_rate,churn_rate,nrr. Default: "
            + ", ".join(k.column for k in DEFAULT_KPIS)
            + ". Unknown names are refused with the list of valid ones. The table only; json and csv carry "
            "every column.",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """KPIs per period: retention and churn, MRR movements, NRR/GRR, ARPA, AOV, repeat rate, NPS/CSAT.

    The table has one row per KPI and the newest periods that fit the terminal as columns; --format csv or
    json has every period and every column of the view.

    Examples:
      retain metrics -w shop --freq quarter
      retain metrics -w shop --columns retention_rate,churn_rate,nrr --last 6
      retain metrics -w shop --format csv > metrics.csv
    """
    view = services.metrics(_open(workspace), freq=freq, last=last)
    rows = view.data
    shop = view.business_model == "commerce"
    kpis = choose_kpis(columns, rows) if rows else []
    if shop and columns is None:
        kpis = [shop_label(k, view.activity_window_days) for k in kpis if k.name not in SUBSCRIPTION_ONLY_KPIS]
    if fmt is OutputFormat.JSON:
        return print_json({"snapshot": view.snapshot_id, "as_of": view.as_of, "freq": freq.value, "periods": rows})
    if fmt is OutputFormat.CSV:
        return _print_csv([_flatten(r) for r in rows])
    title = f"Metrics by {freq.value} (as of {view.as_of:%Y-%m-%d})"
    if not rows:
        console.print(f"{title}: no periods yet.", highlight=False)
        return
    fitted = metrics_table(rows, kpis, freq=Freq(freq), title=title, width=console.width)
    console.print(fitted)
    if not rows[-1]["complete"]:
        console.print("* partial period: cut at the snapshot's as-of time.", style="dim")
    if shop:
        note = f"Shop: active = an order within {view.activity_window_days} days (churned: none for longer)."
        if view.lifetime_repeat and view.lifetime_repeat[1]:
            again, ordered = view.lifetime_repeat
            note += (
                f" Lifetime repeat-purchase rate: {100 * again / ordered:.1f} % ({again:,} of the {ordered:,} "
                "customers who ordered have ordered again)."
            )
        console.print(note, style="dim", highlight=False)
    if fitted.hidden:
        console.print(
            f"The newest {len(rows) - len(fitted.hidden)} of {len(rows)} periods fit {console.width} columns; "
            "a wider terminal, --last or --format csv show the others.",
            style="dim",
            highlight=False,
        )


@handle_errors
def cohorts(
    workspace: WorkspaceOption = Path("."),
    measure: Annotated[
        CohortMeasure, typer.Option(help="logo counts customers, revenue counts their MRR or spend.")
    ] = CohortMeasure.LOGO,
    shares: Annotated[bool, typer.Option("--shares", help="Show shares of the cohort size instead of values.")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Monthly signup cohorts: customers (or revenue) still there at each age.

    The table shows every age (months after signup) that fits the terminal, otherwise the milestones +0, +1,
    +2, +3, +6, +9, +12, +18 …; --format csv or json has every age.

    Examples:
      retain cohorts -w shop --shares
      retain cohorts -w shop --measure revenue --format csv > cohorts.csv
    """
    result = services.cohorts(_open(workspace), measure=measure.value, shares=shares)
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
    fitted = cohorts_table(view, title=f"Cohorts by signup month: {view.measure}, {what}", width=console.width)
    console.print(fitted)
    if fitted.hidden:
        console.print(
            f"Ages shown (months after signup): {shown_ages(view.ages, fitted.hidden)} of 0–{view.ages[-1]}; "
            "a wider terminal or --format csv show every age.",
            style="dim",
            highlight=False,
        )


@handle_errors
def segments(
    workspace: WorkspaceOption = Path("."),
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Segment sizes: RFM segments with their revenue, lifecycle states, user-defined segments.

    User-defined segments are predicates over the profile columns in the segments table of retain.toml.

    Examples:
      retain segments -w shop
      retain segments -w shop --format json
    """
    result = services.segments(_open(workspace))
    view = result.data
    if fmt is OutputFormat.JSON:
        return print_json({"snapshot": result.snapshot_id, **view})
    if fmt is OutputFormat.CSV:
        return _print_csv([{"kind": kind, **row} for kind, rows in view.items() for row in rows])
    titles = {"rfm": "RFM segments", "lifecycle": "Lifecycle states", "user": "User-defined segments"}
    for kind, rows in view.items():
        keys = [k for k in rows[0] if k != "share"] if rows else ["segment", "customers"]
        names = ("segment", "state")
        columns = [Col(k, k, "left" if k in names else "right") for k in keys] + [Col("share", "share", "right")]
        cells = [
            [safe_text(row[k]) if isinstance(row[k], str) else fmt_number(row[k]) for k in keys]
            + [fmt_number(row.get("share"), 1, "%")]
            for row in rows
        ]
        console.print(fit_table(columns, cells, width=console.width, title=titles[kind]))
    if not view:
        console.print("This snapshot has no segment marts (no orders or subscriptions).")


@handle_errors
def customer(
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    workspace: WorkspaceOption = Path("."),
    limit: Annotated[int, typer.Option(min=1, help="Timeline rows to show (newest).")] = 30,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """The 360 of one customer: profile, segments and timeline.

    Examples:
      retain customer C0000042 -w shop
      retain customer C0000042 -w shop --limit 100 --format json
    """
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
    fields = []
    for key, value in view.profile.items():
        if value is not None:
            shown = (
                f"{value:%Y-%m-%d %H:%M}"
                if isinstance(value, datetime | date)
                else fmt_number(value)
                if isinstance(value, float)
                else value
            )
            fields.append([Text(key, style="bold"), safe_text(shown)])
    if view.segments:
        fields.append([Text("segments", style="bold"), safe_text(", ".join(view.segments))])
    profile = fit_table(
        [Col("field", "field"), Col("value", "value", wrap=True)],
        fields,
        width=console.width,
        title=Text.assemble("Customer ", safe_text(customer_id), f" (as of {view.as_of:%Y-%m-%d})"),
        box=box.SQUARE,
        show_header=False,
    )
    console.print(profile)
    events = [
        [f"{row['at']:%Y-%m-%d %H:%M}", safe_text(row["kind"]), safe_text(row["summary"]), fmt_number(row["amount"])]
        for row in view.timeline[-limit:]
    ]
    timeline = fit_table(
        [Col("at", "at"), Col("kind", "kind"), Col("summary", "summary", wrap=True), Col("amount", "amount", "right")],
        events,
        width=console.width,
        title="Timeline",
    )
    console.print(timeline)


@handle_errors
def report(
    workspace: WorkspaceOption = Path("."),
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="HTML file to write (default <workspace>/report.html).")
    ] = None,
) -> None:
    """Write one self-contained HTML report (charts need no network) from the current snapshot.

    Beside the analytics: a chart per playbook with enrolments, treatment against holdout on its goal, measured
    at the snapshot's as-of (`retain playbook results` at the same moment gives the same numbers).

    Examples:
      retain report -w shop
      retain report -w shop --out /tmp/retention.html
    """
    from retain.report import write_report
    from retain.services.playbook_results import playbook_results

    ws = _open(workspace)
    snapshot = services.require_snapshot(ws)
    results = playbook_results(ws, as_of=snapshot.as_of)  # measured at the moment the rest of the report shows
    written = write_report(snapshot, out if out is not None else ws.path / "report.html", playbooks=results)
    console.print(
        f"Report written to [bold]{safe_markup(written)}[/] ({written.stat().st_size / 1e6:.1f} MB, "
        f"snapshot {snapshot.id}).",
        highlight=False,
    )
