"""What each action does for a treated customer: the registry :data:`ACTIONS`, one handler per :class:`ActionKind`.

A handler gets a :class:`StepJob` (the playbook, the enrolment, the step, the customer's profile and contacts, when
it goes out) and adds what the step writes to :class:`ActionWrites`; the runner writes those rows in the
playbook's transaction. Only the treatment arm reaches a handler — the holdout's steps are recorded ``held_out``
without one.

==========  =================================================================================================
action      writes
==========  =================================================================================================
``email``   an outbox email: the rendered subject, text and HTML, ``to``, the signed unsubscribe URL
``webhook`` an outbox webhook body: event, playbook, version, step, customer, trigger key, fired_at, detail
``file``    an outbox JSON line with the same body (without ``event``)
``task``    a ``tasks`` row: the rendered title, assignee, due ``due_days`` after it goes out
``tag``     a ``customer_tags`` row (kept if the customer already has the tag)
``coupon``  a ``coupons`` row: a single-use code ``<prefix>-<10 characters>``; later emails see ``coupon``
``offer``   an outbox email rendered from ``template`` with ``offer`` in its context; without a template the
            offer is only recorded (status ``done``)
``survey``  an outbox email rendered from ``template`` with the signed ``survey_url``
``points``  nothing yet: the loyalty ledger does not exist in this version, so the step ``failed`` (said why)
==========  =================================================================================================

Coupon codes are derived, not drawn: HMAC-SHA256 of the enrolment and step under the workspace's signing key,
in base 32 — the same on every re-run (idempotent), unguessable without the key, and unique in practice (50
bits; the ``code`` column is unique as well).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from retain.automation.actions_spec import (
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
)
from retain.automation.enrolments import Enrolment
from retain.automation.loading import LoadedPlaybook
from retain.automation.outbox import MessageKind, OutboxMessage, enqueue
from retain.automation.signing import sign_link
from retain.automation.templates import message_context, render_email, render_text
from retain.errors import InputError
from retain.state.tables import StepStatus, TaskStatus, coupons, customer_tags, tasks

__all__ = [
    "ACTIONS",
    "UNSUBSCRIBE",
    "ActionWrites",
    "LinkSigner",
    "StepJob",
    "coupon_code",
    "issued_coupons",
    "step_context",
    "step_payload",
    "write_actions",
]

UNSUBSCRIBE = "unsubscribe"
"""The purpose of unsubscribe links (:func:`retain.automation.signing.verify_link` checks it)."""
SURVEY = "survey"
"""The purpose of survey links."""
_CODE_CHARS = 10


@dataclass(frozen=True)
class LinkSigner:
    """Makes the signed customer links of messages: ``<base_url>/<purpose>/<token>``.

    Parameters
    ----------
    secret
        The workspace's signing key.
    base_url
        The public address of retain's web service (no trailing slash).
    days
        How long a link stays valid after the message goes out.
    """

    secret: bytes
    base_url: str
    days: int = 365

    def url(self, purpose: str, customer_id: str, *, at: datetime) -> str:
        token = sign_link(self.secret, purpose, customer_id, at + timedelta(days=self.days))
        return f"{self.base_url}/{purpose}/{token}"


@dataclass(frozen=True)
class StepJob:
    """One step to carry out for one treated customer."""

    playbook: LoadedPlaybook
    enrolment: Enrolment
    index: int
    step: StepSpec
    customer: Mapping[str, Any]
    """The profile row (every profile column; ``None`` for unknown ones) with ``customer_id``, ``name``, ``email``."""
    send_at: datetime
    idempotency_key: str
    links: LinkSigner
    coupon: Mapping[str, Any] | None = None
    """The enrolment's coupon, when an earlier step issued one."""


@dataclass
class ActionWrites:
    """The rows the treated steps of one playbook run write, collected for bulk inserts."""

    outbox: list[OutboxMessage] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    coupons: list[dict[str, Any]] = field(default_factory=list)
    issued: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Coupons issued in this run, by enrolment id (a later step of the same run quotes them)."""


Handler = Callable[[StepJob, ActionWrites], StepStatus]


def step_context(job: StepJob, *, offer: str | None = None, survey_url: str | None = None) -> dict[str, Any]:
    """The template context of a step: customer, playbook, trigger detail, links and the coupon, if any."""
    spec = job.playbook.spec
    return message_context(
        job.customer,
        playbook={"name": spec.name, "description": spec.description, "version": job.playbook.version},
        trigger=job.enrolment.detail,
        unsubscribe_url=job.links.url(UNSUBSCRIBE, job.enrolment.customer_id, at=job.send_at),
        offer={"name": offer} if offer is not None else None,
        coupon=job.coupon,
        survey_url=survey_url,
    )


def step_payload(job: StepJob) -> dict[str, Any]:
    """The JSON body of a webhook or file step: who, which playbook and step, and the trigger's facts."""
    e = job.enrolment
    return {
        "playbook": job.playbook.name,
        "version": e.playbook_version,
        "step": job.index,
        "customer": {
            "id": e.customer_id,
            "email": job.customer.get("email"),
            "name": job.customer.get("name"),
        },
        "trigger_key": e.trigger_key,
        "fired_at": e.fired_at.isoformat(),
        "detail": e.detail,
    }


def _message(job: StepJob, channel: str, kind: MessageKind, payload: Mapping[str, Any]) -> OutboxMessage:
    e = job.enrolment
    return OutboxMessage(
        idempotency_key=job.idempotency_key,
        playbook=job.playbook.name,
        playbook_version=e.playbook_version,
        step=job.index,
        customer_id=e.customer_id,
        trigger_key=e.trigger_key,
        channel=channel,
        kind=kind,
        payload=payload,
        due_at=job.send_at,
    )


def _email(job: StepJob, writes: ActionWrites, *, template: str, channel: str, **extra: Any) -> StepStatus:
    context = step_context(job, **extra)
    rendered = render_email(job.playbook.templates_folder, template, context)
    to = job.customer.get("email")
    if not to:  # the pressure rules suppress these (no_address); a row without an address must never be written
        raise InputError(f"customer {job.enrolment.customer_id!r} has no email address")
    payload = {
        "to": to,
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "unsubscribe_url": context["unsubscribe_url"],
        "headers": {"X-Retain-Playbook": job.playbook.name},
    }
    writes.outbox.append(_message(job, channel, MessageKind.EMAIL, payload))
    return StepStatus.ENQUEUED


def _email_step(job: StepJob, writes: ActionWrites) -> StepStatus:
    step = job.step
    assert isinstance(step, EmailStep)
    return _email(job, writes, template=step.template, channel=step.channel)


def _webhook_step(job: StepJob, writes: ActionWrites) -> StepStatus:
    step = job.step
    assert isinstance(step, WebhookStep)
    payload = {"event": step.event or job.playbook.name, **step_payload(job)}
    writes.outbox.append(_message(job, step.channel, MessageKind.WEBHOOK, payload))
    return StepStatus.ENQUEUED


def _file_step(job: StepJob, writes: ActionWrites) -> StepStatus:
    step = job.step
    assert isinstance(step, FileStep)
    writes.outbox.append(_message(job, step.channel, MessageKind.FILE, step_payload(job)))
    return StepStatus.ENQUEUED


def _task_step(job: StepJob, writes: ActionWrites) -> StepStatus:
    step = job.step
    assert isinstance(step, TaskStep)
    title = " ".join(render_text(step.title, step_context(job), name=f"step {job.index} title").split())
    writes.tasks.append(
        {
            "customer_id": job.enrolment.customer_id,
            "playbook": job.playbook.name,
            "enrolment_id": job.enrolment.id,
            "step": job.index,
            "title": title,
            "assignee": step.assignee,
            "status": TaskStatus.OPEN.value,
            "due_at": job.send_at + timedelta(days=step.due_days),
            "created_at": job.send_at,
        }
    )
    return StepStatus.DONE


def _tag_step(job: StepJob, writes: ActionWrites) -> StepStatus:
    step = job.step
    assert isinstance(step, TagStep)
    writes.tags.append(
        {
            "customer_id": job.enrolment.customer_id,
            "tag": step.tag,
            "playbook": job.playbook.name,
            "enrolment_id": job.enrolment.id,
            "created_at": job.send_at,
        }
    )
    return StepStatus.DONE


def coupon_code(secret: bytes, prefix: str, enrolment: Enrolment, step: int) -> str:
    """The single-use code of a coupon step: ``<prefix>-`` and 10 base-32 characters derived from the enrolment."""
    text = json.dumps(["coupon", enrolment.playbook, enrolment.customer_id, enrolment.trigger_key, step])
    digest = hmac.new(secret, text.encode(), hashlib.sha256).digest()
    return f"{prefix}-{base64.b32encode(digest).decode()[:_CODE_CHARS]}"


def _coupon_step(job: StepJob, writes: ActionWrites) -> StepStatus:
    step = job.step
    assert isinstance(step, CouponStep)
    expires_at = job.send_at + timedelta(days=step.expires_days)
    code = coupon_code(job.links.secret, step.prefix, job.enrolment, job.index)
    writes.coupons.append(
        {
            "code": code,
            "customer_id": job.enrolment.customer_id,
            "playbook": job.playbook.name,
            "enrolment_id": job.enrolment.id,
            "step": job.index,
            "percent_off": step.percent_off,
            "amount_off": step.amount_off,
            "expires_at": expires_at,
            "created_at": job.send_at,
        }
    )
    writes.issued[job.enrolment.id] = {
        "code": code,
        "percent_off": step.percent_off,
        "amount_off": step.amount_off,
        "expires_at": expires_at.isoformat(),
    }
    return StepStatus.DONE


def _offer_step(job: StepJob, writes: ActionWrites) -> StepStatus:
    step = job.step
    assert isinstance(step, OfferStep)
    if step.template is None:
        return StepStatus.DONE  # recorded on the step row: the offer is made where the business shows offers
    return _email(job, writes, template=step.template, channel="email", offer=step.offer)


def _survey_step(job: StepJob, writes: ActionWrites) -> StepStatus:
    step = job.step
    assert isinstance(step, SurveyStep)
    survey_url = job.links.url(SURVEY, job.enrolment.customer_id, at=job.send_at)
    return _email(job, writes, template=step.template, channel="email", survey_url=survey_url)


def _points_step(job: StepJob, writes: ActionWrites) -> StepStatus:
    assert isinstance(job.step, PointsStep)
    raise InputError(
        "points steps need the loyalty ledger, which this version of retain does not have yet; "
        "remove the step or replace it with a coupon"
    )


ACTIONS: dict[ActionKind, Handler] = {
    ActionKind.EMAIL: _email_step,
    ActionKind.WEBHOOK: _webhook_step,
    ActionKind.FILE: _file_step,
    ActionKind.TASK: _task_step,
    ActionKind.TAG: _tag_step,
    ActionKind.COUPON: _coupon_step,
    ActionKind.OFFER: _offer_step,
    ActionKind.SURVEY: _survey_step,
    ActionKind.POINTS: _points_step,
}
"""The handler of every action: adds the step's rows to the writes and returns ``enqueued`` or ``done``; raises
``InputError`` (the step is recorded ``failed`` with the message) when it cannot be carried out."""


def issued_coupons(conn: sa.Connection, enrolment_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The coupons earlier steps issued to these enrolments (the latest per enrolment), as templates see them."""
    ids = sorted(set(enrolment_ids))
    found: dict[int, dict[str, Any]] = {}
    t = coupons
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            sa.select(t.c.enrolment_id, t.c.code, t.c.percent_off, t.c.amount_off, t.c.expires_at)
            .where(t.c.enrolment_id.in_(ids[start : start + 500]))
            .order_by(t.c.enrolment_id, t.c.step)
        )
        for row in rows:
            found[row.enrolment_id] = {
                "code": row.code,
                "percent_off": row.percent_off,
                "amount_off": row.amount_off,
                "expires_at": row.expires_at.isoformat(),
            }
    return found


def _insert_new(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    return len(conn.execute(insert.on_conflict_do_nothing().returning(*table.primary_key.columns), rows).all())


def write_actions(conn: sa.Connection, writes: ActionWrites, *, now: datetime) -> dict[str, int]:
    """Write the collected rows in the caller's transaction; a row already there (a re-run) is skipped.

    Returns
    -------
    dict
        New rows per table: ``outbox``, ``tasks``, ``customer_tags``, ``coupons``.
    """
    return {
        "outbox": enqueue(conn, writes.outbox, now=now),
        "tasks": _insert_new(conn, tasks, writes.tasks),
        "customer_tags": _insert_new(conn, customer_tags, writes.tags),
        "coupons": _insert_new(conn, coupons, writes.coupons),
    }
