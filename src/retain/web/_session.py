"""Who is signed in to the dashboard, and what a request must carry to change something.

The session cookie holds a random token (only its hash is stored); every form carries the session's CSRF token
in a hidden ``csrf_token`` field, checked on every POST. A browser sends the cookie on its own, even from a
page of another site, but only retain's own pages know the token. The sign-in form, before any session,
carries a token of its own that must match a short-lived cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from retain.services.auth import SESSION_COOKIE, ApiScope, WebSession, csrf_matches, session_of
from retain.workspace import Workspace

__all__ = [
    "SIGN_IN_COOKIE",
    "PageRefused",
    "SignInNeeded",
    "forget_session",
    "keep_sign_in_token",
    "local_target",
    "posted_form",
    "remember_session",
    "sign_in_token",
    "sign_in_token_matches",
    "signed_in",
    "workspace",
    "writer",
]

SIGN_IN_COOKIE = "retain_sign_in"
"""The sign-in form's CSRF token, as a cookie (the form carries the same value)."""
_SIGN_IN_SECONDS = 3600


class SignInNeeded(Exception):
    """The page needs a signed-in session: the browser is sent to the sign-in page (and back afterwards)."""


class PageRefused(Exception):
    """A request the dashboard refuses with an HTML page saying why (``status`` 403, 422 …)."""

    def __init__(self, status: int, title: str, message: str):
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def workspace(request: Request) -> Workspace:
    return request.app.state.workspace


def signed_in(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> WebSession:
    """The request's live session (also kept on ``request.state`` for the templates)."""
    token = request.cookies.get(SESSION_COOKIE)
    session = session_of(ws, token) if token else None
    if session is None:
        raise SignInNeeded
    request.state.web_session = session
    return session


async def posted_form(request: Request, session: Annotated[WebSession, Depends(signed_in)]) -> FormData:
    """The POSTed form, once its ``csrf_token`` is the session's."""
    form = await request.form()
    token = form.get("csrf_token")
    request.state.form_csrf = token if isinstance(token, str) else None
    if not csrf_matches(session, request.state.form_csrf):
        raise PageRefused(
            403,
            "Form refused",
            "The form's security token is missing or out of date (it is checked on every change). Go back, reload "
            "the page and send the form again.",
        )
    return form


def writer(session: Annotated[WebSession, Depends(signed_in)]) -> WebSession:
    """The session, when it may change things (tasks): the write scope or more."""
    if not session.principal.allows(ApiScope.WRITE):
        raise PageRefused(
            403,
            "Not allowed",
            f"Assigning and closing tasks needs the write scope; {session.principal.subject} is signed in with "
            f"{session.principal.scope.value}. An admin can change it with `retain user set "
            f"{session.principal.subject} --scope write`.",
        )
    return session


def remember_session(response: Response, session: WebSession, *, secure: bool) -> None:
    """Set the session cookie: HttpOnly (no script reads it), SameSite=Strict, Secure behind TLS."""
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        expires=session.expires_at,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def forget_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure)


def sign_in_token(request: Request) -> str:
    """The sign-in form's token: the browser's cookie when it has one, else a new one."""
    return request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(24)


def keep_sign_in_token(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        SIGN_IN_COOKIE, token, max_age=_SIGN_IN_SECONDS, path="/", httponly=True, samesite="strict", secure=secure
    )


def sign_in_token_matches(request: Request, presented: object) -> bool:
    expected = request.cookies.get(SIGN_IN_COOKIE)
    return bool(expected) and isinstance(presented, str) and hmac.compare_digest(expected, presented)


def local_target(target: object, default: str) -> str:
    """``target`` when it is a path of this server (``/dashboard/…``), else ``default``: never an open redirect."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 0x20 for c in target):
        return default
    return target
