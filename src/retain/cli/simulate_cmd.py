"""``retain simulate``: a synthetic company run forward with the playbooks live; measured effect beside the truth.

Thin: calls :func:`retain.services.simulate.simulate` (or, with ``--seeds``, the acceptance over several seeds,
:mod:`retain.services.simulate_acceptance`) and prints one row per playbook, or JSON.
"""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from retain.cli._common import WorkspaceOption, console, fail, handle_errors, print_json
from retain.cli._safe import safe_markup
from retain.services.simulate import SimulationResult, simulate
from retain.services.simulate_acceptance import acceptance, simulate_seeds
from retain.synth import SynthModel
from retain.synth.reactions import DEFAULT_REACTIONS, load_reactions

__all__ = ["simulate_cmd"]


class SimulateFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def _pts(value: float | None) -> str:
    """A share of customers in percentage points."""
    return "—" if value is None or math.isnan(value) else f"{value * 100:+.2f} pts"


def _per_customer(value: float | None) -> str:
    """A count or an amount per customer."""
    return "—" if value is None or math.isnan(value) else f"{value:+,.3f}"  # NaN: nobody was treated


def _print(result: SimulationResult) -> None:
    console.print(
        f"[bold]Simulated[/] {result.customers:,} {result.model} customers, seed {result.seed}: "
        f"{result.history_months} months of history, then {result.months} with retain live "
        f"({result.messages:,} messages, {result.refreshes} refreshes, {result.seconds:.1f} s)",
        highlight=False,
    )
    for row in result.playbooks:
        console.print(
            f"[bold]{safe_markup(row.playbook)}[/] · {row.goal_metric} within {row.window_days} days · "
            f"{row.treated:,} treated ({row.received:,} received a message) / {row.holdout:,} holdout",
            highlight=False,
        )
        show = _pts if row.goal_metric == "retained" else _per_customer
        measured = (
            "not measured"
            if row.estimate is None
            else f"measured {show(row.estimate)} (95 % {show(row.ci_low)} to {show(row.ci_high)})"
        )
        cuped = "" if row.cuped_width_ratio is None else f" · CUPED width ×{row.cuped_width_ratio:.2f}"
        srm = "" if row.srm_p_value is None else f" · SRM p {row.srm_p_value:.3f}"
        console.print(
            f"  true {show(row.true_effect)} · {measured}{cuped}{srm} · messages to holdout: {row.holdout_messages}",
            highlight=False,
        )
    console.print(
        f"Truth in {safe_markup(result.workspace / 'ground_truth')} (playbook_effects*.parquet); "
        f"`retain playbook results -w {safe_markup(result.workspace)}` shows the measured side.",
        highlight=False,
    )


@handle_errors
def simulate_cmd(
    playbooks: Annotated[
        Path, typer.Option(help="Folder of playbook files to run (copied in, enabled, sent to the simulated inbox).")
    ],
    customers: Annotated[int, typer.Option(min=1, help="Customers of the synthetic company.")] = 3_000,
    months: Annotated[int, typer.Option(min=1, help="Months simulated with retain live.")] = 3,
    reactions: Annotated[
        Path | None, typer.Option(help="YAML file of reactions per playbook; default: built-in effects.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (the first one with --seeds).")] = 0,
    model: Annotated[SynthModel, typer.Option(help="Business model.")] = SynthModel.SUBSCRIPTION,
    history: Annotated[int, typer.Option(min=1, help="Months of history before retain goes live.")] = 6,
    step_days: Annotated[int, typer.Option(min=1, help="Days between playbook runs within a month (31: monthly).")] = 7,
    refresh_days: Annotated[
        int, typer.Option(min=1, help="Refresh the profile when it is this many days old (if a playbook reads it).")
    ] = 28,
    seeds: Annotated[int, typer.Option(min=1, help="Simulate this many seeds (WORKSPACE/seed-NNN each).")] = 1,
    effect: Annotated[
        str | None, typer.Option(help="With --seeds: the playbook with a known effect, for the acceptance.")
    ] = None,
    null: Annotated[str | None, typer.Option(help="With --seeds: the playbook without effect.")] = None,
    format: Annotated[SimulateFormat, typer.Option("--format", help="Output format.")] = SimulateFormat.TABLE,
    workspace: WorkspaceOption = Path("retain-simulation"),
) -> None:
    """Run a synthetic company forward a month at a time with the playbooks live, and compare what retain
    measures with the true effect of each playbook (same customers, same random draws, with and without).

    Examples:
      retain simulate --playbooks shop/playbooks -w sim/
      retain simulate --playbooks DIR --seeds 20 --effect A --null B -w sims/
    """
    loaded = load_reactions(reactions) if reactions is not None else DEFAULT_REACTIONS
    options = {
        "customers": customers,
        "months": months,
        "playbooks": playbooks,
        "reactions": loaded,
        "model": model,
        "history_months": history,
        "step_days": step_days,
        "refresh_days": refresh_days,
    }
    if seeds == 1:
        result = simulate(workspace, seed=seed, **options)
        if format is SimulateFormat.JSON:
            print_json({**result.__dict__, "playbooks": [row.to_dict() for row in result.playbooks]})
        else:
            _print(result)
        return
    if effect is None or null is None:
        raise fail("--seeds needs --effect NAME (a playbook with a known effect) and --null NAME (one without).")
    results = simulate_seeds(workspace, seeds=seeds, first_seed=seed, progress=None, **options)
    summary = acceptance(results, effect=effect, null=null)
    if format is SimulateFormat.JSON:
        print_json(summary.to_dict())
        return
    console.print(json.dumps(summary.to_dict(), indent=2, default=str), highlight=False)
    if not summary.passed:
        raise typer.Exit(1)
