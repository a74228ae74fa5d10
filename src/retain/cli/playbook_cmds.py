"""Playbook commands: ``retain playbook init|list|validate|run|preview|backtest``.

Thin: each command opens the workspace, calls one service (:mod:`retain.services.playbooks`,
:mod:`retain.services.playbook_run`, :mod:`retain.services.playbook_preview`) and prints the result. Problems with
playbook files are printed one per line (file, key path, what is valid).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from retain.automation.loading import LoadedPlaybook
from retain.cli._common import WorkspaceOption, console, err_console, handle_errors, progress_bar
from retain.cli._help import RetainCommand, RetainGroup
from retain.cli._safe import safe_markup, safe_text
from retain.cli._tables import Col, Fitted, fit_table
from retain.services.playbook_preview import Backtest, Every, Preview, backtest_playbook, preview_playbook
from retain.services.playbook_run import RunReport, run_playbooks
from retain.services.playbooks import install_playbooks, list_playbooks, playbooks_folder, validate_playbooks
from retain.workspace import Workspace

__all__ = ["backtest_table", "playbook_app", "playbooks_table", "preview_table", "run_table"]

_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]
_BAR = 30

playbook_app = typer.Typer(
    cls=RetainGroup,
    help="Playbooks: automated retention plays (trigger, conditions, steps, holdout, goal) in playbooks/*.yaml.\n\n"
    "Start from the built-in library, which `init` copies into the workspace; every playbook ships disabled.\n\n"
    "Examples:\n  retain playbook init -w shop\n  retain playbook list -w shop\n"
    "  retain playbook preview wake_up -w shop\n  retain playbook run -w shop",
    no_args_is_help=True,
)


def _problems(problems: list[str]) -> None:
    for problem in problems:
        err_console.print(f"[bold red]error:[/] {safe_markup(problem)}", highlight=False)


def playbooks_table(playbooks: list[LoadedPlaybook], *, width: int) -> Fitted:
    """Name, enabled, trigger, priority, holdout and version: one line per playbook (the trigger may wrap)."""
    columns = [
        Col("name", "name"),
        Col("enabled", "enabled"),
        Col("trigger", "trigger", wrap=True, min_width=12),
        Col("priority", "priority", "right"),
        Col("holdout", "holdout", "right"),
        Col("version", "version"),
    ]
    rows = [
        [
            safe_text(p.name),
            "yes" if p.spec.enabled else "no",
            safe_text(p.spec.trigger.summary()),
            str(p.spec.priority),
            f"{p.spec.holdout:.0%}" if (p.spec.holdout * 100).is_integer() else f"{p.spec.holdout:.1%}",
            p.version,
        ]
        for p in playbooks
    ]
    # No borders: six columns and a 12-digit version fit 80 columns only without them.
    return fit_table(columns, rows, width=width, box=None, pad_edge=False)


@playbook_app.command("init", cls=RetainCommand)
@handle_errors
def init(
    workspace: WorkspaceOption = Path("."),
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace files you edited with the library's version.")
    ] = False,
) -> None:
    """Copy the built-in playbooks and their email templates into the workspace's playbooks/ folder.

    Files already there are kept: an unchanged one is skipped, an edited one is refused (named) unless
    --overwrite. The playbooks ship disabled; set enabled: true in the ones you want.

    Examples:
      retain playbook init -w shop
      retain playbook init -w shop --overwrite
    """
    ws = Workspace.open(workspace)
    written = install_playbooks(ws, overwrite=overwrite)
    folder = safe_markup(playbooks_folder(ws))
    if not written:
        console.print(f"The built-in playbooks in {folder} are up to date; nothing copied.", highlight=False)
        return
    playbooks = sum(1 for path in written if path.suffix == ".yaml")
    console.print(
        f"Copied {len(written)} file(s) into {folder}: {playbooks} playbook(s), {len(written) - playbooks} "
        "template file(s).",
        highlight=False,
    )
    console.print(f"Next: [bold]retain playbook list -w {safe_markup(workspace)}[/]", highlight=False)


@playbook_app.command("list", cls=RetainCommand)
@handle_errors
def list_cmd(workspace: WorkspaceOption = Path(".")) -> None:
    """List the workspace's playbooks, highest priority first: name, enabled, trigger, priority, holdout, version.

    The version is the first 12 hex digits of the SHA-256 of the file: it changes with every edit. Invalid
    files are reported below the list (and the exit code is 1).

    Example: retain playbook list -w shop
    """
    ws = Workspace.open(workspace)
    check = list_playbooks(ws)
    if check.playbooks:
        console.print(playbooks_table(check.playbooks, width=console.width))
    elif not check.problems:
        console.print(
            f"No playbooks in {safe_markup(playbooks_folder(ws))}; "
            f"`retain playbook init -w {safe_markup(workspace)}` copies the built-in library.",
            highlight=False,
        )
    if check.problems:
        _problems(check.problems)
        raise typer.Exit(1)


@playbook_app.command("validate", cls=RetainCommand)
@handle_errors
def validate(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="FILE",
            help="Playbook files to check (default: every file in the workspace's playbooks/).",
            show_default=False,
        ),
    ] = None,
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Check playbook files: keys and values, conditions, templates, segments; print every problem.

    Exit code 0 when every file is valid, 1 otherwise (one line per problem: file, key path, what is valid).

    Examples:
      retain playbook validate -w shop
      retain playbook validate -w shop shop/playbooks/wake_up.yaml
    """
    ws = Workspace.open(workspace)
    check = validate_playbooks(ws, files or [])
    if check.problems:
        _problems(check.problems)
        bad = len({problem.split(": ", 1)[0] for problem in check.problems})
        err_console.print(
            f"{len(check.problems)} problem(s) in {bad} file(s); {len(check.playbooks)} valid playbook(s).",
            highlight=False,
        )
        raise typer.Exit(1)
    if not check.playbooks:
        console.print(
            f"No playbooks to check in {safe_markup(playbooks_folder(ws))}; "
            f"`retain playbook init -w {safe_markup(workspace)}` copies the built-in library.",
            highlight=False,
        )
        return
    names = ", ".join(p.name for p in check.playbooks)
    console.print(f"{len(check.playbooks)} valid playbook(s): {safe_markup(names)}.", highlight=False)


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {reason}" for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def run_table(report: RunReport, *, width: int) -> Fitted:
    """One line per playbook: entered, already enrolled, not eligible, held out, enqueued, done, suppressed."""
    columns = [
        Col("playbook", "playbook"),
        Col("entered", "entered", "right"),
        Col("already", "already", "right"),
        Col("not_eligible", "not eligible", "right"),
        Col("held_out", "held out", "right"),
        Col("enqueued", "queued", "right"),
        Col("done", "done", "right"),
        Col("suppressed", "suppressed", "right"),
    ]
    rows = [
        [
            safe_text(run.name),
            "error" if run.error else f"{run.entered:,}",
            f"{run.already_enrolled:,}",
            f"{sum(run.not_eligible.values()):,}",
            f"{run.held_out:,}",
            f"{run.enqueued:,}",
            f"{run.done:,}",
            f"{run.suppressed_total:,}",
        ]
        for run in report.playbooks
    ]
    caption = (
        "held out: steps of holdout customers, recorded as would-be sends; queued: outbox messages; done: tasks, "
        "tags and coupons written."
    )
    return fit_table(columns, rows, width=width, box=None, pad_edge=False, caption=caption)


@playbook_app.command("run", cls=RetainCommand)
@handle_errors
def run(
    workspace: WorkspaceOption = Path("."),
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", help="Instant the triggers are evaluated at (default: now).", formats=_DATE_FORMATS),
    ] = None,
    names: Annotated[
        list[str] | None,
        typer.Option("--name", help="Run only this playbook (repeat for several); it must be enabled."),
    ] = None,
) -> None:
    """Run the enabled playbooks once: enrol who their triggers fire for, then carry out the steps that are due.

    Treated customers' messages go to the outbox (`retain worker` delivers them); holdout customers' steps are
    recorded as held out. Running again at the same time enrols nobody twice; two runs at once wait for each
    other.

    Examples:
      retain playbook run -w shop
      retain playbook run -w shop --as-of 2024-12-31 --name wake_up
    """
    ws = Workspace.open(workspace)

    def on_progress(name: str, round_number: int) -> None:
        text = f"{name}: trigger and enrolment" if round_number == 0 else f"steps due, round {round_number}"
        err_console.print(safe_text(text), highlight=False)

    report = run_playbooks(ws, as_of=as_of, names=names or None, progress=on_progress)
    if not report.playbooks:
        console.print(
            f"No enabled playbook in {safe_markup(playbooks_folder(ws))}: set enabled: true in one "
            f"(`retain playbook list -w {safe_markup(workspace)}` shows them).",
            highlight=False,
        )
        return
    console.print(f"Playbooks run at {report.as_of:%Y-%m-%d %H:%M} UTC:", highlight=False)
    console.print(run_table(report, width=console.width))
    for run_ in report.playbooks:
        if sum(run_.not_eligible.values()):
            ne = run_.not_eligible
            line = f"{run_.name}: not eligible: {ne['conditions']:,} by the conditions, {ne['reentry']:,} by re-entry"
            console.print(safe_text(line), highlight=False)
        if run_.suppressed:
            console.print(safe_text(f"{run_.name}: suppressed: {_reasons(run_.suppressed)}"), highlight=False)
        for failure in run_.failures:
            err_console.print(safe_text(f"{run_.name}: failed: {failure}"), highlight=False)
    errors = report.errors
    for name, error in errors.items():
        err_console.print(Text.assemble(("error: ", "bold red"), safe_text(f"{name}: {error}")), highlight=False)
    if any(run_.enqueued for run_ in report.playbooks):
        console.print(f"Next: [bold]retain worker -w {safe_markup(workspace)} --once[/] delivers the outbox.")
    if errors:
        raise typer.Exit(1)


def preview_table(preview: Preview, *, width: int) -> Fitted:
    """The first entrants: customer, arm, trigger key and the trigger's detail."""
    columns = [
        Col("customer", "customer"),
        Col("arm", "arm"),
        Col("trigger_key", "trigger key", wrap=True, min_width=16),
        Col("detail", "detail", wrap=True, min_width=20),
    ]
    rows = [
        [
            safe_text(e.customer_id),
            str(e.arm),
            safe_text(e.trigger_key),
            safe_text(json.dumps(e.detail, ensure_ascii=False, default=str)),
        ]
        for e in preview.first
    ]
    return fit_table(columns, rows, width=width, box=None, pad_edge=False)


@playbook_app.command("preview", cls=RetainCommand)
@handle_errors
def preview(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The playbook (enabled or not).", show_default=False)],
    workspace: WorkspaceOption = Path("."),
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", help="Instant the trigger is evaluated at (default: now).", formats=_DATE_FORMATS),
    ] = None,
    show: Annotated[int, typer.Option("--show", min=0, help="Treated entrants whose messages are shown in full.")] = 3,
) -> None:
    """Show who would enter a playbook now and what they would get; writes nothing, sends nothing.

    Counts what a run would do (against the enrolments already made), lists the first entrants with their
    trigger detail and renders every step for the first --show treated ones. The frequency cap, quiet hours
    and the other playbooks' priorities apply only in a run.

    Examples:
      retain playbook preview wake_up -w shop
      retain playbook preview birthday -w shop --as-of 2024-06-01 --show 1
    """
    ws = Workspace.open(workspace)
    result = preview_playbook(ws, name, as_of=as_of, show=show)
    spec = result.playbook.spec
    state = "enabled" if spec.enabled else "disabled"
    console.print(
        safe_text(f"{spec.name} ({state}, trigger {spec.trigger.summary()}) at {result.as_of:%Y-%m-%d %H:%M} UTC:"),
        highlight=False,
    )
    ne = result.not_eligible
    console.print(
        f"Would enter: {result.entered:,} ({result.entered - result.entered_holdout:,} treated, "
        f"{result.entered_holdout:,} held out) of {result.fired:,} fired; "
        f"already enrolled {result.already_enrolled:,}; "
        f"not eligible: {ne['conditions']:,} by the conditions, {ne['reentry']:,} by re-entry.",
        highlight=False,
    )
    if result.first:
        console.print(preview_table(result, width=console.width))
    for customer in result.rendered:
        for step in customer.steps:
            header = f"── {customer.entry.customer_id}: step {step.step}, {step.action}, after {step.delay} "
            console.print(safe_text(header.ljust(min(console.width, 80), "─")), highlight=False)
            console.print(safe_text(step.text, keep_newlines=True), highlight=False)
    for note in result.notes:
        console.print(safe_text(f"note: {note}"), highlight=False)


def backtest_table(result: Backtest, *, width: int) -> Fitted:
    """Entries per week, with a bar."""
    most = max((n for _, n in result.weeks), default=0)
    rows = [[f"{week:%Y-%m-%d}", f"{n:,}", "#" * (round(n / most * _BAR) if most else 0)] for week, n in result.weeks]
    columns = [Col("week", "week of"), Col("entries", "entries", "right"), Col("bar", "", wrap=True, min_width=1)]
    return fit_table(columns, rows, width=width, box=None, pad_edge=False)


@playbook_app.command("backtest", cls=RetainCommand)
@handle_errors
def backtest(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The playbook (enabled or not).", show_default=False)],
    since: Annotated[
        datetime, typer.Option("--since", help="First replay date.", formats=_DATE_FORMATS, show_default=False)
    ],
    workspace: WorkspaceOption = Path("."),
    until: Annotated[
        datetime | None,
        typer.Option("--until", help="Last replay date (default: the end of the data).", formats=_DATE_FORMATS),
    ] = None,
    every: Annotated[
        Every, typer.Option("--every", help="Replay as often as you would run the playbooks.", case_sensitive=False)
    ] = Every.DAY,
) -> None:
    """Replay a playbook's trigger and conditions over history: entries per week and messages per customer.

    Re-entry is judged on the replay's own entries; each date's conditions read the profile as of that date.
    Writes nothing, sends nothing. The cap and the other playbooks are not applied (an upper bound).

    Examples:
      retain playbook backtest wake_up -w shop --since 2024-01-01
      retain playbook backtest welcome -w shop --since 2024-01-01 --every week
    """
    ws = Workspace.open(workspace)
    with progress_bar() as bar:
        task = bar.add_task(f"backtest {name}", total=None)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = backtest_playbook(ws, name, since=since, until=until, every=every, progress=on_progress)
    console.print(
        safe_text(
            f"{name} from {result.since:%Y-%m-%d} to {result.until:%Y-%m-%d}, every {result.every} "
            f"({result.replays:,} replays): {result.entered:,} entries ({result.entered_holdout:,} held out) of "
            f"{result.customers:,} customers, {result.fired:,} fired; not eligible: "
            f"{result.not_eligible['conditions']:,} by the conditions, {result.not_eligible['reentry']:,} by re-entry."
        ),
        highlight=False,
    )
    console.print(backtest_table(result, width=console.width))
    spread = ", ".join(
        f"{n} message{'s' if n != 1 else ''}: {c:,} customer{'s' if c != 1 else ''}"
        for n, c in result.messages_per_customer.items()
    )
    console.print(
        safe_text(f"Messages per treated customer: {spread or 'none'} ({result.messages:,} in all, before the cap)."),
        highlight=False,
    )
    for note in result.notes:
        console.print(safe_text(f"note: {note}"), highlight=False)
