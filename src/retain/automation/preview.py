"""``retain playbook preview``: who would enter a playbook now, and what they would get — writing nothing.

:func:`preview_playbook` plans the entries exactly as a run would (trigger, conditions, re-entry against the
enrolments already stored, arm), then renders every step for the first few treated entrants with the same
action handlers a run uses, into rows that are shown and thrown away. The pressure rules are not applied (they
depend on the other playbooks of a run): a run may still suppress some of these messages or defer them past the
quiet hours.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from retain.automation.actions import ACTIONS, ActionWrites, LinkSigner, StepJob
from retain.automation.actions_spec import format_delay
from retain.automation.enrolments import Enrolment
from retain.automation.entries import Entry, EntryOutcome, History, RunInputs, plan_entries
from retain.automation.loading import LoadedPlaybook
from retain.automation.outbox import message_key
from retain.automation.recipients import contacts, customer_record, profile_rows
from retain.errors import InputError
from retain.state.tables import Arm, EnrolmentStatus

__all__ = ["Preview", "PreviewCustomer", "RenderedStep", "preview_playbook"]


@dataclass(frozen=True)
class RenderedStep:
    """One step as the customer (or the team) would get it."""

    step: int
    action: str
    delay: str
    text: str
    """The message in full: an email's headers and text, a webhook's JSON body, a task's title …"""


@dataclass(frozen=True)
class PreviewCustomer:
    """A treated entrant and every step rendered for them."""

    entry: Entry
    steps: list[RenderedStep]


@dataclass
class Preview:
    """Who would enter ``playbook`` at ``as_of``."""

    playbook: LoadedPlaybook
    as_of: datetime
    fired: int = 0
    entered: int = 0
    entered_holdout: int = 0
    already_enrolled: int = 0
    not_eligible: dict[str, int] = field(default_factory=lambda: {"conditions": 0, "reentry": 0})
    first: list[Entry] = field(default_factory=list)
    """The first entrants (both arms), with their trigger detail."""
    rendered: list[PreviewCustomer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _show(writes: ActionWrites, before: dict[str, int]) -> str:
    """The row the handler just added, as text."""
    if len(writes.outbox) > before["outbox"]:
        message = writes.outbox[-1]
        payload = dict(message.payload)
        if message.kind == "email":
            lines = [f"To: {payload['to']}", f"Subject: {payload['subject']}", "", payload["text"].rstrip("\n")]
            if payload.get("html"):
                lines += ["", f"(and an HTML part of {len(payload['html']):,} characters)"]
            return "\n".join(lines)
        return f"{message.kind} to channel {message.channel}:\n" + json.dumps(payload, indent=2, ensure_ascii=False)
    if len(writes.tasks) > before["tasks"]:
        task = writes.tasks[-1]
        who = f", for {task['assignee']}" if task["assignee"] else ""
        return f"Task: {task['title']} (due {task['due_at']:%Y-%m-%d}{who})"
    if len(writes.tags) > before["tags"]:
        return f"Tag: {writes.tags[-1]['tag']}"
    if len(writes.coupons) > before["coupons"]:
        coupon = writes.coupons[-1]
        off = f"{coupon['percent_off']:g} % off" if coupon["percent_off"] else f"{coupon['amount_off']:g} off"
        return f"Coupon {coupon['code']}: {off}, valid until {coupon['expires_at']:%Y-%m-%d}"
    return "Recorded (nothing is sent)"


def _render(
    playbook: LoadedPlaybook, entry: Entry, customer: dict, links: LinkSigner, as_of: datetime
) -> list[RenderedStep]:
    enrolment = Enrolment(
        id=0, playbook=playbook.name, playbook_version=playbook.version, customer_id=entry.customer_id,
        trigger_key=entry.trigger_key, arm=Arm.TREATMENT, fired_at=entry.fired_at, enrolled_at=as_of,
        detail=entry.detail, status=EnrolmentStatus.ACTIVE, next_step=0, next_step_due_at=as_of,
    )  # fmt: skip
    writes = ActionWrites()
    rendered = []
    for index, step in enumerate(playbook.spec.steps):
        send_at = as_of + step.delay
        key = message_key(playbook.name, playbook.version, index, entry.customer_id, entry.trigger_key)
        job = StepJob(playbook, enrolment, index, step, customer, send_at, key, links, writes.issued.get(0))
        before = {"outbox": len(writes.outbox), "tasks": len(writes.tasks), "tags": len(writes.tags)}
        before["coupons"] = len(writes.coupons)
        try:
            ACTIONS[step.action](job, writes)
        except InputError as error:
            text = f"Cannot be carried out: {error}"
        else:
            text = _show(writes, before)
        rendered.append(RenderedStep(index, str(step.action), format_delay(step.delay), text))
    return rendered


def preview_playbook(
    playbook: LoadedPlaybook,
    inputs: RunInputs,
    history: Callable[[list[str]], History],
    *,
    workspace_id: str,
    links: LinkSigner,
    show: int = 3,
    first: int = 10,
) -> Preview:
    """Who would enter ``playbook`` at ``inputs.as_of``, with the first ``show`` treated entrants' steps rendered.

    Parameters
    ----------
    playbook
        The playbook (enabled or not).
    inputs
        The run's inputs.
    history
        The stored enrolments of the customers the trigger fires for (read-only).
    workspace_id
        Salts the arms.
    links
        Signs the links in the rendered messages.
    show
        How many treated entrants to render the steps of.
    first
        How many entrants to list.

    Raises
    ------
    InputError
        The trigger or the conditions cannot be evaluated (e.g. no profile yet), or ``show``/``first`` < 0.
    """
    if show < 0 or first < 0:
        raise InputError(f"show and first must be 0 or more, got show={show}, first={first}.")
    plan = plan_entries(playbook, inputs, history, workspace_id=workspace_id)
    entered = plan.entered
    preview = Preview(
        playbook,
        inputs.as_of,
        fired=len(plan.entries),
        entered=len(entered),
        entered_holdout=sum(1 for e in entered if e.arm is Arm.HOLDOUT),
        already_enrolled=plan.count(EntryOutcome.ALREADY_ENROLLED),
        not_eligible={"conditions": plan.count(EntryOutcome.CONDITIONS), "reentry": plan.count(EntryOutcome.REENTRY)},
        first=entered[:first],
    )
    chosen = [e for e in entered if e.arm is Arm.TREATMENT][:show]
    ids = {e.customer_id for e in chosen}
    people, profiles = contacts(inputs, ids), profile_rows(inputs, ids)
    for entry in chosen:
        customer = customer_record(profiles.get(entry.customer_id), people[entry.customer_id], entry.customer_id)
        preview.rendered.append(PreviewCustomer(entry, _render(playbook, entry, customer, links, inputs.as_of)))
    return preview
