"""The ``trigger:`` of a playbook file: one pydantic model per trigger kind, chosen by ``kind``.

Each model holds the kind's own parameters with the defaults of the playbook schema; an unknown parameter is
rejected (``extra="forbid"``), so ``trigger: {kind: inactive, dayz: 30}`` fails instead of silently using a
default. The evaluators that turn a trigger into enrolments live in ``retain.automation.triggers`` and take the
parameters as keywords: :meth:`params` gives them.

=================  ===================================================  =========================================
kind               parameters (default)                                 fires for a customer when
=================  ===================================================  =========================================
``signup``         within_days (1)                                      created_at in (as_of − within_days, as_of]
``event``          event_type, within_days (1)                          an event of that type in the window
``inactive``       days, activity (any: login, order or any)            last activity is ``days`` days ago
``date``           field (birthday, signup_anniversary, renewal),       that date is as_of + days_before
                   days_before (0)
``onboarding``     feature (an event type), days (7)                    signed up ``days`` ago, feature never used
``risk``           min_p_churn (0..1), reason (a reason code or none)   p_churn ≥ min_p_churn (with that reason)
``segment_entry``  segment                                              entered the segment since the last profile
``lifecycle``      to, from (none: anything but ``to``)                 moved to lifecycle state ``to``
``ticket``         min_unresolved (2), within_days (30), category       repeated unresolved complaints
``survey``         group (detractor, passive, promoter), within_days    an NPS answer in that group
``churned``        reason (a churn reason or none), within_days (30)    churned in the window (with that reason)
=================  ===================================================  =========================================
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from retain.analytics.lifecycle import LifecycleState
from retain.automation.triggers.kinds import TriggerKind  # one list: the evaluators' registry keys
from retain.contract.taxonomy import ChurnReason, ReasonCode

__all__ = [
    "TRIGGER_SPECS",
    "ActivityKind",
    "ChurnedTrigger",
    "DateField",
    "DateTrigger",
    "EventTrigger",
    "InactiveTrigger",
    "LifecycleTarget",
    "LifecycleTrigger",
    "OnboardingTrigger",
    "RiskTrigger",
    "SegmentEntryTrigger",
    "SignupTrigger",
    "SurveyGroup",
    "SurveyTrigger",
    "TicketTrigger",
    "TriggerKind",
    "TriggerSpec",
]


class ActivityKind(StrEnum):
    """The activity whose absence an ``inactive`` trigger counts: a ``login`` event, an order, or either."""

    LOGIN = "login"
    ORDER = "order"
    ANY = "any"


class DateField(StrEnum):
    """The yearly or periodic date a ``date`` trigger watches."""

    BIRTHDAY = "birthday"
    SIGNUP_ANNIVERSARY = "signup_anniversary"
    RENEWAL = "renewal"


class SurveyGroup(StrEnum):
    """NPS groups: detractor 0-6, passive 7-8, promoter 9-10."""

    DETRACTOR = "detractor"
    PASSIVE = "passive"
    PROMOTER = "promoter"


LifecycleTarget = StrEnum(  # type: ignore[misc]  # every state a customer can move to ("none" is not one)
    "LifecycleTarget",
    [(state.name, state.value) for state in LifecycleState if state is not LifecycleState.NONE],
    module=__name__,
)
LifecycleTarget.__doc__ = "Lifecycle states a ``lifecycle`` trigger may name (those of the lifecycle analytics)."

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Days = Annotated[int, Field(ge=1, le=3660)]


class _Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    summary_fields: ClassVar[tuple[str, ...]] = ()
    """The parameters :meth:`summary` shows after the kind."""

    def params(self) -> dict[str, Any]:
        """The kind's parameters as the evaluator takes them: everything but ``kind``, named as in the file
        (``from``, not the attribute ``from_``)."""
        fields = type(self).model_fields
        return {field.alias or name: getattr(self, name) for name, field in fields.items() if name != "kind"}

    def summary(self) -> str:
        """A few words for listings, e.g. ``inactive 30 d`` or ``risk price``."""
        words = [str(self.kind)]  # type: ignore[attr-defined]
        for name in self.summary_fields:
            value = getattr(self, name)
            if value is not None:
                words.append(f"{value} d" if name == "days" else f"{value}")
        return " ".join(words)


class SignupTrigger(_Trigger):
    """The customer signed up (``created_at``) in the last ``within_days`` days."""

    kind: Literal[TriggerKind.SIGNUP]
    within_days: Days = 1


class EventTrigger(_Trigger):
    """An event of type ``event_type`` (e.g. ``payment_failed``) occurred in the last ``within_days`` days."""

    kind: Literal[TriggerKind.EVENT]
    event_type: Name
    within_days: Days = 1
    summary_fields = ("event_type",)


class InactiveTrigger(_Trigger):
    """No ``activity`` for ``days`` days (fires once per silence, on the day it reaches ``days``)."""

    kind: Literal[TriggerKind.INACTIVE]
    days: Days
    activity: ActivityKind = ActivityKind.ANY
    summary_fields = ("days",)


class DateTrigger(_Trigger):
    """The customer's ``field`` date (birthday, signup anniversary, next renewal) is ``days_before`` days away."""

    kind: Literal[TriggerKind.DATE]
    field: DateField
    days_before: Annotated[int, Field(ge=0, le=366)] = 0
    summary_fields = ("field",)


class OnboardingTrigger(_Trigger):
    """Signed up ``days`` days ago and has not used ``feature`` (an event type) since."""

    kind: Literal[TriggerKind.ONBOARDING]
    feature: Name
    days: Days = 7
    summary_fields = ("feature",)


class RiskTrigger(_Trigger):
    """The profile's ``p_churn`` is at least ``min_p_churn`` (and its ``reason_code`` is ``reason`` if given)."""

    kind: Literal[TriggerKind.RISK]
    min_p_churn: Annotated[float, Field(ge=0.0, le=1.0)]
    reason: ReasonCode | None = None  # type: ignore[valid-type]
    summary_fields = ("reason",)


class SegmentEntryTrigger(_Trigger):
    """The customer is in ``segment`` (of ``retain.toml``) now and was not in the previous profile."""

    kind: Literal[TriggerKind.SEGMENT_ENTRY]
    segment: Name
    summary_fields = ("segment",)


class LifecycleTrigger(_Trigger):
    """The lifecycle state is ``to`` now and was ``from`` (or anything but ``to``) in the previous profile."""

    kind: Literal[TriggerKind.LIFECYCLE]
    to: LifecycleTarget  # type: ignore[valid-type]
    from_: LifecycleTarget | None = Field(default=None, alias="from")  # type: ignore[valid-type]
    summary_fields = ("to",)


class TicketTrigger(_Trigger):
    """At least ``min_unresolved`` complaint tickets opened in the window are unresolved."""

    kind: Literal[TriggerKind.TICKET]
    min_unresolved: Annotated[int, Field(ge=1, le=1000)] = 2
    within_days: Days = 30
    category: Name | None = None
    summary_fields = ("category",)


class SurveyTrigger(_Trigger):
    """An NPS answer in ``group`` arrived in the last ``within_days`` days."""

    kind: Literal[TriggerKind.SURVEY]
    group: SurveyGroup
    within_days: Days = 1
    summary_fields = ("group",)


class ChurnedTrigger(_Trigger):
    """The customer churned in the last ``within_days`` days (with cancel reason ``reason`` if given)."""

    kind: Literal[TriggerKind.CHURNED]
    reason: ChurnReason | None = None
    within_days: Days = 30
    summary_fields = ("reason",)


TRIGGER_SPECS: dict[TriggerKind, type[_Trigger]] = {
    TriggerKind.SIGNUP: SignupTrigger,
    TriggerKind.EVENT: EventTrigger,
    TriggerKind.INACTIVE: InactiveTrigger,
    TriggerKind.DATE: DateTrigger,
    TriggerKind.ONBOARDING: OnboardingTrigger,
    TriggerKind.RISK: RiskTrigger,
    TriggerKind.SEGMENT_ENTRY: SegmentEntryTrigger,
    TriggerKind.LIFECYCLE: LifecycleTrigger,
    TriggerKind.TICKET: TicketTrigger,
    TriggerKind.SURVEY: SurveyTrigger,
    TriggerKind.CHURNED: ChurnedTrigger,
}
"""The model of each trigger kind (every kind has one)."""

TriggerSpec = Annotated[
    SignupTrigger
    | EventTrigger
    | InactiveTrigger
    | DateTrigger
    | OnboardingTrigger
    | RiskTrigger
    | SegmentEntryTrigger
    | LifecycleTrigger
    | TicketTrigger
    | SurveyTrigger
    | ChurnedTrigger,
    Field(discriminator="kind"),
]
"""A trigger of any kind; pydantic picks the model by ``kind``."""
