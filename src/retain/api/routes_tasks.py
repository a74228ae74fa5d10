"""``/v1/tasks``: the work playbooks left for people — list (read), assign and close (write)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, Field

from retain.api.pagination import Limit, Offset
from retain.api.security import require, workspace
from retain.services.auth import ApiScope
from retain.services.tasks import Task, TaskStatus, assign_task, close_task, list_tasks
from retain.workspace import Workspace

__all__ = ["router"]

router = APIRouter(tags=["tasks"])

_MAX_ID = 2**63 - 1  # the databases' integer range


class TaskOut(BaseModel):
    id: int
    customer_id: str
    title: str
    status: TaskStatus
    assignee: str | None
    playbook: str | None = Field(description="The playbook whose step made the task.")
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        return cls(**vars(task))


class TaskPageOut(BaseModel):
    total: int = Field(description="Tasks matching the filters, over every page.")
    limit: int
    offset: int
    items: list[TaskOut] = Field(description="Open first, then by due date.")


class Assignment(BaseModel):
    assignee: str = Field(min_length=1, max_length=255, description="A name or e-mail address of your team.")


TaskId = Annotated[int, Path(ge=1, le=_MAX_ID, description="The task's id.")]
Text = Annotated[str | None, Query(min_length=1, max_length=255)]


@router.get("/v1/tasks", response_model=TaskPageOut, summary="Tasks, open first then by due date")
def tasks(
    ws: Annotated[Workspace, Depends(workspace)],
    _: Annotated[object, Depends(require(ApiScope.READ))],
    status: Annotated[TaskStatus | None, Query(description="open or closed.")] = None,
    assignee: Text = None,
    customer_id: Text = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> TaskPageOut:
    page = list_tasks(ws, status=status, assignee=assignee, customer_id=customer_id, limit=limit, offset=offset)
    return TaskPageOut(total=page.total, limit=limit, offset=offset, items=[TaskOut.of(t) for t in page.items])


@router.post("/v1/tasks/{task_id}/assign", response_model=TaskOut, summary="Give a task to someone")
def assign(
    task_id: TaskId,
    assignment: Annotated[Assignment, Body()],
    ws: Annotated[Workspace, Depends(workspace)],
    _: Annotated[object, Depends(require(ApiScope.WRITE))],
) -> TaskOut:
    return TaskOut.of(assign_task(ws, task_id, assignment.assignee))


@router.post("/v1/tasks/{task_id}/close", response_model=TaskOut, summary="Mark a task done")
def close(
    task_id: TaskId,
    ws: Annotated[Workspace, Depends(workspace)],
    _: Annotated[object, Depends(require(ApiScope.WRITE))],
) -> TaskOut:
    return TaskOut.of(close_task(ws, task_id))
