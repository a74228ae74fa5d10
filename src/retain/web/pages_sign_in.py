"""Signing in (a username and password, or an API key) and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from retain.services.auth import authenticate_key, close_session, open_session, sign_in
from retain.web._render import render
from retain.web._route import SIGN_IN_PATH, PageRoute
from retain.web._session import (
    forget_session,
    keep_sign_in_token,
    local_target,
    posted_form,
    remember_session,
    sign_in_token,
    sign_in_token_matches,
    workspace,
)
from retain.workspace import Workspace

__all__ = ["router"]

router = APIRouter(route_class=PageRoute)

_HOME = "/dashboard/"
_WRONG = "Wrong username or password, or an API key that is not valid. Check them and try again."


def _form(
    request: Request, ws: Workspace, *, status: int = 200, message: str | None = None, target: str = _HOME
) -> Response:
    token = sign_in_token(request)
    page = render(request, "sign_in.html.j2", status_code=status, message=message, next=target, sign_in_csrf=token)
    keep_sign_in_token(page, token, secure=ws.settings.service.secure_cookies)
    return page


@router.get("/sign-in")
def sign_in_page(request: Request, ws: Annotated[Workspace, Depends(workspace)], next: str = _HOME) -> Response:
    message = "You are signed out." if request.query_params.get("out") else None
    return _form(request, ws, message=message, target=local_target(next, _HOME))


@router.post("/sign-in")
async def sign_in_submit(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Response:
    form = await request.form()
    target = local_target(form.get("next"), _HOME)
    if not sign_in_token_matches(request, form.get("csrf_token")):
        return _form(request, ws, status=403, message="The sign-in form had expired; it is fresh now: sign in again.")
    key, username, password = (str(form.get(name) or "") for name in ("api_key", "username", "password"))
    principal = authenticate_key(ws, key.strip()) if key.strip() else sign_in(ws, username, password)
    if principal is None:
        return _form(request, ws, status=401, message=_WRONG, target=target)
    session = open_session(ws, principal)
    response = RedirectResponse(target, status_code=303)
    remember_session(response, session, secure=ws.settings.service.secure_cookies)
    return response


@router.post("/sign-out")
def sign_out(
    request: Request,
    ws: Annotated[Workspace, Depends(workspace)],
    _form_data: Annotated[FormData, Depends(posted_form)],
) -> Response:
    close_session(ws, request.state.web_session.token)
    response = RedirectResponse(f"{SIGN_IN_PATH}?out=1", status_code=303)
    forget_session(response, secure=ws.settings.service.secure_cookies)
    return response
