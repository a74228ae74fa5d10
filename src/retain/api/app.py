"""``create_app(settings)``: the FastAPI application of one workspace.

Routes are thin: they parse the request, call one service and shape its answer. Errors are mapped to HTTP once
(:mod:`retain.api.errors`); credentials are checked by :func:`retain.api.security.require`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from retain import __version__
from retain.api import (
    routes_analytics,
    routes_apikeys,
    routes_customers,
    routes_facts,
    routes_health,
    routes_links,
    routes_playbooks,
    routes_tasks,
    routes_webhooks,
)
from retain.api.errors import install_error_handlers, status_of
from retain.api.flusher import Flusher
from retain.clock import Clock
from retain.settings import Settings
from retain.web import install_dashboard
from retain.workspace import Workspace

__all__ = ["create_app"]

OPENAPI_URL = "/v1/openapi.json"


def create_app(settings: Settings, *, clock: Clock | None = None, flush: bool = True) -> FastAPI:
    """The API (and dashboard) of the workspace ``settings`` describe; its state database is migrated first.

    With ``flush``, the server flushes the live facts inbox into the lake itself (:class:`~retain.api.flusher.
    Flusher`) while it runs.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.flusher = Flusher(settings, clock=clock).start() if flush else None
        try:
            yield
        finally:
            if app.state.flusher is not None:
                app.state.flusher.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="retain",
        version=__version__,
        description="Customer retention and churn: analytics, risk, playbooks and their measured effect.",
        openapi_url=OPENAPI_URL,
        docs_url=None,  # Swagger UI loads its assets from a CDN; the service works offline
        redoc_url=None,
    )
    app.state.workspace = Workspace.from_settings(settings, clock=clock)
    install_error_handlers(app)
    for routes in (
        routes_health,
        routes_customers,
        routes_analytics,
        routes_playbooks,
        routes_tasks,
        routes_apikeys,
        routes_facts,
        routes_webhooks,
        routes_links,
    ):
        app.include_router(routes.router)
    install_dashboard(app, error_status=status_of)
    return app
