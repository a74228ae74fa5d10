"""``retain playbook results``: treatment against holdout for each playbook, with the interval.

Thin: opens the workspace, calls :func:`retain.services.playbook_results.playbook_results` and prints one block
per playbook (the two arms, the effect with its interval, CUPED, the sample-ratio check, the MDE) or JSON.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from retain.cli._common import WorkspaceOption, console, handle_errors, print_json
from retain.cli._help import RetainCommand
from retain.cli._safe import safe_markup
from retain.cli._tables import Col, fit_table
from retain.cli.playbook_cmds import playbook_app
from retain.services.playbook_results import PlaybookResult, playbook_results
from retain.workspace import Workspace

__all__ = ["results"]

_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]


class ResultsFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def _interval(low: float, high: float, scale: float) -> str:
    return f"{low * scale:+,.2f} to {high * scale:+,.2f}"


def _print(result: PlaybookResult) -> None:
    name = safe_markup(result.playbook)
    goal = f"{result.metric} within {result.window_days} days"
    console.print(
        f"[bold]{name}[/] · goal: {goal} · {result.measured:,} of {result.enrolled:,} enrolments measured "
        f"(windows ended by {result.as_of:%Y-%m-%d})",
        highlight=False,
    )
    u = result.uplift
    if u is None:
        console.print("  nothing to measure yet: no enrolment's goal window has ended.", highlight=False)
        return
    scale, unit = (100.0, "pts") if u.outcome_kind == "binary" else (1.0, "per customer")
    rows = [
        [str(arm.arm), f"{arm.customers:,}", "—" if arm.customers == 0 else f"{arm.mean * scale:,.2f}"]
        for arm in (u.treatment, u.holdout)
    ]
    mean_label = "retained %" if u.outcome_kind == "binary" else f"mean {result.metric}"
    console.print(
        fit_table(
            [Col("arm", "arm"), Col("customers", "customers", "right"), Col(mean_label, mean_label, "right")],
            rows,
            width=console.width,
        )
    )
    if u.raw is not None:
        level = f"{u.confidence:.0%}"
        console.print(
            f"  effect (treatment − holdout): {u.raw.effect * scale:+,.2f} {unit}, {level} interval "
            f"{_interval(u.raw.ci_low, u.raw.ci_high, scale)}{'' if u.raw.significant else ' (not significant)'}",
            highlight=False,
        )
        if u.cuped is not None:
            c = u.cuped.estimate
            console.print(
                f"  CUPED (pre-enrolment {result.metric}): {c.effect * scale:+,.2f} {unit}, interval "
                f"{_interval(c.ci_low, c.ci_high, scale)} ({u.cuped.width_change:+.0%} width)",
                highlight=False,
            )
        console.print(
            f"  minimum detectable effect at this size: {u.raw.mde * scale:,.2f} {unit} (80% power)", highlight=False
        )
    if u.sample_ratio is not None:
        verdict = "MISMATCH: check the enrolment" if u.srm else "ok"
        console.print(
            f"  sample ratio: {u.holdout.customers:,} held out of {u.treatment.customers + u.holdout.customers:,} "
            f"for a {result.holdout_share:.0%} share, p = {u.sample_ratio.p_value:.3g} ({verdict})",
            highlight=False,
        )
    console.print("  " + safe_markup(u.summary(result.playbook, metric=result.metric)), highlight=False)


@playbook_app.command("results", cls=RetainCommand)
@handle_errors
def results(
    name: Annotated[str | None, typer.Argument(help="A playbook (default: every playbook with enrolments).")] = None,
    workspace: WorkspaceOption = Path("."),
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of", help="Measure the windows ended by then (default: end of the data).", formats=_DATE_FORMATS
        ),
    ] = None,
    fmt: Annotated[ResultsFormat, typer.Option("--format", help="table or json.")] = ResultsFormat.TABLE,
) -> None:
    """What each playbook achieved: its goal metric in the treated arm against the holdout, with a 95% interval.

    Only enrolments whose goal window has ended count. Beside the raw difference: the CUPED estimate (adjusted by
    the same metric before enrolment), the sample-ratio check of the arms and the minimum detectable effect.

    Examples:
      retain playbook results -w shop
      retain playbook results wake_up -w shop --format json
    """
    found = playbook_results(Workspace.open(workspace), name, as_of=as_of)
    if fmt is ResultsFormat.JSON:
        print_json([r.to_dict() for r in found])
        return
    if not found:
        console.print("No playbook has enrolments yet; run `retain playbook run` first.", highlight=False)
    for result in found:
        _print(result)
