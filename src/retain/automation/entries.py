"""Who enters a playbook at ``as_of``: the trigger, then the conditions, then the re-entry rule.

Shared by the runner (which then enrols them), ``retain playbook preview`` (which only shows them) and the
backtest (which replays it at many dates). Every entry the trigger fires ends in exactly one outcome
(:class:`EntryOutcome`), checked in this order:

1. ``already_enrolled`` — the customer has an enrolment in this playbook for this trigger key (idempotency: a
   second run at the same ``as_of`` enrols nobody new);
2. ``conditions`` — the playbook's ``conditions`` do not hold for the customer in the current profile (a
   customer the profile does not hold yet — new since the last refresh — does not meet them);
3. ``reentry`` — the re-entry rule refuses: ``once``, the customer entered before (any trigger key);
   ``after_days``, their last entry is less than ``days`` days before ``as_of``; ``every_trigger`` never refuses
   a new key. When the trigger fires several keys for one customer at once (two events in the window), the
   earliest enters and the rule judges the others against it;
4. ``entered``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import ibis

from retain.analytics._segment_compile import compile_predicate
from retain.automation.arms import Arm, arm, arm_salt
from retain.automation.enrolments import NewEnrolment
from retain.automation.loading import LoadedPlaybook
from retain.automation.spec import PlaybookSpec, ReentryRule
from retain.automation.triggers import TRIGGERS, TriggerInputs
from retain.automation.triggers_spec import SegmentEntryTrigger
from retain.contract.profile import PROFILE
from retain.engine import to_arrow
from retain.errors import InputError

__all__ = [
    "Entry",
    "EntryOutcome",
    "EntryPlan",
    "History",
    "RunInputs",
    "conditions_met",
    "fired_entries",
    "plan_entries",
]

History = Mapping[str, list[tuple[str, datetime]]]
"""Earlier enrolments in one playbook: customer → [(trigger key, enrolled_at)]."""

_NEEDS_PROFILE = "run `retain refresh` first, so that a current profile exists"


class EntryOutcome(StrEnum):
    """What became of one entry the trigger fired (see the module docstring for the order of the checks)."""

    ENTERED = "entered"
    ALREADY_ENROLLED = "already_enrolled"
    CONDITIONS = "conditions"
    REENTRY = "reentry"


@dataclass(frozen=True)
class RunInputs:
    """What the playbooks of one run read: the trigger inputs and which user segments each snapshot evaluated.

    Parameters
    ----------
    trigger
        Facts, ``as_of``, the current and previous profiles and segment memberships.
    segments
        The user-defined segments the current snapshot evaluated (``None``: no snapshot).
    previous_segments
        Those the previous snapshot evaluated; a ``segment_entry`` trigger on a segment the previous snapshot
        lacks sees no previous membership (the segment is new: its first snapshot is the baseline).
    """

    trigger: TriggerInputs
    segments: frozenset[str] | None = None
    previous_segments: frozenset[str] | None = None

    @property
    def as_of(self) -> datetime:
        return self.trigger.as_of

    def for_playbook(self, spec: PlaybookSpec) -> TriggerInputs:
        """The trigger inputs of ``spec``; raises ``InputError`` for a segment the current snapshot lacks."""
        trigger = spec.trigger
        if not isinstance(trigger, SegmentEntryTrigger):
            return self.trigger
        if self.segments is not None and trigger.segment not in self.segments:
            raise InputError(
                f"Playbook {spec.name}: segment {trigger.segment!r} is not in the current snapshot (it has "
                f"{', '.join(sorted(self.segments)) or 'no user-defined segments'}). Define it under [segments] in "
                "retain.toml and run `retain refresh`."
            )
        if self.previous_segments is None or trigger.segment not in self.previous_segments:
            return replace(self.trigger, previous_segments=None)
        return self.trigger


@dataclass(frozen=True)
class Entry:
    """One entry the trigger fired, with its outcome (and the arm, when it entered)."""

    customer_id: str
    trigger_key: str
    fired_at: datetime
    detail: dict[str, Any]
    outcome: EntryOutcome
    arm: Arm | None = None


@dataclass(frozen=True)
class EntryPlan:
    """Who enters one playbook at ``as_of``, and what became of every other entry."""

    playbook: LoadedPlaybook
    as_of: datetime
    salt: str
    """The arms' salt (:func:`retain.automation.arms.arm_salt`)."""
    entries: list[Entry] = field(default_factory=list)

    def count(self, outcome: EntryOutcome) -> int:
        return sum(1 for e in self.entries if e.outcome is outcome)

    @property
    def entered(self) -> list[Entry]:
        return [e for e in self.entries if e.outcome is EntryOutcome.ENTERED]

    def new_enrolments(self) -> list[NewEnrolment]:
        """The enrolments to write: first step due at ``as_of`` plus its delay."""
        spec, first = self.playbook.spec, self.playbook.spec.steps[0]
        return [
            NewEnrolment(
                playbook=spec.name,
                playbook_version=self.playbook.version,
                customer_id=e.customer_id,
                trigger_key=e.trigger_key,
                arm=e.arm or Arm.TREATMENT,
                salt=self.salt,
                holdout_share=spec.holdout,
                fired_at=e.fired_at,
                detail=e.detail,
                next_step_due_at=self.as_of + first.delay,
            )
            for e in self.entered
        ]


def conditions_met(spec: PlaybookSpec, profile: ibis.Table | None, backend: ibis.BaseBackend) -> set[str] | None:
    """The customers of ``profile`` who meet ``spec.conditions`` (``None`` when the playbook has none).

    Raises
    ------
    InputError
        The playbook has conditions and there is no profile ("run `retain refresh` first").
    """
    if spec.conditions is None:
        return None
    if profile is None:
        raise InputError(
            f"Playbook {spec.name} has conditions, which are read from the customer profile: {_NEEDS_PROFILE}."
        )
    predicate = compile_predicate(spec.conditions, PROFILE.types())
    ids = to_arrow(backend, profile.filter(predicate(profile)).select("customer_id"))
    return set(ids.column("customer_id").to_pylist())


def fired_entries(spec: PlaybookSpec, inputs: TriggerInputs) -> list[dict[str, Any]]:
    """The trigger's entries at ``inputs.as_of``: ``customer_id, trigger_key, fired_at, detail`` (parsed JSON), sorted
    by customer, time and key."""
    expr = TRIGGERS[spec.trigger.kind].evaluate(inputs, **spec.trigger.params())
    rows = to_arrow(inputs.facts.backend, expr).to_pylist()
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    rows.sort(key=lambda r: (r["customer_id"], r["fired_at"], r["trigger_key"]))
    return rows


def _reentry_allows(spec: PlaybookSpec, earlier: Iterable[datetime], as_of: datetime) -> bool:
    times = list(earlier)
    rule = spec.reentry.rule
    if rule is ReentryRule.EVERY_TRIGGER or not times:
        return True
    if rule is ReentryRule.ONCE:
        return False
    return as_of >= max(times) + timedelta(days=spec.reentry.days or 0)


def plan_entries(
    playbook: LoadedPlaybook,
    inputs: RunInputs,
    history: Callable[[list[str]], History],
    *,
    workspace_id: str,
    eligible: set[str] | None = None,
    fired: list[dict[str, Any]] | None = None,
) -> EntryPlan:
    """Evaluate ``playbook``'s trigger at ``inputs.as_of`` and decide every entry's outcome.

    Parameters
    ----------
    playbook
        The playbook.
    inputs
        The run's inputs.
    history
        Given the customers the trigger fired for, their earlier enrolments in this playbook (read from the
        state database by the runner and the preview; kept in memory by the backtest).
    workspace_id
        Salts the arms (with the playbook's name).
    eligible
        The customers meeting the conditions (:func:`conditions_met`), when the caller has them already.
    fired
        The trigger's entries (:func:`fired_entries`), when the caller has evaluated them already.

    Raises
    ------
    InputError
        The trigger or the conditions need a profile that does not exist, or a parameter is invalid.
    """
    spec = playbook.spec
    as_of = inputs.as_of
    rows = fired if fired is not None else fired_entries(spec, inputs.for_playbook(spec))
    if eligible is None:
        eligible = conditions_met(spec, inputs.trigger.profile, inputs.trigger.facts.backend)
    known = history(sorted({r["customer_id"] for r in rows}))
    salt = arm_salt(workspace_id, spec.name)
    entries: list[Entry] = []
    entered_now: dict[str, list[datetime]] = {}
    for row in rows:
        customer, key = row["customer_id"], row["trigger_key"]
        earlier = known.get(customer, [])
        if any(k == key for k, _ in earlier):
            outcome = EntryOutcome.ALREADY_ENROLLED
        elif eligible is not None and customer not in eligible:
            outcome = EntryOutcome.CONDITIONS
        elif not _reentry_allows(spec, [t for _, t in earlier] + entered_now.get(customer, []), as_of):
            outcome = EntryOutcome.REENTRY
        else:
            outcome = EntryOutcome.ENTERED
            entered_now.setdefault(customer, []).append(as_of)
        drawn = arm(spec.name, customer, salt, spec.holdout) if outcome is EntryOutcome.ENTERED else None
        entries.append(Entry(customer, key, row["fired_at"], row["detail"], outcome, drawn))
    return EntryPlan(playbook, as_of, salt, entries)
