"""The playbook runner: enrol who the triggers fire for, then carry out every step that is due.

:func:`run_playbooks` takes the playbooks of one run, highest priority first, and works in two phases on the
state database (the service holds the workspace's ``playbooks`` lock, so two runs never interleave):

1. **Enrol** — per playbook, in **one transaction**: evaluate the trigger at ``as_of``, filter by the
   conditions and the re-entry rule (:mod:`retain.automation.entries`), and insert the enrolments with their arm.
   The unique (playbook, customer, trigger key) makes it idempotent; a crash leaves a playbook's batch whole or
   absent.
2. **Steps** — in rounds: every active enrolment whose next step is due (``enrolled_at + delay <= as_of``) is a
   candidate. A step with ``recheck`` whose conditions no longer hold is ``skipped`` and the enrolment
   ``exited``. The other candidates of **all** playbooks go to one :func:`retain.automation.pressure.decide` call
   (priority conflicts, the frequency cap counting what was sent or held out in the last ``per_days`` days, the
   suppression list, quiet hours). Then, per playbook and in one transaction: treated customers' allowed steps
   run their action (:data:`retain.automation.actions.ACTIONS`: outbox rows, tasks, tags, coupons); holdout
   customers' allowed steps are recorded ``held_out`` — they went through the same decisions, so they are what
   *would* have been sent, and never get an outbox row; suppressed steps are recorded with their reason. Each
   enrolment moves on one step per round, so a step due right after another (a coupon, then its email) is
   decided in the next round, seeing the first one's send.

Choices the rules leave open:

- Candidates are due at ``as_of`` (a step cannot go before the run that decides it); quiet hours may defer it.
- A holdout's would-be sends count against the customer's frequency cap like real ones: both arms then get the
  same exposure to the other playbooks, and the comparison isolates this playbook's messages.
- A suppressed step is not retried; the enrolment moves on to its next step.
- Enrolments keep the version they entered with (it is in the idempotency key), but run the steps of the
  playbook file as it is now; an enrolment whose next step no longer exists completes.
- A playbook left out of the run (disabled, or not named) keeps its active enrolments waiting.
- A customer's contact details and time zone come from the ``customers`` table as known at ``as_of`` (the
  ``timezone`` key of ``attributes``); the rest of the template context from the current profile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from retain.automation.actions import ACTIONS, ActionWrites, LinkSigner, StepJob, issued_coupons, write_actions
from retain.automation.actions_spec import StepSpec
from retain.automation.enrolments import (
    Enrolment,
    StepRecord,
    advance,
    due_enrolments,
    enrol,
    enrolment_history,
    recent_sends,
    record_steps,
)
from retain.automation.entries import EntryOutcome, RunInputs, conditions_met, plan_entries
from retain.automation.loading import LoadedPlaybook
from retain.automation.outbox import message_key
from retain.automation.pressure import CUSTOMER_FACING, Candidate, Decision, PressureSettings, SuppressionReason, decide
from retain.automation.recipients import contacts, customer_record, profile_rows
from retain.automation.suppression import listed
from retain.errors import InputError
from retain.state.tables import Arm, EnrolmentStatus, StepStatus

__all__ = ["PlaybookRun", "Progress", "RunReport", "RunSettings", "run_playbooks"]

_COUNTED = (StepStatus.ENQUEUED, StepStatus.DONE, StepStatus.HELD_OUT)
"""Step outcomes that count against the frequency cap (sent, or would have been)."""

_FAILURES_KEPT = 5
_LOOKUP_LIMIT = 5_000

Progress = Callable[[str, int], None]
"""``progress(playbook, round)``: before each playbook's enrolment (round 0), then before each round of steps
(round 1, 2 … with playbook ``""``)."""


@dataclass(frozen=True)
class RunSettings:
    """What a run needs beyond its inputs.

    Parameters
    ----------
    workspace_id
        Salts the arms (with each playbook's name).
    pressure
        Frequency cap, quiet hours, default time zone.
    links
        Signs the unsubscribe and survey links (and derives coupon codes).
    now
        Wall-clock time, recorded as the rows' creation time.
    """

    workspace_id: str
    pressure: PressureSettings
    links: LinkSigner
    now: datetime


@dataclass
class PlaybookRun:
    """What one run did for one playbook."""

    name: str
    version: str
    fired: int = 0
    """Entries the trigger fired (customer, trigger key)."""
    entered: int = 0
    entered_holdout: int = 0
    already_enrolled: int = 0
    not_eligible: dict[str, int] = field(default_factory=lambda: {"conditions": 0, "reentry": 0})
    enqueued: int = 0
    """Steps that wrote an outbox message (treatment arm)."""
    done: int = 0
    """Steps that wrote a task, tag or coupon, or recorded an offer (treatment arm)."""
    held_out: int = 0
    """Steps recorded ``held_out`` (holdout arm: would have been sent)."""
    skipped: int = 0
    """Steps skipped because the conditions no longer held (the enrolment exited)."""
    failed: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)
    """Suppressed steps by reason (both arms)."""
    failures: list[str] = field(default_factory=list)
    """The first few reasons steps failed."""
    error: str | None = None
    """Why the playbook could not run at all (e.g. its trigger needs a profile); nothing was written for it."""

    @property
    def suppressed_total(self) -> int:
        return sum(self.suppressed.values())


@dataclass
class RunReport:
    """What one run did, per playbook (highest priority first)."""

    as_of: datetime
    playbooks: list[PlaybookRun]

    def get(self, name: str) -> PlaybookRun:
        for run in self.playbooks:
            if run.name == name:
                return run
        raise KeyError(name)

    @property
    def errors(self) -> dict[str, str]:
        return {run.name: run.error for run in self.playbooks if run.error}


@dataclass(frozen=True)
class _Due:
    playbook: LoadedPlaybook
    enrolment: Enrolment
    index: int

    @property
    def step(self) -> StepSpec:
        return self.playbook.spec.steps[self.index]


@dataclass
class _Batch:
    """One playbook's writes of one round."""

    steps: list[StepRecord] = field(default_factory=list)
    moves: list[tuple[int, EnrolmentStatus, int | None, datetime | None]] = field(default_factory=list)
    writes: ActionWrites = field(default_factory=ActionWrites)


def _next(due: _Due) -> tuple[int, EnrolmentStatus, int | None, datetime | None]:
    steps, following = due.playbook.spec.steps, due.index + 1
    if following < len(steps):
        return (due.enrolment.id, EnrolmentStatus.ACTIVE, following, due.enrolment.enrolled_at + steps[following].delay)
    return (due.enrolment.id, EnrolmentStatus.COMPLETED, None, None)


def _enrol_playbook(
    engine: sa.Engine, playbook: LoadedPlaybook, inputs: RunInputs, settings: RunSettings, report: PlaybookRun
) -> set[str] | None:
    """Phase 1 for one playbook; returns who meets its conditions now (``None``: it has none)."""
    eligible = conditions_met(playbook.spec, inputs.trigger.profile, inputs.trigger.facts.backend)
    with engine.begin() as conn:
        plan = plan_entries(
            playbook,
            inputs,
            lambda ids: enrolment_history(conn, playbook.name, ids),
            workspace_id=settings.workspace_id,
            eligible=eligible,
        )
        new = plan.new_enrolments()
        inserted = enrol(conn, new, enrolled_at=inputs.as_of, now=settings.now)
    report.fired = len(plan.entries)
    report.entered = len(inserted)
    report.entered_holdout = sum(1 for e in new if e.arm is Arm.HOLDOUT and (e.customer_id, e.trigger_key) in inserted)
    report.already_enrolled = plan.count(EntryOutcome.ALREADY_ENROLLED) + len(new) - len(inserted)
    report.not_eligible["conditions"] = plan.count(EntryOutcome.CONDITIONS)
    report.not_eligible["reentry"] = plan.count(EntryOutcome.REENTRY)
    return eligible


def _collect(
    engine: sa.Engine, playbooks: Sequence[LoadedPlaybook], as_of: datetime
) -> tuple[list[_Due], dict[str, _Batch]]:
    """The steps due now; enrolments past their playbook's last step are completed in their batch."""
    due, batches = [], {p.name: _Batch() for p in playbooks}
    with engine.connect() as conn:
        for playbook in playbooks:
            for enrolment in due_enrolments(conn, playbook.name, as_of):
                index = enrolment.next_step
                if index is None or index >= len(playbook.spec.steps):
                    batches[playbook.name].moves.append((enrolment.id, EnrolmentStatus.COMPLETED, None, None))
                else:
                    due.append(_Due(playbook, enrolment, index))
    return due, batches


def _decide(
    engine: sa.Engine, due: Sequence[_Due], inputs: RunInputs, settings: RunSettings, people: Mapping[str, dict]
) -> list[Decision]:
    as_of = inputs.as_of
    candidates = [
        Candidate(
            playbook=d.playbook.name,
            priority=d.playbook.spec.priority,
            customer_id=d.enrolment.customer_id,
            trigger_key=d.enrolment.trigger_key,
            step=d.index,
            channel_kind=str(d.step.action),
            due_at=as_of,
            has_address=bool(people[d.enrolment.customer_id]["email"]),
        )
        for d in due
    ]
    ids = {d.enrolment.customer_id for d in due}
    with engine.connect() as conn:
        sent = recent_sends(
            conn,
            since=as_of - timedelta(days=settings.pressure.per_days),
            actions=[str(kind) for kind in CUSTOMER_FACING],
            statuses=_COUNTED,
            # A few candidates: look their sends up; many: one scan of the window is cheaper than many lookups.
            customer_ids=ids if len(ids) <= _LOOKUP_LIMIT else None,
        )
        on_list = {c: SuppressionReason(str(r)) for c, r in listed(conn, ids).items()}
    return decide(
        candidates,
        sent=[(c, t) for c, t in sent if c in ids],
        suppression_list=on_list,
        timezones={c: people[c]["timezone"] for c in ids},
        settings=settings.pressure,
    )


def _carry_out(
    decisions: Sequence[Decision],
    by_key: Mapping[tuple[str, str, str, int], _Due],
    batches: Mapping[str, _Batch],
    reports: Mapping[str, PlaybookRun],
    context: Callable[[_Due], tuple[dict[str, Any], Mapping[str, Any] | None]],
    settings: RunSettings,
    as_of: datetime,
) -> None:
    for decision in decisions:
        c = decision.candidate
        due = by_key[(c.playbook, c.customer_id, c.trigger_key, c.step)]
        e, batch, report = due.enrolment, batches[c.playbook], reports[c.playbook]
        key = message_key(c.playbook, e.playbook_version, due.index, e.customer_id, e.trigger_key)
        action = str(due.step.action)
        if decision.suppressed is not None:
            reason = str(decision.suppressed)
            batch.steps.append(StepRecord(e.id, due.index, action, StepStatus.SUPPRESSED, as_of, reason=reason))
            report.suppressed[reason] = report.suppressed.get(reason, 0) + 1
        elif e.arm is Arm.HOLDOUT:
            batch.steps.append(
                StepRecord(
                    e.id, due.index, action, StepStatus.HELD_OUT, as_of, idempotency_key=key, send_at=decision.send_at
                )
            )
            report.held_out += 1
        else:
            customer, coupon = context(due)
            job = StepJob(
                due.playbook, e, due.index, due.step, customer, decision.send_at or as_of, key, settings.links,
                batch.writes.issued.get(e.id, coupon),
            )  # fmt: skip
            try:
                status = ACTIONS[due.step.action](job, batch.writes)
            except InputError as error:
                message = str(error)
                batch.steps.append(StepRecord(e.id, due.index, action, StepStatus.FAILED, as_of, reason=message))
                report.failed += 1
                if len(report.failures) < _FAILURES_KEPT:
                    report.failures.append(f"{e.customer_id}, step {due.index}: {message}")
            else:
                batch.steps.append(
                    StepRecord(e.id, due.index, action, status, as_of, idempotency_key=key, send_at=job.send_at)
                )
                if status is StepStatus.ENQUEUED:
                    report.enqueued += 1
                else:
                    report.done += 1
        batch.moves.append(_next(due))


def _steps_round(
    engine: sa.Engine,
    playbooks: Sequence[LoadedPlaybook],
    inputs: RunInputs,
    settings: RunSettings,
    eligible: Mapping[str, set[str] | None],
    reports: Mapping[str, PlaybookRun],
) -> bool:
    """One round of phase 2; ``False`` when nothing was due."""
    as_of = inputs.as_of
    due, batches = _collect(engine, playbooks, as_of)
    if not due and not any(b.moves for b in batches.values()):
        return False
    checked = []
    for d in due:
        met = eligible[d.playbook.name]
        if d.step.recheck and met is not None and d.enrolment.customer_id not in met:
            batch = batches[d.playbook.name]
            batch.steps.append(
                StepRecord(
                    d.enrolment.id, d.index, str(d.step.action), StepStatus.SKIPPED, as_of,
                    reason="the playbook's conditions no longer hold",
                )
            )  # fmt: skip
            batch.moves.append((d.enrolment.id, EnrolmentStatus.EXITED, None, None))
            reports[d.playbook.name].skipped += 1
        else:
            checked.append(d)
    people = contacts(inputs, {d.enrolment.customer_id for d in checked})
    decisions = _decide(engine, checked, inputs, settings, people) if checked else []
    by_key = {(d.playbook.name, d.enrolment.customer_id, d.enrolment.trigger_key, d.index): d for d in checked}
    treated_ids = set()
    for decision in decisions:
        c = decision.candidate
        if (
            decision.suppressed is None
            and by_key[(c.playbook, c.customer_id, c.trigger_key, c.step)].enrolment.arm is Arm.TREATMENT
        ):
            treated_ids.add(c.customer_id)
    profiles = profile_rows(inputs, treated_ids)
    with engine.connect() as conn:
        coupons = issued_coupons(conn, [d.enrolment.id for d in checked if d.enrolment.customer_id in treated_ids])

    def context(d: _Due) -> tuple[dict[str, Any], Mapping[str, Any] | None]:
        customer = d.enrolment.customer_id
        return customer_record(profiles.get(customer), people[customer], customer), coupons.get(d.enrolment.id)

    _carry_out(decisions, by_key, batches, reports, context, settings, as_of)
    for playbook in playbooks:
        batch = batches[playbook.name]
        if not batch.steps and not batch.moves:
            continue
        with engine.begin() as conn:
            record_steps(conn, batch.steps)
            write_actions(conn, batch.writes, now=settings.now)
            advance(conn, batch.moves)
    return True


def run_playbooks(
    engine: sa.Engine,
    playbooks: Sequence[LoadedPlaybook],
    inputs: RunInputs,
    settings: RunSettings,
    *,
    progress: Progress | None = None,
) -> RunReport:
    """Run ``playbooks`` once at ``inputs.as_of``: enrol, then carry out every step that is due.

    Parameters
    ----------
    engine
        The state database (each playbook's writes are one transaction of their own).
    playbooks
        The playbooks to run (the caller picks the enabled ones); run highest priority first.
    inputs
        Facts, ``as_of``, the current and previous profiles and segment memberships.
    settings
        Workspace id, pressure rules, link signer and wall-clock time.
    progress
        Told about each playbook as it starts (for a progress display).

    Returns
    -------
    RunReport
        Per playbook: entries fired, entered (and held out), already enrolled, not eligible, and the steps
        enqueued, done, held out, skipped, failed and suppressed by reason. A playbook that cannot run (its
        trigger needs a profile that does not exist, a segment that is not defined …) has ``error`` set and
        writes nothing; the others run.
    """
    ordered = sorted(playbooks, key=lambda p: (-p.spec.priority, p.name))
    reports = {p.name: PlaybookRun(p.name, p.version) for p in ordered}
    eligible: dict[str, set[str] | None] = {}
    running = []
    for playbook in ordered:
        if progress is not None:
            progress(playbook.name, 0)
        try:
            eligible[playbook.name] = _enrol_playbook(engine, playbook, inputs, settings, reports[playbook.name])
        except InputError as error:
            reports[playbook.name].error = str(error)
            continue
        running.append(playbook)
    rounds = 1 + max((len(p.spec.steps) for p in running), default=-1)  # none when no playbook runs
    for number in range(1, rounds + 1):  # each round moves every due enrolment one step on: enough rounds
        if progress is not None:
            progress("", number)
        if not _steps_round(engine, running, inputs, settings, eligible, reports):
            break
    return RunReport(inputs.as_of, [reports[p.name] for p in ordered])
