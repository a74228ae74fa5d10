"""The ``steps:`` of a playbook file: one pydantic model per action, chosen by ``action``.

Every step waits ``delay`` after the enrolment (``"<n>d"`` days or ``"<n>h"`` hours, default ``0d``) and, with
``recheck`` (the default), re-checks the playbook's ``conditions`` just before it acts. The action's own
parameters follow the playbook schema; an unknown one is rejected.

==========  =========================================================================================
action      parameters (default)
==========  =========================================================================================
``email``   template (a template name), channel (``email``: a channel of ``retain.toml``)
``webhook`` channel (a webhook channel), event (the playbook's name)
``file``    channel (a JSON Lines file channel)
``task``    title (Jinja2 text), assignee (none), due_days (3)
``tag``     tag
``coupon``  prefix, percent_off or amount_off (exactly one), expires_days (30)
``points``  points (a whole number > 0)
``offer``   offer (a name), template (none)
``survey``  survey (``nps``), template
==========  =========================================================================================

A template name ``wake_up`` means the files ``templates/wake_up.subject.j2``, ``wake_up.txt.j2`` and optionally
``wake_up.html.j2`` next to the playbook (see :mod:`retain.automation.templates`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_serializer, field_validator, model_validator

from retain.automation.templates import check_text

__all__ = [
    "MAX_DELAY",
    "STEP_SPECS",
    "ActionKind",
    "CouponStep",
    "EmailStep",
    "FileStep",
    "OfferStep",
    "PointsStep",
    "StepSpec",
    "SurveyStep",
    "TagStep",
    "TaskStep",
    "TemplateName",
    "WebhookStep",
    "format_delay",
    "parse_delay",
]


class ActionKind(StrEnum):
    """What a step does (the ``action`` of a step)."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    FILE = "file"
    TASK = "task"
    TAG = "tag"
    COUPON = "coupon"
    POINTS = "points"
    OFFER = "offer"
    SURVEY = "survey"


MAX_DELAY = timedelta(days=365)
"""The longest a step may wait after the enrolment."""

_DELAY = re.compile(r"^(\d{1,4})([dh])$")
_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1)}

TemplateName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
"""A template's name: lowercase letters, digits and ``_`` (the files are ``templates/<name>.<part>.j2``)."""

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


def parse_delay(value: object) -> timedelta:
    """``"3d"`` → 3 days, ``"12h"`` → 12 hours (``timedelta`` passes through).

    Raises
    ------
    ValueError
        For anything else, or a delay over :data:`MAX_DELAY`; the message shows the expected form.
    """
    if isinstance(value, timedelta):
        delay = value
    else:
        match = _DELAY.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f"{value!r} is not a delay; write a whole number of days or hours, e.g. 0d, 3d or 12h")
        delay = int(match.group(1)) * _UNITS[match.group(2)]
    if delay < timedelta(0) or delay > MAX_DELAY:
        raise ValueError(f"delay {format_delay(delay)} is out of range; use 0d to {MAX_DELAY.days}d")
    return delay


def format_delay(delay: timedelta) -> str:
    """The playbook-file form of a delay: whole days as ``"3d"``, else hours as ``"36h"``."""
    if delay % timedelta(days=1) == timedelta(0):
        return f"{delay // timedelta(days=1)}d"
    return f"{delay // timedelta(hours=1)}h"


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    delay: timedelta = timedelta(0)
    recheck: bool = True

    @field_validator("delay", mode="before")
    @classmethod
    def _delay(cls, value: Any) -> timedelta:
        return parse_delay(value)

    @field_serializer("delay")
    def _show_delay(self, delay: timedelta) -> str:
        return format_delay(delay)

    @property
    def templates(self) -> tuple[str, ...]:
        """The email templates this step renders (none for most actions)."""
        template = getattr(self, "template", None)
        return (template,) if template else ()


class EmailStep(_Step):
    """Send an email rendered from ``template`` through ``channel``."""

    action: Literal[ActionKind.EMAIL]
    template: TemplateName
    channel: Name = "email"


class WebhookStep(_Step):
    """POST the enrolment to a webhook ``channel``, as ``event`` (the playbook's name unless given)."""

    action: Literal[ActionKind.WEBHOOK]
    channel: Name
    event: Name | None = None


class FileStep(_Step):
    """Append the enrolment to a JSON Lines file ``channel``."""

    action: Literal[ActionKind.FILE]
    channel: Name


class TaskStep(_Step):
    """Create a task for a person: ``title`` is Jinja2 text over the message context (e.g. ``customer.name``)."""

    action: Literal[ActionKind.TASK]
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    assignee: Name | None = None
    due_days: Annotated[int, Field(ge=0, le=365)] = 3

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        check_text(value, name="title")
        return value


class TagStep(_Step):
    """Tag the customer."""

    action: Literal[ActionKind.TAG]
    tag: Name


class CouponStep(_Step):
    """Issue a single-use coupon code ``<prefix>-…``: ``percent_off`` or ``amount_off``, valid ``expires_days``."""

    action: Literal[ActionKind.COUPON]
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,16}$")]
    percent_off: Annotated[float, Field(gt=0, le=100)] | None = None
    amount_off: Annotated[float, Field(gt=0)] | None = None
    expires_days: Annotated[int, Field(ge=1, le=3660)] = 30

    @model_validator(mode="after")
    def _one_discount(self) -> CouponStep:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("give exactly one of percent_off (e.g. 20 for 20 %) and amount_off (e.g. 10)")
        return self


class PointsStep(_Step):
    """Award loyalty points."""

    action: Literal[ActionKind.POINTS]
    points: Annotated[int, Field(gt=0, le=10_000_000)]


class OfferStep(_Step):
    """Make the named ``offer``, announced with ``template`` when given."""

    action: Literal[ActionKind.OFFER]
    offer: Name
    template: TemplateName | None = None


class SurveyStep(_Step):
    """Send the ``survey`` (``nps``) invitation rendered from ``template``."""

    action: Literal[ActionKind.SURVEY]
    survey: Name = "nps"
    template: TemplateName


STEP_SPECS: dict[ActionKind, type[_Step]] = {
    ActionKind.EMAIL: EmailStep,
    ActionKind.WEBHOOK: WebhookStep,
    ActionKind.FILE: FileStep,
    ActionKind.TASK: TaskStep,
    ActionKind.TAG: TagStep,
    ActionKind.COUPON: CouponStep,
    ActionKind.POINTS: PointsStep,
    ActionKind.OFFER: OfferStep,
    ActionKind.SURVEY: SurveyStep,
}
"""The model of each action (every action has one)."""

StepSpec = Annotated[
    EmailStep | WebhookStep | FileStep | TaskStep | TagStep | CouponStep | PointsStep | OfferStep | SurveyStep,
    Field(discriminator="action"),
]
"""A step of any action; pydantic picks the model by ``action``."""
