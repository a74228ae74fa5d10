"""Pressure rules (placeholder): suppression list, no address, priority conflict and the frequency cap.

This is a minimal stand-in with the interface of the pressure helper's module (``/work/briefs/pressure.md``),
so the playbook runner can be built and tested meanwhile; that module replaces this file when both are merged.
Quiet hours are not applied here (``send_at = due_at``).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from retain.automation.actions_spec import ActionKind
from retain.errors import InputError

__all__ = ["CUSTOMER_FACING", "Candidate", "Decision", "PressureSettings", "SuppressionReason", "decide"]


class SuppressionReason(StrEnum):
    """Why a candidate message was not sent."""

    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    ERASED = "erased"
    FREQUENCY_CAP = "frequency_cap"
    LOWER_PRIORITY = "lower_priority"
    NO_ADDRESS = "no_address"


CUSTOMER_FACING: frozenset[ActionKind] = frozenset(
    {ActionKind.EMAIL, ActionKind.WEBHOOK, ActionKind.FILE, ActionKind.OFFER, ActionKind.SURVEY, ActionKind.COUPON}
)
"""Kinds that reach the customer: they count against the cap and compete by priority."""

_LISTED = (SuppressionReason.UNSUBSCRIBED, SuppressionReason.BOUNCED, SuppressionReason.ERASED)


@dataclass(frozen=True)
class PressureSettings:
    """Cap and quiet hours (the ``[automation]`` section of ``retain.toml``)."""

    max_messages: int = 3
    per_days: int = 7
    quiet_start: time = time(21)
    quiet_end: time = time(8)
    default_timezone: str = "UTC"

    def __post_init__(self) -> None:
        for key in ("max_messages", "per_days"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"Pressure setting {key} must be a whole number >= 1, got {value!r}.")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PressureSettings:
        """The settings from a mapping; times may be ``"21:00"`` strings."""
        valid = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(valid))
        if unknown:
            raise InputError(f"Unknown pressure setting(s) {unknown}; valid keys are {', '.join(valid)}.")
        kwargs = dict(values)
        for key in ("quiet_start", "quiet_end"):
            if isinstance(kwargs.get(key), str):
                kwargs[key] = time.fromisoformat(kwargs[key])
        return cls(**kwargs)


@dataclass(frozen=True)
class Candidate:
    """One message a playbook step wants to send now."""

    playbook: str
    priority: int
    customer_id: str
    trigger_key: str
    step: int
    channel_kind: str
    due_at: datetime
    has_address: bool = True


@dataclass(frozen=True)
class Decision:
    """What happens to one candidate: ``send_at`` (UTC) or ``suppressed`` with the reason."""

    candidate: Candidate
    send_at: datetime | None
    suppressed: SuppressionReason | None


def _order(c: Candidate) -> tuple:
    return (c.customer_id, -c.priority, c.playbook, c.step, c.trigger_key)


def decide(
    candidates: Sequence[Candidate],
    *,
    sent: Sequence[tuple[str, datetime]],
    suppression_list: Mapping[str, SuppressionReason],
    timezones: Mapping[str, str | None],
    settings: PressureSettings,
) -> list[Decision]:
    """One decision per candidate, sorted by customer, priority (highest first), playbook and step."""
    del timezones  # quiet hours: not in this placeholder
    history: dict[str, list[datetime]] = defaultdict(list)
    for customer_id, at in sent:
        history[customer_id].append(at)
    span = timedelta(days=settings.per_days)
    decisions = []
    winner: dict[str, tuple[str, str]] = {}
    for c in sorted(candidates, key=_order):
        kind = ActionKind(c.channel_kind)
        facing = kind in CUSTOMER_FACING
        listed = suppression_list.get(c.customer_id)
        reason: SuppressionReason | None = None
        if listed in _LISTED and (listed is SuppressionReason.ERASED or kind is not ActionKind.TASK):
            reason = SuppressionReason(listed)
        elif kind is ActionKind.EMAIL and not c.has_address:
            reason = SuppressionReason.NO_ADDRESS
        elif facing and winner.setdefault(c.customer_id, (c.playbook, c.trigger_key)) != (c.playbook, c.trigger_key):
            reason = SuppressionReason.LOWER_PRIORITY
        elif facing:
            times = history[c.customer_id]
            if sum(1 for t in times if abs(t - c.due_at) < span) >= settings.max_messages:
                reason = SuppressionReason.FREQUENCY_CAP
            else:
                times.append(c.due_at)
        decisions.append(Decision(c, None if reason else c.due_at, reason))
    return decisions
