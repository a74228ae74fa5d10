"""Playbook commands: ``retain playbook init|list|validate``.

Thin: each command opens the workspace, calls one service of :mod:`retain.services.playbooks` and prints the
result. Problems with playbook files are printed one per line (file, key path, what is valid).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from retain.automation.loading import LoadedPlaybook
from retain.cli._common import WorkspaceOption, console, err_console, handle_errors
from retain.cli._help import RetainCommand, RetainGroup
from retain.cli._safe import safe_markup, safe_text
from retain.cli._tables import Col, Fitted, fit_table
from retain.services.playbooks import install_playbooks, list_playbooks, playbooks_folder, validate_playbooks
from retain.workspace import Workspace

__all__ = ["playbook_app", "playbooks_table"]

playbook_app = typer.Typer(
    cls=RetainGroup,
    help="Playbooks: automated retention plays (trigger, conditions, steps, holdout, goal) in playbooks/*.yaml.\n\n"
    "Start from the built-in library, which `init` copies into the workspace; every playbook ships disabled.\n\n"
    "Examples:\n  retain playbook init -w shop\n  retain playbook list -w shop\n  retain playbook validate -w shop",
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
