"""``retain worker``: deliver the outbox through the configured channels, with retries and back-off."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from retain.cli._common import WorkspaceOption, console, err_console, handle_errors
from retain.cli._safe import safe_markup, safe_text
from retain.services.delivery import DeliveryReport, default_worker_id, outbox_counts, run_worker
from retain.workspace import Workspace

__all__ = ["worker"]

_FAILURES_SHOWN = 3


def _counts(report: DeliveryReport) -> str:
    parts = [f"{report.delivered:,} delivered", f"{report.retried:,} to retry", f"{report.dead:,} dead"]
    if report.lost:
        parts.append(f"{report.lost:,} taken over by another worker")
    if report.released:
        parts.append(f"{report.released:,} given back")
    return ", ".join(parts)


def _say_pass(report: DeliveryReport) -> None:
    console.print(_counts(report), highlight=False)
    for failure in report.failures[:_FAILURES_SHOWN]:
        line = f"  {failure.status} #{failure.message_id} ({failure.channel}, {failure.customer_id}): {failure.error}"
        err_console.print(safe_text(line), highlight=False)
    if len(report.failures) > _FAILURES_SHOWN:
        err_console.print(f"  … and {len(report.failures) - _FAILURES_SHOWN} more failures", highlight=False)


@handle_errors
def worker(
    workspace: WorkspaceOption = Path("."),
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit.")] = False,
    poll: Annotated[
        float, typer.Option("--poll", min=0.05, help="Seconds between looks at the outbox when nothing is due.")
    ] = 5.0,
) -> None:
    """Deliver the outbox: send every due message through its channel, retry failures with back-off.

    Channels are configured in retain.toml, one table per channel (channels.email, channels.crm …) with kind =
    smtp, webhook or file; retries and leases in its delivery table. Run as many workers as you like, also on
    several hosts with PostgreSQL: they share the work.
    Ctrl-C (or SIGTERM) stops after the message in flight. A message is sent at least once and always with the
    same idempotency key, so receivers can drop a repeat.

    Examples:
      retain worker -w shop
      retain worker -w shop --once
      retain worker -w shop --poll 1
    """
    ws = Workspace.open(workspace)
    worker_id = default_worker_id()
    channels = ", ".join(sorted(ws.settings.channels)) or "none configured"
    mode = "what is due now" if once else "until stopped (Ctrl-C)"
    console.print(
        f"Delivering the outbox of {safe_markup(ws.path.resolve())} {mode} as worker {safe_markup(worker_id)}; "
        f"channels: {safe_markup(channels)}",
        highlight=False,
    )
    total = run_worker(
        ws,
        once=once,
        poll_seconds=poll,
        worker_id=worker_id,
        on_pass=_say_pass,
        on_error=lambda message: err_console.print(f"[bold yellow]warning:[/] {safe_markup(message)}"),
    )
    counts = outbox_counts(ws)
    waiting = ", ".join(f"{n:,} {status}" for status, n in counts.items() if n)
    console.print(f"Done: {_counts(total)}. Outbox: {waiting or 'empty'}.", highlight=False)
