"""Tasks for people (a customer-success call), written by playbooks' task steps: list, assign, close."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from retain.errors import InputError, NotFoundError
from retain.state import task_rows
from retain.state.tables import TaskStatus
from retain.workspace import Workspace

__all__ = ["Task", "TaskPage", "TaskStatus", "assign_task", "close_task", "get_task", "list_tasks", "reopen_task"]


@dataclass(frozen=True)
class Task:
    id: int
    customer_id: str
    title: str
    status: TaskStatus
    assignee: str | None
    playbook: str | None
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, row: sa.Row[Any]) -> Task:
        return cls(
            row.id,
            row.customer_id,
            row.title,
            TaskStatus(row.status),
            row.assignee,
            row.playbook,
            row.due_at,
            row.created_at,
            row.closed_at,
        )


@dataclass(frozen=True)
class TaskPage:
    total: int
    """Tasks matching the filters, over every page."""
    items: list[Task]


def list_tasks(
    ws: Workspace,
    *,
    status: TaskStatus | str | None = None,
    assignee: str | None = None,
    customer_id: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> TaskPage:
    """Tasks matching the filters, open first, then by due date."""
    if (limit is not None and limit < 1) or offset < 0:
        raise InputError(f"limit must be at least 1 and offset at least 0 (found limit={limit}, offset={offset}).")
    wanted = _status(status) if status is not None else None
    filters = {"status": wanted, "assignee": assignee, "customer_id": customer_id}
    with ws.connect() as connection:
        total = task_rows.count_tasks(connection, **filters)
        rows = task_rows.select_tasks(connection, **filters, limit=limit, offset=offset)
    return TaskPage(total, [Task.of(row) for row in rows])


def get_task(ws: Workspace, task_id: int) -> Task:
    with ws.connect() as connection:
        return Task.of(_existing(connection, task_id))


def assign_task(ws: Workspace, task_id: int, assignee: str) -> Task:
    """Give the task to ``assignee`` (a name or e-mail address of your team)."""
    assignee = assignee.strip()
    if not assignee or len(assignee) > 255:
        raise InputError("An assignee is 1 to 255 characters: a name or an e-mail address.")
    with ws.transaction() as connection:
        _existing(connection, task_id)
        task_rows.update_task(connection, task_id, assignee=assignee)
        return Task.of(_existing(connection, task_id))


def close_task(ws: Workspace, task_id: int) -> Task:
    """Mark the task done; closing a closed task keeps its first closing time."""
    with ws.transaction() as connection:
        row = _existing(connection, task_id)
        if row.status != TaskStatus.CLOSED:
            task_rows.update_task(connection, task_id, status=TaskStatus.CLOSED, closed_at=ws.clock.now())
        return Task.of(_existing(connection, task_id))


def reopen_task(ws: Workspace, task_id: int) -> Task:
    with ws.transaction() as connection:
        _existing(connection, task_id)
        task_rows.update_task(connection, task_id, status=TaskStatus.OPEN, closed_at=None)
        return Task.of(_existing(connection, task_id))


def _existing(connection: sa.Connection, task_id: int) -> sa.Row[Any]:
    row = task_rows.get_task(connection, task_id)
    if row is None:
        raise NotFoundError(f"No task {task_id}; list them with GET /v1/tasks or on the dashboard's Tasks page.")
    return row


def _status(value: TaskStatus | str) -> TaskStatus:
    try:
        return TaskStatus(value)
    except ValueError:
        raise InputError(
            f"Unknown task status {value!r}; expected one of {', '.join(s.value for s in TaskStatus)}."
        ) from None
