"""The timeline of one customer: everything known about them, in chronological order.

One row per happening, with columns :data:`TIMELINE_COLUMNS`:

=========================== ============================================================================
kind                        rows
=========================== ============================================================================
``signup``                  at ``created_at`` ("Signed up", with the channel); "First seen" when the
                            customer has no ``customers`` row (then the earliest fact).
``order`` / ``refund`` /    one per order, by status; ``amount`` is the order amount as recorded.
``order_canceled``
``subscription_started``    a subscription period that does not continue the previous period of the same
                            subscription (a first start or a restart after a gap); ``amount`` = its MRR.
``plan_changed``            a period continuing the previous one with another plan or MRR.
``status_changed``          a period continuing the previous one with the same plan and MRR (e.g. past_due).
``subscription_paused``     a paused period (``amount`` null: a pause brings no revenue).
``subscription_resumed``    a non-paused period continuing a paused one.
``subscription_ended``      at ``ended_at`` of a period no other period of the subscription continues.
``events``                  events grouped per UTC day and ``event_type``: at the first of them, summary
                            ``login`` for one event (details = its properties) or ``12 × login``.
``ticket_opened`` /         at ``opened_at`` and at ``resolved_at``.
``ticket_resolved``
``survey``                  one per feedback answer: ``nps 9``, ``csat 4``, ``exit``.
``playbook_enrolled``       one per enrolment of the ``playbook_enrolments`` system table, at ``enrolled_at``:
                            ``Enrolled in wake_up (holdout arm)``; details: trigger key and playbook version.
``message``                 one per step of the ``playbook_messages`` system table, at ``decided_at``:
                            ``wake_up step 0: email queued`` (``done``, ``held out, not sent``, ``suppressed``,
                            ``skipped``, ``failed``); details: the reason, when there is one.
=========================== ============================================================================

The two playbook kinds say what retain decided, not what a channel delivered: a queued email went to the outbox,
and a holdout customer's step is shown held out — the customer was sent nothing.

A period *continues* the previous period of its subscription (by ``started_at``) when it starts exactly when
that one ended. ``details`` is ``key=value`` text of the remaining facts (nulls left out). Rows are sorted by
``at``, then by the order of the kinds above, then ``summary``, ``amount`` and ``details``. With ``as_of``,
only what was known at that instant appears (:func:`retain.analytics.customers.facts_at`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum

import ibis
import ibis.expr.datatypes as dt

from retain.analytics._inputs import require_columns
from retain.analytics.customers import check_tables, customer_dimension, facts_at, instant_literal
from retain.contract import TableName
from retain.contract.system_tables import SystemTableName
from retain.errors import InputError

__all__ = ["TIMELINE_COLUMNS", "TimelineKind", "customer_timeline"]

TIMELINE_COLUMNS = ("at", "kind", "summary", "amount", "details")
"""Columns of :func:`customer_timeline`, in order."""

_TS = dt.Timestamp(timezone="UTC", scale=6, nullable=True)
_STRING = dt.String(nullable=True)
_FLOAT = dt.Float64(nullable=True)


class TimelineKind(StrEnum):
    """Kinds of timeline rows, in the order rows at the same instant are listed."""

    SIGNUP = "signup"
    SUBSCRIPTION_STARTED = "subscription_started"
    PLAN_CHANGED = "plan_changed"
    STATUS_CHANGED = "status_changed"
    SUBSCRIPTION_PAUSED = "subscription_paused"
    SUBSCRIPTION_RESUMED = "subscription_resumed"
    SUBSCRIPTION_ENDED = "subscription_ended"
    ORDER = "order"
    REFUND = "refund"
    ORDER_CANCELED = "order_canceled"
    EVENTS = "events"
    TICKET_OPENED = "ticket_opened"
    TICKET_RESOLVED = "ticket_resolved"
    SURVEY = "survey"
    PLAYBOOK_ENROLLED = "playbook_enrolled"
    MESSAGE = "message"


_STEP_OUTCOMES = {
    "enqueued": "queued",
    "done": "done",
    "held_out": "held out, not sent",
    "suppressed": "suppressed",
    "skipped": "skipped",
    "failed": "failed",
}
"""Step status of ``playbook_messages`` → how the timeline words it (an unknown status is shown as stored)."""


def _text(value: ibis.Value) -> ibis.Value:
    return value.cast("string")


def _details(**pairs: ibis.Value) -> ibis.Value:
    """``k1=v1, k2=v2`` of the non-null values; null when all are null."""
    parts = [ibis.literal(f"{key}=") + _text(value) for key, value in pairs.items()]
    joined = ibis.literal(", ").join(parts)
    return ibis.ifelse(joined == "", ibis.null("string"), joined)


def _rows(table: ibis.Table, *, at, kind, summary, amount=None, details=None) -> ibis.Table:
    # Identical types (nullability included) in every part, as the union requires.
    return table.select(
        at=at.cast(_TS),
        kind=(kind if isinstance(kind, ibis.Value) else ibis.literal(str(kind))).cast(_STRING),
        summary=summary.cast(_STRING),
        amount=(amount if amount is not None else ibis.null(_FLOAT)).cast(_FLOAT),
        details=(details if details is not None else ibis.null(_STRING)).cast(_STRING),
    )


def _opt(table: ibis.Table, column: str, kind: str = "string") -> ibis.Value:
    return table[column] if column in table.columns else ibis.null(kind)


def _signup(dimension: ibis.Table, customers: ibis.Table | None) -> ibis.Table:
    d = dimension
    if customers is not None:
        listed = customers.select("customer_id", _listed=ibis.literal(True)).distinct()
        d = d.left_join(listed, "customer_id").select(*d.columns, "_listed")
        is_listed = d["_listed"].fill_null(False)
    else:
        is_listed = ibis.literal(False)
    via = ibis.ifelse(d.acquisition_channel.isnull(), "", " via " + d.acquisition_channel)
    summary = ibis.ifelse(is_listed, "Signed up" + via, "First seen")
    details = _details(name=d.name, email=d.email, country=d.country)
    return _rows(d, at=d.created_at, kind=TimelineKind.SIGNUP, summary=summary, details=details)


def _orders(o: ibis.Table) -> ibis.Table:
    require_columns(o, TableName.ORDERS, ("order_id", "ordered_at", "amount", "status"))
    kind = ibis.cases(
        (o.status == "refunded", TimelineKind.REFUND.value),
        (o.status == "canceled", TimelineKind.ORDER_CANCELED.value),
        else_=TimelineKind.ORDER.value,
    )
    label = ibis.cases((o.status == "refunded", "Refund "), (o.status == "canceled", "Canceled order "), else_="Order ")
    details = _details(
        items=_opt(o, "items", "int64"), channel=_opt(o, "channel"), discount_code=_opt(o, "discount_code")
    )
    return _rows(o, at=o.ordered_at, kind=kind, summary=label + o.order_id, amount=o.amount, details=details)


def _subscriptions(s: ibis.Table) -> list[ibis.Table]:
    require_columns(s, TableName.SUBSCRIPTIONS, ("subscription_id", "plan", "mrr", "started_at", "ended_at", "status"))
    w = ibis.window(group_by=s.subscription_id, order_by=[s.started_at, s.plan, s.status])
    s = s.mutate(
        _prev_end=s.ended_at.lag().over(w),
        _prev_plan=s.plan.lag().over(w),
        _prev_mrr=s.mrr.lag().over(w),
        _prev_status=s.status.lag().over(w),
        _next_start=s.started_at.lead().over(w),
    )
    continues = (s["_prev_end"] == s.started_at).fill_null(False)
    paused = s.status == "paused"
    was_paused = (s["_prev_status"] == "paused").fill_null(False)
    same_terms = (s["_prev_plan"] == s.plan) & (s["_prev_mrr"] == s.mrr)
    k = TimelineKind
    kind = ibis.cases(
        (paused & ~(continues & was_paused), k.SUBSCRIPTION_PAUSED.value),
        (~continues, k.SUBSCRIPTION_STARTED.value),
        (was_paused & ~paused, k.SUBSCRIPTION_RESUMED.value),
        (same_terms.fill_null(False), k.STATUS_CHANGED.value),
        else_=k.PLAN_CHANGED.value,
    )
    summary = ibis.cases(
        (kind == k.SUBSCRIPTION_PAUSED.value, "Paused " + s.plan),
        (kind == k.SUBSCRIPTION_STARTED.value, "Subscribed to " + s.plan),
        (kind == k.SUBSCRIPTION_RESUMED.value, "Resumed " + s.plan),
        (kind == k.STATUS_CHANGED.value, s.plan + ": " + s["_prev_status"] + " → " + s.status),
        else_="Plan " + s["_prev_plan"] + " → " + s.plan,
    )
    details = _details(
        subscription_id=s.subscription_id,
        status=s.status,
        billing_period_months=_opt(s, "billing_period_months", "int64"),
    )
    amount = ibis.ifelse(paused, ibis.null("float64"), s.mrr)
    started = _rows(s, at=s.started_at, kind=kind, summary=summary, amount=amount, details=details)
    e = s.filter(s.ended_at.notnull() & (s["_next_start"].isnull() | (s["_next_start"] != s.ended_at)))
    end_details = _details(
        subscription_id=e.subscription_id,
        cancel_reason=_opt(e, "cancel_reason"),
        churn_type=_opt(e, "churn_type"),
    )
    ended = _rows(
        e, at=e.ended_at, kind=k.SUBSCRIPTION_ENDED, summary="Subscription ended: " + e.plan, details=end_details
    )
    return [started, ended]


def _events(ev: ibis.Table) -> ibis.Table:
    require_columns(ev, TableName.EVENTS, ("event_type", "occurred_at"))
    props = _opt(ev, "properties")
    ev = ev.mutate(_day=ev.occurred_at.date(), _props=props)
    g = ev.group_by(["_day", "event_type"]).aggregate(
        _first=ev.occurred_at.min(), _n=ev.count(), _props=ev["_props"].max()
    )
    one = g["_n"] == 1
    summary = ibis.ifelse(one, g.event_type, g["_n"].cast("int64").cast("string") + " × " + g.event_type)
    details = ibis.ifelse(one, g["_props"], ibis.null("string"))
    return _rows(g, at=g["_first"], kind=TimelineKind.EVENTS, summary=summary, details=details)


def _tickets(t: ibis.Table) -> list[ibis.Table]:
    require_columns(t, TableName.TICKETS, ("ticket_id", "opened_at", "resolved_at", "is_complaint"))
    category = _opt(t, "category")
    opened_summary = (
        "Ticket "
        + t.ticket_id
        + " opened"
        + ibis.ifelse(category.isnull(), "", ": " + category)
        + ibis.ifelse(t.is_complaint.fill_null(False), " (complaint)", "")
    )
    opened = _rows(
        t,
        at=t.opened_at,
        kind=TimelineKind.TICKET_OPENED,
        summary=opened_summary,
        details=_details(priority=_opt(t, "priority")),
    )
    r = t.filter(t.resolved_at.notnull())
    resolved = _rows(
        r,
        at=r.resolved_at,
        kind=TimelineKind.TICKET_RESOLVED,
        summary="Ticket " + r.ticket_id + " resolved",
        details=_details(satisfaction=_opt(r, "satisfaction", "int64")),
    )
    return [opened, resolved]


def _feedback(f: ibis.Table) -> ibis.Table:
    require_columns(f, TableName.FEEDBACK, ("survey", "score", "responded_at"))
    summary = f.survey + ibis.ifelse(f.score.isnull(), "", " " + f.score.cast("int64").cast("string"))
    details = _details(reason=_opt(f, "reason"), comment=_opt(f, "comment"))
    return _rows(f, at=f.responded_at, kind=TimelineKind.SURVEY, summary=summary, details=details)


def _enrolments(e: ibis.Table) -> ibis.Table:
    name = SystemTableName.PLAYBOOK_ENROLMENTS
    require_columns(e, name, ("playbook", "playbook_version", "trigger_key", "arm", "enrolled_at"))
    summary = "Enrolled in " + e.playbook + " (" + e.arm + " arm)"
    details = _details(trigger_key=e.trigger_key, version=e.playbook_version)
    return _rows(e, at=e.enrolled_at, kind=TimelineKind.PLAYBOOK_ENROLLED, summary=summary, details=details)


def _messages(m: ibis.Table) -> ibis.Table:
    name = SystemTableName.PLAYBOOK_MESSAGES
    require_columns(m, name, ("playbook", "step", "action", "status", "reason", "decided_at"))
    outcome = ibis.cases(*[(m.status == status, words) for status, words in _STEP_OUTCOMES.items()], else_=m.status)
    summary = m.playbook + " step " + _text(m.step) + ": " + m.action + " " + outcome
    return _rows(m, at=m.decided_at, kind=TimelineKind.MESSAGE, summary=summary, details=_details(reason=m.reason))


def _playbook_parts(
    customer_id: str,
    until: date | datetime | None,
    enrolments: ibis.Table | None,
    messages: ibis.Table | None,
) -> list[ibis.Table]:
    parts = []
    for table, time_column, make in ((enrolments, "enrolled_at", _enrolments), (messages, "decided_at", _messages)):
        if table is None:
            continue
        mine = table.filter(table.customer_id == customer_id)
        if until is not None:
            mine = mine.filter(mine[time_column] <= instant_literal(until))
        parts.append(make(mine))
    return parts


def customer_timeline(
    tables: Mapping[str, ibis.Table],
    customer_id: str,
    *,
    as_of: date | datetime | None = None,
    enrolments: ibis.Table | None = None,
    messages: ibis.Table | None = None,
    playbooks_until: date | datetime | None = None,
) -> ibis.Table:
    """Chronological rows of everything known about one customer.

    Parameters
    ----------
    tables
        Canonical table name → Ibis table; a missing table counts as empty.
    customer_id
        The customer.
    as_of
        When given, only what was known at that instant (a date means midnight UTC); ``None`` shows everything.
    enrolments, messages
        The ``playbook_enrolments`` and ``playbook_messages`` system tables, when the lake has them: what
        retain's playbooks did with the customer.
    playbooks_until
        Show the playbook rows up to this instant instead of ``as_of``: the 360 describes the data at its
        snapshot's ``as_of`` (just after the latest fact) and what retain did until now, which is usually later.

    Returns
    -------
    ibis.Table
        Unexecuted expression with the columns :data:`TIMELINE_COLUMNS` (``at`` UTC timestamp, ``kind`` a
        :class:`TimelineKind` value, ``summary`` text, ``amount`` float64 or null, ``details`` text or null),
        sorted as described in the module docstring. An unknown customer gives no rows.

    Raises
    ------
    InputError
        If ``customer_id`` is empty, a table name is unknown, a table lacks canonical columns, or no table is given.
    """
    if not isinstance(customer_id, str) or not customer_id:
        raise InputError(f"customer_id must be a non-empty string, got {customer_id!r}.")
    known = facts_at(tables, as_of) if as_of is not None else check_tables(tables)
    mine: dict[TableName, ibis.Table] = {}
    for name, table in known.items():
        if table is not None:
            require_columns(table, name, ("customer_id",))
            mine[name] = table.filter(table.customer_id == customer_id)
    if not mine:
        raise InputError("customer_timeline needs at least one table; got none. Pass e.g. {'orders': orders}.")
    parts = [_signup(customer_dimension(*(mine.get(n) for n in TableName)), mine.get(TableName.CUSTOMERS))]
    if TableName.ORDERS in mine:
        parts.append(_orders(mine[TableName.ORDERS]))
    if TableName.SUBSCRIPTIONS in mine:
        parts += _subscriptions(mine[TableName.SUBSCRIPTIONS])
    if TableName.EVENTS in mine:
        parts.append(_events(mine[TableName.EVENTS]))
    if TableName.TICKETS in mine:
        parts += _tickets(mine[TableName.TICKETS])
    if TableName.FEEDBACK in mine:
        parts.append(_feedback(mine[TableName.FEEDBACK]))
    until = playbooks_until if playbooks_until is not None else as_of
    parts += _playbook_parts(customer_id, until, enrolments, messages)
    u = ibis.union(*parts)
    rank = u.kind.cases(*[(k.value, i) for i, k in enumerate(TimelineKind)], else_=len(TimelineKind))
    # Null flags first: engines disagree on where nulls sort (DuckDB last, Spark first).
    keys = [u.at, rank, u.summary, u.amount.isnull(), u.amount, u.details.isnull(), u.details]
    return u.order_by(keys)
