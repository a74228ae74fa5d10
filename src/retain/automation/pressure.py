"""Pressure rules: which of the messages the playbooks want to send now may go, when, and why not.

:func:`decide` is pure (no database, no engine, no clock): the runner passes the candidates of one run, what was
already sent or queued, the suppression list and the customers' time zones, and records every
:class:`Decision` it gets back. The rules, applied per customer in this order (the first that stops a candidate
names its reason):

1. **Suppression list.** A customer on it (``unsubscribed``, ``bounced``, ``erased``) gets no step of any kind
   except ``task`` — a task reaches a person on the team, who may still decide to call a customer who only
   unsubscribed — and an ``erased`` customer gets nothing at all, not even a task (:data:`ALLOWED_DESPITE`).
2. **No address.** An ``email`` step for a customer without an email address is suppressed ``no_address``
   (:data:`NEEDS_ADDRESS`; other kinds ignore ``has_address``).
3. **Priority.** Among the customer's remaining *customer-facing* candidates (:data:`CUSTOMER_FACING`) one
   enrolment wins: the highest ``priority``, ties broken by playbook name, then trigger key, alphabetically;
   every other customer-facing candidate is suppressed ``lower_priority`` for this run. The winner is chosen
   after rules 1–2, so a playbook that could not reach the customer anyway does not silence the next one, and
   before rule 5, so a capped winner does not hand the customer to a lower playbook. Steps of the winning
   enrolment are not in conflict with each other. ``task``, ``tag`` and ``points`` steps never conflict: they
   reach the team or the ledger, not the customer, so they go whichever playbook wins.
4. **Quiet hours.** A customer-facing message due inside the quiet hours of the customer's local time gets
   ``send_at`` = the next local end of the quiet hours (:mod:`retain.automation.quiet_hours`, DST-correct);
   otherwise, and for every other kind, ``send_at = due_at`` (as a UTC instant). A missing or unknown zone
   uses ``settings.default_timezone``.
5. **Frequency cap.** Counting ``sent`` and the messages allowed earlier in this call, no customer gets more
   than ``max_messages`` customer-facing messages in any window ``[t, t + per_days × 24 h)``, placed anywhere and
   measured on ``send_at`` (so a deferred message counts when it goes). Candidates are taken in output order
   (higher priority first, then step); one that would break the cap is suppressed ``frequency_cap``, not
   deferred. A window that ``sent`` alone already overfills blocks any new message inside it.

Every candidate gets exactly one decision; the output is sorted by customer, priority (highest first), playbook
and step (then trigger key, due time and kind), whatever the input order. Suppressed decisions have
``send_at = None``.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from retain.automation.actions_spec import ActionKind
from retain.automation.quiet_hours import load_zone, next_send_time
from retain.errors import InputError

__all__ = [
    "ALLOWED_DESPITE",
    "CUSTOMER_FACING",
    "NEEDS_ADDRESS",
    "Candidate",
    "Decision",
    "PressureSettings",
    "SuppressionReason",
    "decide",
]


class SuppressionReason(StrEnum):
    """Why a candidate message was not sent (recorded with the suppression)."""

    UNSUBSCRIBED = "unsubscribed"  # from the suppression list
    BOUNCED = "bounced"  # from the suppression list
    ERASED = "erased"  # from the suppression list
    FREQUENCY_CAP = "frequency_cap"  # too many messages lately
    LOWER_PRIORITY = "lower_priority"  # another playbook won the customer
    NO_ADDRESS = "no_address"  # email step, customer has no email


CUSTOMER_FACING: frozenset[ActionKind] = frozenset(
    {ActionKind.EMAIL, ActionKind.WEBHOOK, ActionKind.FILE, ActionKind.OFFER, ActionKind.SURVEY, ActionKind.COUPON}
)
"""Kinds that reach the customer: they count against the cap, respect quiet hours and compete by priority.

A coupon is announced to the customer, so it counts; ``task``, ``tag`` and ``points`` reach the team or the
ledger and do not."""

ALLOWED_DESPITE: Mapping[SuppressionReason, frozenset[ActionKind]] = {
    SuppressionReason.UNSUBSCRIBED: frozenset({ActionKind.TASK}),
    SuppressionReason.BOUNCED: frozenset({ActionKind.TASK}),
    SuppressionReason.ERASED: frozenset(),
}
"""For each reason a suppression list may hold, the kinds still allowed for a customer listed with it."""

NEEDS_ADDRESS: frozenset[ActionKind] = frozenset({ActionKind.EMAIL})
"""Kinds suppressed ``no_address`` when the candidate has ``has_address=False``."""

_KINDS = ", ".join(kind.value for kind in ActionKind)
_LISTED = ", ".join(reason.value for reason in ALLOWED_DESPITE)


@dataclass(frozen=True)
class PressureSettings:
    """The pressure rules' settings (the ``[automation]`` section of ``retain.toml``).

    Parameters
    ----------
    max_messages
        Customer-facing messages a customer may get, across every playbook, in any ``per_days`` window (>= 1).
    per_days
        Length of the rolling window in days of 24 hours (>= 1).
    quiet_start, quiet_end
        Quiet hours ``[quiet_start, quiet_end)`` in the customer's local time; ``quiet_start > quiet_end``
        crosses midnight, ``quiet_start == quiet_end`` turns quiet hours off.
    default_timezone
        IANA zone for customers without a valid one.

    Raises
    ------
    InputError
        A value of the wrong type or out of range, or an unknown ``default_timezone``.
    """

    max_messages: int = 3
    per_days: int = 7
    quiet_start: time = time(21)
    quiet_end: time = time(8)
    default_timezone: str = "UTC"

    def __post_init__(self) -> None:
        for key in ("max_messages", "per_days"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(
                    f"Pressure setting {key} must be a whole number >= 1, got {value!r}; "
                    f"set [automation] {key} in retain.toml to 1 or more."
                )
        for key in ("quiet_start", "quiet_end"):
            value = getattr(self, key)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise InputError(
                    f"Pressure setting {key} must be a local time of day without a zone such as '21:00', "
                    f"got {value!r}; quiet hours are read in each customer's own time zone."
                )
        if load_zone(self.default_timezone) is None:
            raise InputError(
                f"Pressure setting default_timezone names no known time zone: {self.default_timezone!r}; "
                "expected an IANA name such as 'UTC', 'Europe/Berlin' or 'America/New_York'."
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PressureSettings:
        """Build the settings from a mapping such as the ``[automation]`` section of ``retain.toml``.

        Parameters
        ----------
        values
            Any of the field names; times as ``"HH:MM"`` / ``"HH:MM:SS"`` strings or :class:`datetime.time`
            (TOML's local time). Missing keys keep their defaults.

        Raises
        ------
        InputError
            An unknown key (the message lists the valid ones) or an invalid value.
        """
        valid = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(valid))
        if unknown:
            raise InputError(
                f"Unknown pressure setting(s) {', '.join(map(repr, unknown))}; valid keys are {', '.join(valid)}."
            )
        kwargs = dict(values)
        for key in ("quiet_start", "quiet_end"):
            if isinstance(kwargs.get(key), str):
                kwargs[key] = _parse_time(key, kwargs[key])
        return cls(**kwargs)


def _parse_time(key: str, text: str) -> time:
    try:
        parsed = time.fromisoformat(text.strip())
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is not None:
        raise InputError(
            f"Pressure setting {key} must be a time of day like '21:00' or '07:30:00', got {text!r}; "
            "use 24-hour HH:MM without a zone (quiet hours are read in each customer's own time zone)."
        )
    return parsed


@dataclass(frozen=True)
class Candidate:
    """One message a playbook step wants to send now.

    Parameters
    ----------
    playbook, priority
        The playbook and its priority (higher wins a conflict).
    customer_id, trigger_key
        The enrolment: which customer, for which trigger occurrence.
    step
        The step's position in the playbook.
    channel_kind
        What the step does, an :class:`~retain.automation.actions_spec.ActionKind` value (stored as that enum).
    due_at
        When the step became due; timezone-aware (UTC by convention).
    has_address
        For ``email`` steps: whether the customer has an email address.

    Raises
    ------
    InputError
        An unknown ``channel_kind`` (the message lists the valid ones), a naive ``due_at``, or a ``priority`` or
        ``step`` that is not a whole number.
    """

    playbook: str
    priority: int
    customer_id: str
    trigger_key: str
    step: int
    channel_kind: str
    due_at: datetime
    has_address: bool = True

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "channel_kind", ActionKind(self.channel_kind))
        except ValueError:
            raise InputError(
                f"Unknown channel kind {self.channel_kind!r} for playbook {self.playbook!r} step {self.step}; "
                f"valid kinds are {_KINDS}."
            ) from None
        for key in ("priority", "step"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(
                    f"Candidate {key} must be a whole number, got {value!r} "
                    f"(playbook {self.playbook!r}, customer {self.customer_id!r})."
                )
        _require_aware(
            self.due_at, f"due_at of playbook {self.playbook!r} step {self.step} for customer {self.customer_id!r}"
        )


@dataclass(frozen=True)
class Decision:
    """What happens to one candidate.

    Parameters
    ----------
    candidate
        The candidate decided on.
    send_at
        The UTC instant to send (``due_at``, or the end of the quiet hours); ``None`` when suppressed.
    suppressed
        Why it is not sent, or ``None`` when it is.
    """

    candidate: Candidate
    send_at: datetime | None
    suppressed: SuppressionReason | None

    @property
    def allowed(self) -> bool:
        """Whether the candidate is sent."""
        return self.suppressed is None


def decide(
    candidates: Sequence[Candidate],
    *,
    sent: Sequence[tuple[str, datetime]],
    suppression_list: Mapping[str, SuppressionReason],
    timezones: Mapping[str, str | None],
    settings: PressureSettings,
) -> list[Decision]:
    """Apply the pressure rules (module docstring) to the candidates of one run.

    Parameters
    ----------
    candidates
        The messages the playbook steps want to send now; at most one per (playbook, customer, trigger key, step).
    sent
        ``(customer_id, sent_at)`` of customer-facing messages already sent or queued (``sent_at`` being the
        time they go or went), counted by the frequency cap.
    suppression_list
        ``customer_id → reason``, the reason one of ``unsubscribed``, ``bounced``, ``erased``.
    timezones
        ``customer_id → IANA zone``; missing, ``None`` or unknown zones use ``settings.default_timezone``.
    settings
        Cap and quiet hours.

    Returns
    -------
    list[Decision]
        One decision per candidate, sorted by customer, priority (highest first), playbook, step, then trigger
        key, due time and kind.

    Raises
    ------
    InputError
        A naive ``sent_at``, a suppression reason that is not a list reason, or a duplicate candidate.
    """
    listed = _listed_reasons(suppression_list)
    history = _history(sent, {candidate.customer_id for candidate in candidates})
    span = timedelta(days=settings.per_days)
    default_zone = load_zone(settings.default_timezone)
    assert default_zone is not None  # PressureSettings validated it

    ordered = sorted(candidates, key=_output_order)
    _reject_duplicates(ordered)
    decisions: list[Decision] = []
    start = 0
    while start < len(ordered):
        stop = start
        while stop < len(ordered) and ordered[stop].customer_id == ordered[start].customer_id:
            stop += 1
        customer = ordered[start].customer_id
        zone = load_zone(timezones.get(customer)) or default_zone
        log = _SendLog(history.get(customer, []), settings.max_messages, span)
        decisions.extend(_decide_customer(ordered[start:stop], listed.get(customer), zone, log, settings))
        start = stop
    return decisions


def _decide_customer(
    group: Sequence[Candidate],
    listed: SuppressionReason | None,
    zone: ZoneInfo,
    log: _SendLog,
    settings: PressureSettings,
) -> list[Decision]:
    """Decisions for one customer's candidates (in output order)."""
    reasons: list[SuppressionReason | None] = []
    for candidate in group:
        if listed is not None and candidate.channel_kind not in ALLOWED_DESPITE[listed]:
            reasons.append(listed)
        elif candidate.channel_kind in NEEDS_ADDRESS and not candidate.has_address:
            reasons.append(SuppressionReason.NO_ADDRESS)
        else:
            reasons.append(None)
    contenders = [c for c, r in zip(group, reasons, strict=True) if r is None and c.channel_kind in CUSTOMER_FACING]
    winner = min((_enrolment_rank(c) for c in contenders), default=None)

    decisions = []
    for candidate, reason in zip(group, reasons, strict=True):
        if reason is not None:
            decisions.append(Decision(candidate, None, reason))
        elif candidate.channel_kind not in CUSTOMER_FACING:
            decisions.append(Decision(candidate, candidate.due_at.astimezone(UTC), None))
        elif _enrolment_rank(candidate) != winner:
            decisions.append(Decision(candidate, None, SuppressionReason.LOWER_PRIORITY))
        else:
            send_at = next_send_time(candidate.due_at, zone, settings.quiet_start, settings.quiet_end)
            if log.admits(send_at):
                log.add(send_at)
                decisions.append(Decision(candidate, send_at, None))
            else:
                decisions.append(Decision(candidate, None, SuppressionReason.FREQUENCY_CAP))
    return decisions


class _SendLog:
    """One customer's customer-facing send times, to test a new one against the rolling cap.

    A new send at ``x`` breaks the cap iff some ``limit`` other sends lie with ``x`` inside a span shorter than
    the window, i.e. iff a run of ``limit + 1`` consecutive times (sorted, ``x`` among them) spans less than it.
    """

    def __init__(self, times: list[datetime], limit: int, span: timedelta) -> None:
        self._times = sorted(times)
        self._limit = limit
        self._span = span

    def admits(self, at: datetime) -> bool:
        index = bisect.bisect_right(self._times, at)
        merged = [*self._times[:index], at, *self._times[index:]]
        for first in range(max(0, index - self._limit), index + 1):
            last = first + self._limit
            if last < len(merged) and merged[last] - merged[first] < self._span:
                return False
        return True

    def add(self, at: datetime) -> None:
        bisect.insort(self._times, at)


def _output_order(candidate: Candidate) -> tuple:
    return (
        candidate.customer_id,
        -candidate.priority,
        candidate.playbook,
        candidate.step,
        candidate.trigger_key,
        candidate.due_at,
        candidate.channel_kind,
    )


def _enrolment_rank(candidate: Candidate) -> tuple:
    """Smallest wins a conflict: highest priority, then playbook name, then trigger key."""
    return (-candidate.priority, candidate.playbook, candidate.trigger_key)


def _reject_duplicates(ordered: list[Candidate]) -> None:
    seen: set[tuple] = set()
    for candidate in ordered:
        key = (candidate.playbook, candidate.customer_id, candidate.trigger_key, candidate.step)
        if key in seen:
            raise InputError(
                f"Candidate for playbook {candidate.playbook!r}, customer {candidate.customer_id!r}, trigger key "
                f"{candidate.trigger_key!r}, step {candidate.step} is given twice; pass each step of an enrolment "
                "once (a message is never sent twice)."
            )
        seen.add(key)


def _listed_reasons(suppression_list: Mapping[str, SuppressionReason]) -> dict[str, SuppressionReason]:
    listed = {}
    for customer, reason in suppression_list.items():
        try:
            parsed = SuppressionReason(reason)
        except ValueError:
            parsed = None
        if parsed not in ALLOWED_DESPITE:
            raise InputError(
                f"Suppression list entry for customer {customer!r} has reason {str(reason)!r}; "
                f"a suppression list holds only {_LISTED}."
            )
        listed[customer] = parsed
    return listed


def _history(sent: Sequence[tuple[str, datetime]], customers: set[str]) -> dict[str, list[datetime]]:
    history: dict[str, list[datetime]] = defaultdict(list)
    for position, (customer, sent_at) in enumerate(sent):
        _require_aware(sent_at, f"sent[{position}] for customer {customer!r}")
        if customer in customers:
            history[customer].append(sent_at)
    return history


def _require_aware(value: object, what: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InputError(
            f"{what} must be a timezone-aware datetime, got {value!r}; "
            "pass a UTC instant such as datetime(2024, 3, 1, 9, 0, tzinfo=UTC)."
        )
