"""``run_playbooks``: run the workspace's enabled playbooks once at ``as_of`` (``retain playbook run``).

Under the workspace's ``playbooks`` lock (a file lock with SQLite, an advisory lock with PostgreSQL), so two
runners never interleave — a second one waits for the first, then finds its enrolments done and adds nothing.
It reads one pinned view of the lake (``ws.facts()``) and the current and previous marts snapshots (the
workspace row holds both ids), and hands them to :func:`retain.automation.runner.run_playbooks`, which writes
each playbook's enrolments, steps and outbox rows in transactions of their own.

Also here, for the preview and the backtest (:mod:`retain.services.playbook_preview`): the run's inputs
(:func:`run_inputs`), the settings (:func:`run_settings`) and the signing secret (:func:`signing_secret`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from datetime import date, datetime

import ibis

from retain.analytics.periods import as_instant
from retain.automation.actions import LinkSigner
from retain.automation.actions_spec import ActionKind
from retain.automation.entries import RunInputs
from retain.automation.loading import LoadedPlaybook, PlaybookError
from retain.automation.pressure import PressureSettings
from retain.automation.runner import PlaybookRun, Progress, RunReport, RunSettings
from retain.automation.runner import run_playbooks as _run
from retain.automation.signing import MIN_SECRET_BYTES
from retain.automation.triggers import TriggerInputs
from retain.errors import ConfigError, InputError, NotFoundError, WorkspaceError
from retain.facts import Facts
from retain.marts.snapshot import Snapshot
from retain.services.playbook_facts import export_enrolments, export_steps
from retain.services.playbooks import playbooks_folder, validate_playbooks
from retain.services.snapshots import marts_store
from retain.settings import ChannelKind
from retain.state.workspace_row import current_snapshot as current_snapshot_row
from retain.workspace import Workspace

__all__ = [
    "PLAYBOOKS_LOCK",
    "SECRET_FILE",
    "PlaybookRun",
    "RunReport",
    "load_workspace_playbooks",
    "run_inputs",
    "run_playbooks",
    "run_settings",
    "signing_secret",
]

PLAYBOOKS_LOCK = "playbooks"
"""The workspace lock a playbook run holds."""

SECRET_FILE = ".signing_secret"
"""Where a generated signing secret is kept, in the workspace folder (mode 0600)."""

_SECRET_BYTES = 32
_CHANNEL_OF = {
    ActionKind.EMAIL: ChannelKind.SMTP,
    ActionKind.OFFER: ChannelKind.SMTP,
    ActionKind.SURVEY: ChannelKind.SMTP,
    ActionKind.WEBHOOK: ChannelKind.WEBHOOK,
    ActionKind.FILE: ChannelKind.FILE,
}
"""The kind of channel each message-writing action needs."""


def signing_secret(ws: Workspace, *, create: bool = True) -> bytes | None:
    """The key that signs the workspace's customer links and derives coupon codes.

    ``[automation] signing_secret`` (or ``RETAIN_AUTOMATION__SIGNING_SECRET``) when set; else the one kept in
    ``<workspace>/.signing_secret``, generated on first use when ``create`` (32 random bytes, hex, mode 0600; two
    processes creating it at once agree on one). ``None`` when there is none and ``create`` is false.
    """
    configured = ws.settings.automation.signing_secret
    if configured is not None:
        return configured.get_secret_value().encode()
    path = ws.path / SECRET_FILE
    if not path.exists() and create:
        temp = path.with_name(f"{SECRET_FILE}.{os.getpid()}.tmp")
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(_SECRET_BYTES) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)  # atomic and never overwrites: the first creator wins
        finally:
            temp.unlink(missing_ok=True)
    if not path.exists():
        return None
    try:
        secret = bytes.fromhex(path.read_text().strip())
    except ValueError:
        secret = b""
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{path} does not hold a signing secret (hex, at least {MIN_SECRET_BYTES} bytes). Delete it to have a "
            "new one generated (links already sent stop working), or set [automation] signing_secret."
        )
    return secret


def run_settings(ws: Workspace, *, secret: bytes) -> RunSettings:
    """The pressure rules, link signer and clock of ``ws``'s ``[automation]`` settings."""
    automation = ws.settings.automation
    return RunSettings(
        workspace_id=ws.id,
        pressure=PressureSettings.from_mapping(automation.pressure_values()),
        links=LinkSigner(secret, automation.base_url, automation.link_days),
        now=ws.clock.now(),
    )


def _snapshot(ws: Workspace, snapshot_id: str | None) -> Snapshot | None:
    if snapshot_id is None:
        return None
    try:
        return marts_store(ws).get(snapshot_id)
    except (WorkspaceError, InputError):  # pruned, or never completed: no comparison with it
        return None


def _mart(backend: ibis.BaseBackend, snapshot: Snapshot | None, name: str) -> ibis.Table | None:
    if snapshot is None or not snapshot.has(name):
        return None
    return backend.read_parquet(str(snapshot.path / snapshot.manifest["marts"][name]["file"]))


def _segment_names(snapshot: Snapshot | None) -> frozenset[str] | None:
    return None if snapshot is None else frozenset(snapshot.manifest.get("user_segments", []))


def run_inputs(ws: Workspace, facts: Facts, as_of: datetime) -> RunInputs:
    """The trigger inputs at ``as_of``: ``facts`` and the current and previous snapshots' profiles and segments."""
    with ws.connect() as connection:
        row = current_snapshot_row(connection)
    current = _snapshot(ws, row.snapshot_id if row else None)
    previous = _snapshot(ws, row.previous_snapshot_id if row else None)
    backend = facts.backend
    trigger = TriggerInputs(
        facts=facts,
        as_of=as_of,
        profile=_mart(backend, current, "profiles"),
        previous_profile=_mart(backend, previous, "profiles"),
        segments=_mart(backend, current, "segment_membership"),
        previous_segments=_mart(backend, previous, "segment_membership"),
        activity_window_days=ws.settings.activity_window_days,
    )
    return RunInputs(trigger, segments=_segment_names(current), previous_segments=_segment_names(previous))


def load_workspace_playbooks(ws: Workspace, names: Sequence[str] | None = None) -> list[LoadedPlaybook]:
    """The valid playbooks of ``ws``: every one, or those named (in any state).

    Raises
    ------
    PlaybookError
        A playbook file is invalid (every problem listed).
    NotFoundError
        A name is not a playbook of the workspace (the valid names are listed).
    """
    check = validate_playbooks(ws)
    if check.problems:
        raise PlaybookError(check.problems)
    if not names:
        return check.playbooks
    by_name = {p.name: p for p in check.playbooks}
    unknown = [n for n in dict.fromkeys(names) if n not in by_name]
    if unknown:
        valid = ", ".join(sorted(by_name)) or f"none (`retain playbook init` copies the library into {ws.path})"
        raise NotFoundError(
            f"No playbook named {', '.join(map(repr, unknown))} in {playbooks_folder(ws)}. Playbooks: {valid}."
        )
    return [by_name[n] for n in dict.fromkeys(names)]


def _check_channels(ws: Workspace, playbooks: Sequence[LoadedPlaybook]) -> None:
    channels = ws.settings.channels
    problems = []
    for playbook in playbooks:
        for index, step in enumerate(playbook.spec.steps):
            needed = _CHANNEL_OF.get(step.action)
            if needed is None or (step.action is ActionKind.OFFER and getattr(step, "template", None) is None):
                continue  # writes no message (an offer without a template is only recorded)
            name = getattr(step, "channel", "email")
            channel = channels.get(name)
            if channel is None:
                problems.append(
                    f"playbook {playbook.name}, step {index} ({step.action}) sends through channel {name!r}, which "
                    f'retain.toml does not define; add a [channels.{name}] table with kind = "{needed}"'
                )
            elif channel.kind != needed:
                problems.append(
                    f"playbook {playbook.name}, step {index} ({step.action}) needs a {needed} channel, but "
                    f'[channels.{name}] has kind = "{channel.kind}"'
                )
    if problems:
        raise ConfigError("Cannot run the playbooks: " + "; ".join(problems) + ".")


def run_playbooks(
    ws: Workspace,
    *,
    as_of: date | datetime | None = None,
    names: Sequence[str] | None = None,
    progress: Progress | None = None,
    wait: float = 300.0,
) -> RunReport:
    """Run the workspace's enabled playbooks (or the named ones) once at ``as_of``.

    Parameters
    ----------
    ws
        The workspace: its playbooks, channels, ``[automation]`` settings and state database.
    as_of
        The instant the triggers are evaluated at (a date means midnight UTC); default: the workspace clock's now.
    names
        Run only these playbooks (each must be enabled).
    progress
        Told about each playbook as it starts, then each round of steps.
    wait
        Seconds to wait for another run of this workspace to finish before giving up.

    Returns
    -------
    RunReport
        Per playbook: entered, already enrolled, not eligible, held out, enqueued, suppressed by reason.

    Raises
    ------
    PlaybookError
        A playbook file is invalid.
    NotFoundError
        A name is not a playbook.
    InputError
        A named playbook is disabled.
    ConfigError
        A step sends through a channel ``retain.toml`` lacks (or of the wrong kind).
    ConflictError
        Another run still holds the lock after ``wait`` seconds.
    """
    moment = as_instant(as_of) if as_of is not None else ws.clock.now()
    chosen = load_workspace_playbooks(ws, names)
    if names:
        disabled = [p.name for p in chosen if not p.spec.enabled]
        if disabled:
            raise InputError(
                f"Playbook(s) {', '.join(disabled)} are disabled; set enabled: true in the file to run them "
                f"(`retain playbook preview {disabled[0]}` shows who would enter, writing nothing)."
            )
    chosen = [p for p in chosen if p.spec.enabled]
    _check_channels(ws, chosen)
    busy = f"Another `retain playbook run` is still running on {ws.path} after {wait:g} s; wait and retry."
    with ws.locks.hold(PLAYBOOKS_LOCK, busy=busy, wait=wait):
        facts = ws.facts()
        settings = run_settings(ws, secret=signing_secret(ws) or b"")
        report = _run(ws.state, chosen, run_inputs(ws, facts, moment), settings, progress=progress)
        # Under the same lock: the lake's enrolments (what `retain playbook results` measures) follow the run's.
        export_enrolments(ws, {p.name: p.spec.goal for p in load_workspace_playbooks(ws)})
        export_steps(ws)
        return report
