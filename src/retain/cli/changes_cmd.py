"""``retain changes``: what changed since the previous snapshot, for the Monday-morning read.

Three short tables, each fitting 80 columns: customers who entered the top of the at-risk list (with the first
reason), the largest lifecycle and RFM moves, and the headline KPIs of the latest whole month against the
previous snapshot. ``--format json`` carries everything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from retain import services
from retain.cli._common import WorkspaceOption, console, handle_errors, print_json
from retain.cli._safe import safe_text
from retain.cli._tables import Col, fit_table
from retain.cli.analytics_cmds import OutputFormat
from retain.display.export import json_value
from retain.display.numbers import MISSING, fmt_number
from retain.workspace import Workspace

__all__ = ["changes"]

_MOVES_SHOWN = 10


def _signed(value: float | None, digits: int) -> str:
    return MISSING if value is None else f"{value:+,.{digits}f}"


@handle_errors
def changes(
    workspace: WorkspaceOption = Path("."),
    top: Annotated[int, typer.Option(min=1, help="At risk = among the first N of the at-risk list.")] = 50,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json or csv.")] = OutputFormat.TABLE,
) -> None:
    """What changed since the previous snapshot: newly at risk, lifecycle and segment moves, KPI deltas.

    Compares the current snapshot with the one current before it (each `retain refresh` makes a new one).

    Examples:
      retain changes -w shop
      retain changes -w shop --top 100 --format json
    """
    diff = services.changes(Workspace.open(workspace), top=top)
    newly = diff.newly_at_risk
    if fmt is not OutputFormat.TABLE:
        print_json(
            {
                "current": diff.current.id,
                "previous": diff.previous.id,
                "top": top,
                "newly_at_risk": [{k: json_value(v) for k, v in r.items()} for r in newly.to_dict("records")],
                "moves": [m.__dict__ for m in diff.moves],
                "kpis": [{**k.__dict__, "delta": k.delta} for k in diff.kpis],
            }
        )
        return
    console.print(
        f"Changes from snapshot as of {diff.previous.as_of:%Y-%m-%d} to {diff.current.as_of:%Y-%m-%d}",
        highlight=False,
    )
    rows = [
        [fmt_number(r["risk_rank"], 0), safe_text(r["customer_id"]), f"{r['p_churn']:.0%}",
         fmt_number(r["expected_loss"], 0), MISSING if r["previous_rank"] != r["previous_rank"] else
         fmt_number(r["previous_rank"], 0), safe_text(r["reason_code"] or MISSING)]
        for r in newly.to_dict("records")
    ]  # fmt: skip
    columns = [
        Col("risk_rank", "#", "right"),
        Col("customer_id", "customer"),
        Col("p_churn", "risk", "right"),
        Col("expected_loss", "exp. loss", "right"),
        Col("previous_rank", "was #", "right"),
        Col("reason_code", "reason"),
    ]
    title = f"Newly in the top {top} at risk: {len(newly):,}"
    console.print(fit_table(columns, rows, width=console.width, title=title) if rows else title + ".")
    moves = [
        [m.kind, safe_text(m.before), safe_text(m.after), fmt_number(m.customers, 0)] for m in diff.moves[:_MOVES_SHOWN]
    ]
    if moves:
        columns = [
            Col("kind", "kind"),
            Col("before", "from"),
            Col("after", "to"),
            Col("customers", "customers", "right"),
        ]
        title = f"Largest moves ({min(len(diff.moves), _MOVES_SHOWN)} of {len(diff.moves)})"
        console.print(fit_table(columns, moves, width=console.width, title=title))
    kpis = [
        [k.kpi, fmt_number(k.previous, 1), fmt_number(k.current, 1), _signed(k.delta, 1)]
        for k in diff.kpis
        if k.current is not None
    ]
    if kpis:
        month, before = diff.kpis[0].month, diff.kpis[0].previous_month
        then = f"{before:%Y-%m}" if before else "—"
        columns = [Col("kpi", "KPI"), Col("previous", f"before {then}", "right"),
                   Col("current", f"now {month:%Y-%m}", "right"), Col("delta", "change", "right")]  # fmt: skip
        title = "KPIs of the latest whole month" + ("" if before == month else " (the previous snapshot ended earlier)")
        console.print(fit_table(columns, kpis, width=console.width, title=title))
