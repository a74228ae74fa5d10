"""``retain playbook backtest``: replay a playbook's trigger and conditions over history, writing nothing.

:func:`backtest_playbook` runs the entry logic of a real run (:func:`retain.automation.entries.plan_entries`) at
every date from ``since`` to ``until`` — each day, or each week, as often as ``retain playbook run`` would be
scheduled — with the re-entry rule judged against the entries of the replay itself (kept in memory, never
stored). At each date it reads the facts known then (the trigger evaluators filter by time) and, when the
trigger or the conditions need one, the **profile as of that date**, computed from the facts; a
``lifecycle`` or ``segment_entry`` trigger compares it with the profile of the previous replay date.

What cannot be replayed:

- the churn model's scores of the past are not kept, so a ``risk`` trigger is refused, and conditions on the
  risk and value columns (``p_churn``, ``expected_loss``, ``reason_code`` …) read today's values from the current
  snapshot (the report's ``notes`` say so);
- the pressure rules (cap, priority against the other playbooks, suppressions) are not applied: the message
  counts are what the playbook alone would send, an upper bound.

A trigger that looks back less than the replay step (``within_days: 1`` replayed weekly, or the day-exact
``inactive``, ``date`` and ``onboarding``) misses the entries between two replay dates; the notes say so too.

Messages: every entrant in the treatment arm gets the playbook's customer-facing steps (email, webhook, file,
offer, survey, coupon) whose delay has passed by ``until``; holdout entrants get none.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

import ibis
import pyarrow as pa

from retain.analytics.profile import PROFILE_COLUMNS, customer_profiles
from retain.analytics.segments import evaluate_segments
from retain.automation.entries import EntryOutcome, RunInputs, conditions_met, fired_entries, plan_entries
from retain.automation.loading import LoadedPlaybook
from retain.automation.pressure import CUSTOMER_FACING
from retain.automation.triggers import TriggerInputs, TriggerKind
from retain.automation.triggers_spec import SegmentEntryTrigger
from retain.contract.profile import PROFILE
from retain.engine import to_arrow
from retain.errors import InputError
from retain.facts import Facts
from retain.state.tables import Arm

__all__ = ["MAX_REPLAYS", "Backtest", "Every", "backtest_playbook"]

MAX_REPLAYS = 1000
"""Most replay dates one backtest evaluates (about three years of days)."""

_PROFILE_TRIGGERS = (TriggerKind.LIFECYCLE, TriggerKind.SEGMENT_ENTRY)
_DAY_EXACT = (TriggerKind.INACTIVE, TriggerKind.DATE, TriggerKind.ONBOARDING)
_NOT_REPLAYED = tuple(name for name in PROFILE.names if name not in PROFILE_COLUMNS)
"""Profile columns a refresh adds from the churn model and value estimates (not computed from the facts)."""


class Every(StrEnum):
    """How often the replay evaluates the trigger: as often as ``retain playbook run`` would be scheduled."""

    DAY = "day"
    WEEK = "week"

    @property
    def step(self) -> timedelta:
        return timedelta(days=1 if self is Every.DAY else 7)


@dataclass
class Backtest:
    """What a playbook would have done from ``since`` to ``until``."""

    playbook: LoadedPlaybook
    since: datetime
    until: datetime
    every: Every
    replays: int = 0
    fired: int = 0
    entered: int = 0
    entered_holdout: int = 0
    not_eligible: dict[str, int] = field(default_factory=lambda: {"conditions": 0, "reentry": 0})
    weeks: list[tuple[date, int]] = field(default_factory=list)
    """Entries per week (the Monday it starts on), every week of the range, empty weeks included."""
    messages_per_customer: dict[int, int] = field(default_factory=dict)
    """Number of messages → customers who would have got that many (treated entrants only)."""
    customers: int = 0
    """Distinct customers who would have entered (both arms)."""
    notes: list[str] = field(default_factory=list)

    @property
    def messages(self) -> int:
        """Messages the treated entrants would have got."""
        return sum(n * customers for n, customers in self.messages_per_customer.items())


def _monday(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())


def _profile_at(facts: Facts, at: datetime, activity_window_days: int, today: ibis.Table | None) -> ibis.Table:
    """The profile at ``at`` from the facts, with the columns a refresh adds taken from ``today`` (or null)."""
    computed = to_arrow(
        facts.backend, customer_profiles(facts.tables, as_of=at, activity_window_days=activity_window_days)
    )
    if today is not None:
        extra = to_arrow(facts.backend, today.select("customer_id", *[c for c in _NOT_REPLAYED if c in today.columns]))
        joined = computed.join(extra, "customer_id", join_type="left outer")
    else:
        joined = computed
    for name in _NOT_REPLAYED:
        if name not in joined.column_names:
            joined = joined.append_column(name, pa.nulls(joined.num_rows, PROFILE[name].type.arrow))
    return ibis.memtable(joined.select(list(PROFILE.names)))


def _window_days(playbook: LoadedPlaybook) -> int | None:
    trigger = playbook.spec.trigger
    if trigger.kind in _DAY_EXACT:
        return 1
    return getattr(trigger, "within_days", None)


def backtest_playbook(
    playbook: LoadedPlaybook,
    facts: Facts,
    *,
    since: datetime,
    until: datetime,
    every: Every | str = Every.DAY,
    workspace_id: str,
    activity_window_days: int = 90,
    segments: Mapping[str, str] | None = None,
    current_profile: ibis.Table | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Backtest:
    """Replay ``playbook``'s entries at every ``every`` from ``since`` to ``until`` (both included).

    Parameters
    ----------
    playbook
        The playbook (enabled or not).
    facts
        The lake, fixed; each replay date reads only what was known then.
    since, until
        The first and last replay instants (UTC).
    every
        ``day`` or ``week``.
    workspace_id
        Salts the arms (the same arms a run would draw).
    activity_window_days
        The workspace's lifecycle window (for the profiles of past dates).
    segments
        The user-defined segments (name → predicate) of ``retain.toml``, for a ``segment_entry`` trigger.
    current_profile
        The current snapshot's profile: conditions on the columns history does not keep read it.
    progress
        Called as ``progress(done, total)`` before each replay date.

    Raises
    ------
    InputError
        A ``risk`` trigger (past scores are not kept), ``until`` before ``since``, too many replay dates, an
        unknown ``every``, or a segment that ``retain.toml`` does not define.
    """
    try:
        every = Every(every)
    except ValueError:
        raise InputError(f"Unknown --every {every!r}; valid: {', '.join(e.value for e in Every)}.") from None
    spec = playbook.spec
    if spec.trigger.kind is TriggerKind.RISK:
        raise InputError(
            f"Playbook {spec.name} has a risk trigger, which cannot be replayed: the churn model's scores of past "
            f"dates are not kept. `retain playbook preview {spec.name}` shows who would enter now."
        )
    if until < since:
        raise InputError(f"--until {until:%Y-%m-%d} is before --since {since:%Y-%m-%d}; give a later --until.")
    replays = (until - since) // every.step + 1
    if replays > MAX_REPLAYS:
        raise InputError(
            f"{replays:,} replay dates from {since:%Y-%m-%d} to {until:%Y-%m-%d} every {every}; at most "
            f"{MAX_REPLAYS:,}: shorten the range or use --every week."
        )
    segment_defs: dict[str, str] = {}
    if isinstance(spec.trigger, SegmentEntryTrigger):
        name = spec.trigger.segment
        if name not in (segments or {}):
            raise InputError(f"Playbook {spec.name} watches segment {name!r}, which [segments] in retain.toml lacks.")
        segment_defs = {name: segments[name]}
    result = Backtest(playbook, since, until, every, replays=replays)
    window = _window_days(playbook)
    if window is not None and window * timedelta(days=1) < every.step:
        result.notes.append(
            f"the {spec.trigger.kind} trigger looks back {window} day(s) but the replay steps a {every}: entries "
            "between replay dates are missed; use --every day"
        )
    if spec.conditions:
        used = [c for c in _NOT_REPLAYED if re.search(rf"\b{c}\b", spec.conditions)]
        if used:
            where = "the current snapshot" if current_profile is not None else "nowhere (no snapshot yet: null)"
            result.notes.append(
                f"the conditions read {', '.join(used)} from {where}: past values of these columns are not kept"
            )
    needs_profile = spec.conditions is not None or spec.trigger.kind in _PROFILE_TRIGGERS
    history: dict[str, list[tuple[str, datetime]]] = {}
    entered_at: Counter[date] = Counter()
    messages: Counter[str] = Counter()
    customers: set[str] = set()
    facing = [s for s in spec.steps if s.action in CUSTOMER_FACING]
    previous = previous_members = None
    if needs_profile and spec.trigger.kind in _PROFILE_TRIGGERS:
        previous = _profile_at(facts, since - every.step, activity_window_days, current_profile)
        previous_members = evaluate_segments(previous, segment_defs) if segment_defs else None
    for number in range(replays):
        if progress is not None:
            progress(number, replays)
        at = since + number * every.step
        fired = None
        if spec.trigger.kind not in _PROFILE_TRIGGERS:
            # A fact trigger needs no profile to fire: compute the (costly) profile only on dates it fires.
            fired = fired_entries(spec, TriggerInputs(facts=facts, as_of=at, activity_window_days=activity_window_days))
            if not fired:
                continue
        profile = _profile_at(facts, at, activity_window_days, current_profile) if needs_profile else None
        members = evaluate_segments(profile, segment_defs) if segment_defs and profile is not None else None
        inputs = RunInputs(
            TriggerInputs(
                facts=facts,
                as_of=at,
                profile=profile,
                previous_profile=previous,
                segments=members,
                previous_segments=previous_members,
                activity_window_days=activity_window_days,
            ),
            segments=frozenset(segment_defs) if segment_defs else None,
            previous_segments=frozenset(segment_defs) if segment_defs else None,
        )
        eligible = conditions_met(spec, profile, facts.backend)
        plan = plan_entries(
            playbook,
            inputs,
            lambda ids: {c: history[c] for c in ids if c in history},
            workspace_id=workspace_id,
            eligible=eligible,
            fired=fired,
        )
        result.fired += len(plan.entries)
        result.not_eligible["conditions"] += plan.count(EntryOutcome.CONDITIONS)
        result.not_eligible["reentry"] += plan.count(EntryOutcome.REENTRY)
        for entry in plan.entered:
            history.setdefault(entry.customer_id, []).append((entry.trigger_key, at))
            customers.add(entry.customer_id)
            entered_at[_monday(at)] += 1
            result.entered += 1
            if entry.arm is Arm.HOLDOUT:
                result.entered_holdout += 1
                continue
            messages[entry.customer_id] += sum(1 for s in facing if at + s.delay <= until)
        previous, previous_members = profile, members
    if progress is not None:
        progress(replays, replays)
    first, last = _monday(since), _monday(until)
    result.weeks = [
        (first + timedelta(weeks=k), entered_at.get(first + timedelta(weeks=k), 0))
        for k in range((last - first).days // 7 + 1)
    ]
    result.messages_per_customer = dict(sorted(Counter(messages.values()).items()))
    result.customers = len(customers)
    return result
