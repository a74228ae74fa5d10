"""``install_dashboard(app)``: the dashboard's pages and assets on the API's app, under ``/dashboard``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse

from retain.errors import RetainError
from retain.web import (
    assets,
    pages_analytics,
    pages_at_risk,
    pages_customer,
    pages_playbooks,
    pages_sign_in,
    pages_tasks,
)

__all__ = ["DASHBOARD_PATH", "install_dashboard"]

DASHBOARD_PATH = "/dashboard"


def _router() -> APIRouter:
    router = APIRouter(prefix=DASHBOARD_PATH)
    for pages in (pages_sign_in, pages_analytics, pages_at_risk, pages_customer, pages_playbooks, pages_tasks, assets):
        router.include_router(pages.router)
    return router


def install_dashboard(app: FastAPI, *, error_status: Callable[[RetainError], int]) -> None:
    """Serve the dashboard from ``app``; ``error_status`` gives a domain error's HTTP status (the API's mapping).

    The pages stay out of the OpenAPI document: they are for people, the ``/v1`` routes for programs.
    """
    app.state.dashboard_error_status = error_status
    app.include_router(_router(), include_in_schema=False)

    @app.get("/", include_in_schema=False)
    def _home() -> RedirectResponse:
        return RedirectResponse(f"{DASHBOARD_PATH}/", status_code=307)
