"""Reading and changing the ``tasks`` rows playbooks write (repository functions on a Connection)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from retain.state.tables import TaskStatus, tasks

__all__ = ["count_tasks", "get_task", "select_tasks", "update_task"]


def _filters(status: TaskStatus | None, assignee: str | None, customer_id: str | None) -> list[Any]:
    where = []
    if status is not None:
        where.append(tasks.c.status == str(status))
    if assignee is not None:
        where.append(tasks.c.assignee == assignee)
    if customer_id is not None:
        where.append(tasks.c.customer_id == customer_id)
    return where


def select_tasks(
    connection: sa.Connection,
    *,
    status: TaskStatus | None = None,
    assignee: str | None = None,
    customer_id: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[sa.Row[Any]]:
    """Tasks by due date (then id), open ones first."""
    query = (
        sa.select(tasks)
        .where(*_filters(status, assignee, customer_id))
        .order_by(sa.case((tasks.c.status == str(TaskStatus.OPEN), 0), else_=1), tasks.c.due_at, tasks.c.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(connection.execute(query))


def count_tasks(
    connection: sa.Connection,
    *,
    status: TaskStatus | None = None,
    assignee: str | None = None,
    customer_id: str | None = None,
) -> int:
    query = sa.select(sa.func.count()).select_from(tasks).where(*_filters(status, assignee, customer_id))
    return connection.execute(query).scalar_one()


def get_task(connection: sa.Connection, task_id: int) -> sa.Row[Any] | None:
    return connection.execute(sa.select(tasks).where(tasks.c.id == task_id)).first()


def update_task(
    connection: sa.Connection,
    task_id: int,
    *,
    assignee: str | None = None,
    status: TaskStatus | None = None,
    closed_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {}
    if assignee is not None:
        values["assignee"] = assignee
    if status is not None:
        values["status"] = str(status)
        values["closed_at"] = closed_at
    connection.execute(tasks.update().where(tasks.c.id == task_id).values(**values))
