"""A playbook file as a validated model: :class:`PlaybookSpec` and its parts.

A playbook is ``playbooks/<name>.yaml``::

    name: wake_up
    description: Wake up customers with no login or order for 30 days.
    enabled: true                 # default true
    priority: 50                  # 0..100, default 50: the higher one wins a customer several playbooks want
    trigger: {kind: inactive, days: 30}
    conditions: "p_churn >= 0.1 AND lifecycle_state != 'churned'"   # optional, over the profile columns
    steps:
      - {action: email, template: wake_up}
      - {action: task, title: "Call {{ customer.name }}", delay: 3d}
    holdout: 0.1                  # 0 < holdout <= 0.5, default 0.1
    reentry: {rule: after_days, days: 90}   # default {rule: once}
    goal: {metric: retained, window_days: 30}

The trigger models are in :mod:`retain.automation.triggers_spec`, the step models in
:mod:`retain.automation.actions_spec`; reading files (with errors that name file, key and the valid keys) is
:mod:`retain.automation.loading`.
"""

from __future__ import annotations

import difflib
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator, model_validator

from retain.analytics._segment_compile import compile_predicate
from retain.automation.actions_spec import (
    STEP_SPECS,
    ActionKind,
    CouponStep,
    EmailStep,
    FileStep,
    OfferStep,
    PointsStep,
    StepSpec,
    SurveyStep,
    TagStep,
    TaskStep,
    WebhookStep,
    format_delay,
    parse_delay,
)
from retain.automation.triggers_spec import (
    TRIGGER_SPECS,
    ActivityKind,
    DateField,
    SurveyGroup,
    TriggerKind,
    TriggerSpec,
)
from retain.contract.profile import PROFILE
from retain.errors import InputError

__all__ = [
    "NAME_PATTERN",
    "STEP_SPECS",
    "TRIGGER_SPECS",
    "ActionKind",
    "ActivityKind",
    "CouponStep",
    "DateField",
    "EmailStep",
    "FileStep",
    "GoalMetric",
    "GoalSpec",
    "OfferStep",
    "PlaybookSpec",
    "PointsStep",
    "ReentryRule",
    "ReentrySpec",
    "StepSpec",
    "SurveyGroup",
    "SurveyStep",
    "TagStep",
    "TaskStep",
    "TriggerKind",
    "TriggerSpec",
    "WebhookStep",
    "check_conditions",
    "format_delay",
    "parse_delay",
]

NAME_PATTERN = r"^[a-z0-9_]{1,64}$"
"""A playbook's name (and its file's stem): lowercase letters, digits and ``_``."""


class GoalMetric(StrEnum):
    """What a playbook's effect is measured on, over the goal window after enrolment."""

    RETAINED = "retained"
    ORDERS = "orders"
    REVENUE = "revenue"
    LOGINS = "logins"


class ReentryRule(StrEnum):
    """Whether a customer may enter a playbook again: never, after some days, or at every new trigger key."""

    ONCE = "once"
    AFTER_DAYS = "after_days"
    EVERY_TRIGGER = "every_trigger"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReentrySpec(_Model):
    """When a customer who already entered the playbook may enter it again.

    ``once`` (the default): never. ``after_days``: ``days`` after their last enrolment. ``every_trigger``: at
    every new trigger key (a new silence, a new birthday...).
    """

    rule: ReentryRule = ReentryRule.ONCE
    days: Annotated[int, Field(ge=1, le=3660)] | None = None

    @model_validator(mode="after")
    def _days_with_after_days(self) -> ReentrySpec:
        if self.rule is ReentryRule.AFTER_DAYS and self.days is None:
            raise ValueError("rule after_days needs days (e.g. days: 90)")
        if self.rule is not ReentryRule.AFTER_DAYS and self.days is not None:
            raise ValueError(f"days applies only to rule after_days, not to rule {self.rule}; remove it")
        return self


class GoalSpec(_Model):
    """The metric the playbook should move, measured over ``(enrolled_at, enrolled_at + window_days]``."""

    metric: GoalMetric
    window_days: Annotated[int, Field(ge=1, le=730)]


def check_conditions(conditions: str) -> str:
    """Validate a condition against the profile columns (the segment predicate language).

    Raises
    ------
    InputError
        Naming the offending token and listing the allowed columns, functions and operators.
    """
    try:
        compile_predicate(conditions, PROFILE.types())
    except InputError as exc:
        message = str(exc).replace("Segment predicate ", "condition ", 1)
        unknown = re.search(r"unknown column '([^']*)'", message)
        close = difflib.get_close_matches(unknown.group(1), PROFILE.names, n=1) if unknown else []
        if unknown and close:
            message = message.replace(unknown.group(0), f"{unknown.group(0)} (did you mean {close[0]!r}?)", 1)
        raise InputError(message) from None
    return conditions


class PlaybookSpec(_Model):
    """A validated playbook file (see the module docstring for the layout).

    Attributes
    ----------
    name : str
        Equal to the file's stem; lowercase letters, digits and ``_``.
    description : str
        What it is for, in a sentence.
    enabled : bool
        Disabled playbooks are listed and validated but never run.
    priority : int
        0..100; when several playbooks want one customer, the higher priority wins.
    trigger : TriggerSpec
        What starts it (one of :class:`TriggerKind`).
    conditions : str or None
        A predicate over the profile columns that must hold at enrolment (and before each ``recheck`` step).
    steps : list of StepSpec
        What it does, in order; each may wait (``delay``).
    holdout : float
        The share of enrolled customers held out (recorded, never contacted): 0 < holdout <= 0.5.
    reentry : ReentrySpec
        Whether a customer may enter again.
    goal : GoalSpec
        The metric and window its effect is measured on.
    """

    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    enabled: bool = True
    priority: Annotated[int, Field(ge=0, le=100)] = 50
    trigger: TriggerSpec
    conditions: str | None = None
    steps: Annotated[list[StepSpec], Field(min_length=1, max_length=50)]
    holdout: Annotated[float, Field(gt=0.0, le=0.5)] = 0.1
    reentry: ReentrySpec = ReentrySpec()
    goal: GoalSpec

    @field_validator("conditions")
    @classmethod
    def _conditions(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return check_conditions(value)

    @field_validator("steps")
    @classmethod
    def _webhook_event_defaults_to_the_name(cls, steps: list[Any], info: ValidationInfo) -> list[Any]:
        name = info.data.get("name")  # validated first (declared first); absent if it was invalid
        return [
            step.model_copy(update={"event": name})
            if isinstance(step, WebhookStep) and step.event is None and name
            else step
            for step in steps
        ]

    @property
    def templates(self) -> list[str]:
        """Every email template the steps render, each once, in step order."""
        return list(dict.fromkeys(name for step in self.steps for name in step.templates))

    def summary(self) -> dict[str, Any]:
        """Name, enabled, trigger (in a few words), priority and holdout: what a listing shows."""
        return {
            "name": self.name,
            "enabled": self.enabled,
            "trigger": self.trigger.summary(),
            "priority": self.priority,
            "holdout": self.holdout,
        }
