"""Tasks for people (written by playbooks' task steps): the list, and the assign and close forms (write scope)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from retain.services.auth import ApiScope, WebSession
from retain.services.tasks import TaskStatus, assign_task, close_task, list_tasks
from retain.web._render import render
from retain.web._route import PageRoute
from retain.web._session import local_target, posted_form, signed_in, workspace, writer
from retain.workspace import Workspace

__all__ = ["router"]

router = APIRouter(route_class=PageRoute)

_PAGE = 50
_TASKS = "/dashboard/tasks"


@router.get("/tasks")
def tasks_page(
    request: Request,
    ws: Annotated[Workspace, Depends(workspace)],
    session: Annotated[WebSession, Depends(signed_in)],
    status: Annotated[str, Query(pattern="^(open|closed|all)$")] = "open",
    assignee: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    found = list_tasks(
        ws,
        status=None if status == "all" else TaskStatus(status),
        assignee=assignee.strip() or None,
        limit=_PAGE,
        offset=(page - 1) * _PAGE,
    )
    pages = max(1, -(-found.total // _PAGE))
    return render(
        request,
        "tasks.html.j2",
        title="Tasks",
        found=found,
        status=status,
        assignee=assignee,
        page=page,
        pages=pages,
        can_write=session.principal.allows(ApiScope.WRITE),
        back=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    )


def _back(form: FormData) -> RedirectResponse:
    return RedirectResponse(local_target(form.get("next"), _TASKS), status_code=303)


@router.post("/tasks/{task_id}/assign")
def assign(
    task_id: int,
    ws: Annotated[Workspace, Depends(workspace)],
    form: Annotated[FormData, Depends(posted_form)],
    _writer: Annotated[WebSession, Depends(writer)],
) -> Response:
    assign_task(ws, task_id, str(form.get("assignee") or ""))
    return _back(form)


@router.post("/tasks/{task_id}/close")
def close(
    task_id: int,
    ws: Annotated[Workspace, Depends(workspace)],
    form: Annotated[FormData, Depends(posted_form)],
    _writer: Annotated[WebSession, Depends(writer)],
) -> Response:
    close_task(ws, task_id)
    return _back(form)
