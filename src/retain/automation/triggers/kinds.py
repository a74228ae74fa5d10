"""The trigger kinds of a playbook (the ``trigger.kind`` values of ``playbooks/<name>.yaml``)."""

from __future__ import annotations

from enum import StrEnum

from retain.errors import InputError

__all__ = ["TriggerKind"]


class TriggerKind(StrEnum):
    """What makes a customer enter a playbook; each kind has one evaluator in ``TRIGGERS``."""

    SIGNUP = "signup"
    EVENT = "event"
    INACTIVE = "inactive"
    DATE = "date"
    ONBOARDING = "onboarding"
    RISK = "risk"
    SEGMENT_ENTRY = "segment_entry"
    LIFECYCLE = "lifecycle"
    TICKET = "ticket"
    SURVEY = "survey"
    CHURNED = "churned"

    @classmethod
    def parse(cls, value: TriggerKind | str) -> TriggerKind:
        """``value`` as a :class:`TriggerKind`; an unknown name raises ``InputError`` listing the valid ones."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            valid = ", ".join(kind.value for kind in cls)
            raise InputError(f"Unknown trigger kind {value!r}. Valid kinds: {valid}.") from None
