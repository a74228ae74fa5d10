"""Who is calling: an API key (``Authorization: Bearer`` or ``X-API-Key``) or the dashboard's session cookie.

``require(scope)`` is the dependency every protected route declares; it answers 401 without valid credentials and
403 when the credentials' scope is too small. A request authenticated by the session cookie that changes
something must also carry the session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``): a
cookie is sent by the browser on its own, a header or form field only by retain's own pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from retain.api.errors import ApiError
from retain.services.auth import (
    SESSION_COOKIE,
    ApiScope,
    Principal,
    WebSession,
    authenticate_key,
    csrf_matches,
    session_of,
)
from retain.workspace import Workspace

__all__ = ["SESSION_COOKIE", "current_session", "require", "workspace"]

CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer rtk_…`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key in the X-API-Key header.")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="The dashboard's session cookie.")


def workspace(request: Request) -> Workspace:
    """The workspace the app serves."""
    return request.app.state.workspace


def current_session(request: Request, ws: Workspace, token: str | None) -> WebSession | None:
    """The session of the request's cookie, cached on the request."""
    if token is None:
        return None
    if not hasattr(request.state, "web_session"):
        request.state.web_session = session_of(ws, token)
    return request.state.web_session


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def require(scope: ApiScope) -> Callable[..., Principal]:
    """A dependency that returns the caller's principal when it holds at least ``scope``."""

    def dependency(
        request: Request,
        ws: Annotated[Workspace, Depends(workspace)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header_key: Annotated[str | None, Depends(_header)],
        cookie: Annotated[str | None, Depends(_cookie)],
    ) -> Principal:
        key = bearer.credentials if bearer is not None else header_key
        if key is not None:
            principal = authenticate_key(ws, key)
            if principal is None:
                raise _unauthorized("The API key is not valid or was revoked; create one with `retain apikey create`.")
        else:
            session = current_session(request, ws, cookie)
            if session is None:
                raise _unauthorized(
                    "This route needs an API key (Authorization: Bearer rtk_… or X-API-Key) or a dashboard sign-in."
                )
            if request.method not in _SAFE_METHODS and not csrf_matches(
                session, request.headers.get(CSRF_HEADER) or getattr(request.state, "form_csrf", None)
            ):
                raise ApiError(403, "csrf_failed", "The request's CSRF token is missing or wrong; reload the page.")
            principal = session.principal
        if not principal.allows(scope):
            raise ApiError(
                403,
                "forbidden_scope",
                f"This route needs the {scope.value} scope; the credentials have {principal.scope.value}.",
            )
        request.state.principal = principal
        return principal

    return dependency
