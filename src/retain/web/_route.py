"""The dashboard's route class: whatever goes wrong in a page becomes a page (or the sign-in), never JSON.

The API answers errors in JSON through the app's handlers; a person in a browser gets the same status with an
HTML page saying what happened and what to do. The status of each domain error is the API's (the app hands
its mapping over in :func:`retain.web.dashboard.install_dashboard`), so both interfaces agree.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from retain.errors import RetainError
from retain.web._render import render
from retain.web._session import PageRefused, SignInNeeded

__all__ = ["SIGN_IN_PATH", "PageRoute"]

SIGN_IN_PATH = "/dashboard/sign-in"


def _sign_in(request: Request) -> RedirectResponse:
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = SIGN_IN_PATH + ("?" + urlencode({"next": back}) if request.method == "GET" else "")
    return RedirectResponse(target, status_code=303)


def _problem(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html.j2", status_code=status, title=title, message=message)


class PageRoute(APIRoute):
    """An ``APIRoute`` whose errors are dashboard pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                return _sign_in(request)
            except PageRefused as refused:
                return _problem(request, refused.status, refused.title, refused.message)
            except RequestValidationError as invalid:
                problems = "; ".join(
                    f"{problem.get('loc', ('',))[-1]}: {problem.get('msg', '')}" for problem in invalid.errors()
                )
                return _problem(request, 422, "Not a valid request", f"{problems}. Correct the value and try again.")
            except RetainError as error:
                status = request.app.state.dashboard_error_status(error)
                return _problem(request, status, "Cannot show this", str(error))

        return page
