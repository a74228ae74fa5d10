"""Tasks (list, assign, close) and a customer's messages, read from hand-written state rows on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from retain.clock import FixedClock
from retain.errors import InputError, NotFoundError
from retain.services.customer_messages import customer_messages
from retain.services.tasks import TaskStatus, assign_task, close_task, list_tasks, reopen_task
from retain.state.tables import outbox, playbook_enrolments, playbook_steps, tasks
from retain.workspace import Workspace

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.fixture
def ws(database_url, tmp_path) -> Workspace:
    return Workspace.init(tmp_path / "shop", clock=FixedClock(T0 + timedelta(days=3)), database_url=database_url)


def _enrol(connection, id_, customer, playbook, arm):
    connection.execute(
        playbook_enrolments.insert().values(
            id=id_,
            playbook=playbook,
            playbook_version="v1",
            customer_id=customer,
            trigger_key="k",
            arm=arm,
            salt="s",
            holdout_share=0.1,
            fired_at=T0,
            enrolled_at=T0,
            detail="{}",
            status="active",
            created_at=T0,
        )
    )


def _task(connection, id_, customer, title, due_days, status="open", assignee=None):
    connection.execute(
        tasks.insert().values(
            id=id_,
            customer_id=customer,
            playbook="service_recovery",
            title=title,
            assignee=assignee,
            status=status,
            due_at=T0 + timedelta(days=due_days),
            created_at=T0,
            closed_at=T0 if status == "closed" else None,
        )
    )


def test_tasks_are_listed_open_first_by_due_date_and_can_be_assigned_and_closed(ws):
    with ws.transaction() as c:
        _task(c, 1, "a", "Call Ada", due_days=5)
        _task(c, 2, "b", "Call Bo", due_days=2)
        _task(c, 3, "a", "Old call", due_days=1, status="closed", assignee="kim")
    page = list_tasks(ws)
    assert (page.total, [t.id for t in page.items]) == (3, [2, 1, 3])
    assert [t.id for t in list_tasks(ws, status="open").items] == [2, 1]
    assert [t.id for t in list_tasks(ws, customer_id="a").items] == [1, 3]
    second_page = list_tasks(ws, limit=2, offset=2)
    assert (second_page.total, [t.id for t in second_page.items]) == (3, [3])

    assigned = assign_task(ws, 2, " lee@example.com ")
    assert (assigned.assignee, assigned.status) == ("lee@example.com", TaskStatus.OPEN)
    assert [t.id for t in list_tasks(ws, assignee="lee@example.com").items] == [2]
    closed = close_task(ws, 2)
    assert (closed.status, closed.closed_at) == (TaskStatus.CLOSED, T0 + timedelta(days=3))
    assert close_task(ws, 2).closed_at == closed.closed_at  # closing twice keeps the first time
    assert [t.id for t in list_tasks(ws, status="open").items] == [1]
    assert reopen_task(ws, 2).closed_at is None

    with pytest.raises(NotFoundError, match="No task 99"):
        close_task(ws, 99)
    with pytest.raises(InputError, match="Unknown task status 'done'"):
        list_tasks(ws, status="done")
    with pytest.raises(InputError, match="assignee"):
        assign_task(ws, 1, "  ")


def test_a_customers_messages_say_what_was_sent_held_out_or_suppressed_and_when(ws):
    email = {"to": "a@example.com", "subject": "We miss you, Ada", "text": "…", "html": "…", "headers": {}}
    with ws.transaction() as c:
        _enrol(c, 1, "a", "wake_up", "treatment")
        _enrol(c, 2, "a", "price_offer", "holdout")
        _enrol(c, 3, "b", "wake_up", "treatment")
        c.execute(
            outbox.insert().values(
                idempotency_key="k1",
                playbook="wake_up",
                playbook_version="v1",
                step=0,
                customer_id="a",
                trigger_key="k",
                channel="email",
                kind="email",
                payload=json.dumps(email),
                status="delivered",
                attempts=1,
                due_at=T0,
                next_attempt_at=T0,
                created_at=T0,
                delivered_at=T0 + timedelta(minutes=2),
            )
        )
        for id_, enrolment, step, action, status, reason, key, at in (
            (1, 1, 0, "email", "enqueued", None, "k1", T0),
            (2, 1, 1, "task", "suppressed", "frequency_cap", None, T0 + timedelta(days=2)),
            (3, 2, 0, "offer", "held_out", None, "k2", T0 + timedelta(days=1)),
            (4, 3, 0, "email", "enqueued", None, "k3", T0),
        ):
            c.execute(
                playbook_steps.insert().values(
                    id=id_,
                    enrolment_id=enrolment,
                    step=step,
                    action=action,
                    status=status,
                    reason=reason,
                    idempotency_key=key,
                    send_at=at if status != "suppressed" else None,
                    at=at,
                )
            )
    found = customer_messages(ws, "a")
    assert [(m.playbook, m.arm, m.step, m.action, m.status, m.reason) for m in found] == [
        ("wake_up", "treatment", 1, "task", "suppressed", "frequency_cap"),
        ("price_offer", "holdout", 0, "offer", "held_out", None),
        ("wake_up", "treatment", 0, "email", "enqueued", None),
    ]
    sent = found[-1]
    assert (sent.channel, sent.subject, sent.delivery_status, sent.delivered_at) == (
        "email",
        "We miss you, Ada",
        "delivered",
        T0 + timedelta(minutes=2),
    )
    assert (found[1].channel, found[1].delivery_status) == (None, None)  # held out: nothing was queued
    assert customer_messages(ws, "nobody") == []
