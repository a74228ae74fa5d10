"""One customer: the 360 (profile, risk, reasons, value), the timeline, what retain sent and when, their tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from retain import services
from retain.services.auth import ApiScope, WebSession
from retain.services.customer_messages import customer_messages
from retain.services.tasks import list_tasks
from retain.web._render import render
from retain.web._route import PageRoute
from retain.web._session import signed_in, workspace
from retain.workspace import Workspace

__all__ = ["router"]

router = APIRouter(route_class=PageRoute)

_HEADLINE = ("name", "email", "p_churn", "expected_loss", "value_if_retained", "risk_rank", "health", "band")
_WHY = ("reasons", "reason_code", "playbook")
_TIMELINE_ROWS = 200


@router.get("/customers/{customer_id:path}")
def customer_page(
    request: Request,
    customer_id: str,
    ws: Annotated[Workspace, Depends(workspace)],
    session: Annotated[WebSession, Depends(signed_in)],
) -> Response:
    view = services.customer_360(ws, customer_id)
    profile = view.profile
    details = {k: v for k, v in profile.items() if v is not None and k not in (*_HEADLINE, *_WHY, "customer_id")}
    timeline = list(reversed(view.timeline))  # newest first: what happened lately is what a call is about
    return render(
        request,
        "customer.html.j2",
        title=f"Customer {customer_id}",
        view=view,
        profile=profile,
        details=details,
        timeline=timeline[:_TIMELINE_ROWS],
        timeline_total=len(timeline),
        messages=customer_messages(ws, customer_id),
        tasks=list_tasks(ws, customer_id=customer_id, limit=None).items,
        can_write=session.principal.allows(ApiScope.WRITE),
    )
