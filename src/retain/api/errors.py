"""Domain errors become HTTP answers in one place (DESIGN.md §7): a status and a stable ``code``.

Every error body is ``{"error": {"code": ..., "message": ...}}`` (plus ``details`` for request validation), so a
client tells failures apart by ``code``, never by parsing a message.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from retain.errors import (
    ConfigError,
    ConflictError,
    InputError,
    NoDataError,
    NoSnapshotError,
    NotFittedError,
    NotFoundError,
    RetainError,
    StateDatabaseError,
)
from retain.ingest.platforms import PlatformError, PlatformNotConfiguredError

__all__ = ["ApiError", "error_body", "install_error_handlers", "status_of"]

_STATUS: tuple[tuple[type[RetainError], int], ...] = (
    (PlatformNotConfiguredError, 404),  # no secret set: the endpoint is not there
    (PlatformError, 400),  # a platform's delivery refused (signature, replay, payload): the platform retries
    (NoDataError, 409),  # the request is fine; the workspace has nothing to answer it with yet
    (NoSnapshotError, 409),  # ... no `retain refresh` yet
    (NotFittedError, 409),  # ... no `retain model train` yet
    (InputError, 422),
    (NotFoundError, 404),
    (ConflictError, 409),
    (StateDatabaseError, 503),
    (ConfigError, 500),
)


class ApiError(Exception):
    """An HTTP-level refusal with a stable code (authentication, scopes, CSRF, rate of a route)."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def status_of(error: RetainError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RetainError)
    async def _domain(_request: Request, error: RetainError) -> JSONResponse:
        return JSONResponse(error_body(error.code, str(error)), status_code=status_of(error))

    @app.exception_handler(ApiError)
    async def _api(_request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error_body(error.code, error.message), status_code=error.status, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def _request(_request: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"where": ".".join(str(part) for part in problem.get("loc", ())), "problem": problem.get("msg", "")}
            for problem in error.errors()
        ]
        message = "; ".join(f"{d['where']}: {d['problem']}" for d in details) or "the request is not valid"
        return JSONResponse(error_body("invalid_request", message, details=details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        phrase = HTTPStatus(error.status_code).phrase if error.status_code in HTTPStatus._value2member_map_ else ""
        code = phrase.lower().replace(" ", "_").replace("-", "_") or "http_error"
        message = error.detail if isinstance(error.detail, str) else phrase
        return JSONResponse(error_body(code, message), status_code=error.status_code, headers=error.headers)
