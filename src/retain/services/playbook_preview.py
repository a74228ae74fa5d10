"""Look before switching a playbook on: ``preview_playbook`` (who would enter now) and ``backtest_playbook`` (what
it would have done over history). Both write nothing — not to the state database, not to the workspace folder.

A preview before the first run has no signing secret yet (the first run generates it): its links are signed
with a throw-away key and say so.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime

from retain.analytics.periods import as_instant
from retain.automation.actions import LinkSigner
from retain.automation.backtest import Backtest, Every
from retain.automation.backtest import backtest_playbook as _backtest
from retain.automation.enrolments import enrolment_history
from retain.automation.loading import LoadedPlaybook, PlaybookError
from retain.automation.preview import Preview
from retain.automation.preview import preview_playbook as _preview
from retain.errors import NotFoundError
from retain.services.playbook_run import run_inputs, signing_secret
from retain.services.playbooks import playbooks_folder, validate_playbooks
from retain.workspace import Workspace

__all__ = ["Backtest", "Every", "Preview", "backtest_playbook", "find_playbook", "preview_playbook"]


def find_playbook(ws: Workspace, name: str) -> LoadedPlaybook:
    """The valid playbook ``name`` of ``ws`` (enabled or not); other files' problems do not matter here.

    Raises
    ------
    PlaybookError
        The file of ``name`` is invalid.
    NotFoundError
        There is no such playbook (the valid names are listed).
    """
    check = validate_playbooks(ws)
    for playbook in check.playbooks:
        if playbook.name == name:
            return playbook
    own = [p for p in check.problems if p.split(":", 1)[0].endswith(f"/{name}.yaml")]
    if own:
        raise PlaybookError(own)
    valid = ", ".join(p.name for p in check.playbooks) or "none (`retain playbook init` copies the built-in library)"
    raise NotFoundError(f"No playbook named {name!r} in {playbooks_folder(ws)}. Playbooks: {valid}.")


def preview_playbook(
    ws: Workspace, name: str, *, as_of: date | datetime | None = None, show: int = 3, first: int = 10
) -> Preview:
    """Who would enter playbook ``name`` at ``as_of`` (default: now), with ``show`` treated entrants' messages.

    Counts entries as a run would — against the enrolments already stored, so a customer who entered before
    counts as already enrolled or refused by the re-entry rule — and renders every step of the first ``show``
    treated entrants. Nothing is written.

    Raises
    ------
    NotFoundError, PlaybookError
        No such playbook, or its file is invalid.
    InputError
        Its trigger or conditions need a profile that does not exist yet.
    """
    playbook = find_playbook(ws, name)
    moment = as_instant(as_of) if as_of is not None else ws.clock.now()
    automation = ws.settings.automation
    secret = signing_secret(ws, create=False)
    notes = []
    if secret is None:
        secret = secrets.token_bytes(32)
        notes.append("links are signed with a throw-away key: the workspace's key is made by the first run")
    links = LinkSigner(secret, automation.base_url, automation.link_days)
    inputs = run_inputs(ws, ws.facts(), moment)
    with ws.connect() as connection:
        preview = _preview(
            playbook,
            inputs,
            lambda ids: enrolment_history(connection, name, ids),
            workspace_id=ws.id,
            links=links,
            show=show,
            first=max(first, show),
        )
    preview.notes += notes
    preview.notes.append("the frequency cap, quiet hours and the other playbooks' priorities apply only in a run")
    return preview


def backtest_playbook(
    ws: Workspace,
    name: str,
    *,
    since: date | datetime,
    until: date | datetime | None = None,
    every: Every | str = Every.DAY,
    progress: Callable[[int, int], None] | None = None,
) -> Backtest:
    """Replay playbook ``name`` from ``since`` to ``until`` (default: just after the latest fact), every day or week.

    See :mod:`retain.automation.backtest` for what is replayed and what cannot be. Nothing is written.
    ``progress(done, total)`` is called before each replay date.

    Raises
    ------
    NotFoundError, PlaybookError
        No such playbook, or its file is invalid.
    InputError
        A risk trigger, an empty or too long range, or an unknown ``every``.
    NoDataError
        The workspace holds no data.
    """
    playbook = find_playbook(ws, name)
    facts = ws.facts().require("backtest")
    start = as_instant(since)
    end = as_instant(until) if until is not None else facts.default_as_of
    current = run_inputs(ws, facts, end).trigger.profile
    return _backtest(
        playbook,
        facts,
        since=start,
        until=end,
        every=every,
        workspace_id=ws.id,
        activity_window_days=ws.settings.activity_window_days,
        segments=dict(ws.settings.segments),
        current_profile=current,
        progress=progress,
    )
