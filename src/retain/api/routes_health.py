"""``/health``: is the server up (no key needed); ``/v1/whoami``: which credentials a request carries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from retain import __version__
from retain.api.security import require
from retain.services.auth import ApiScope, Principal

__all__ = ["router"]

router = APIRouter()


class Health(BaseModel):
    status: str
    version: str


class WhoAmI(BaseModel):
    subject: str
    scope: ApiScope


@router.get("/health", response_model=Health, tags=["service"], summary="The server is up")
def health() -> Health:
    # Deliberately does nothing else: it is the bare route `retain bench api` measures the others against.
    return Health(status="ok", version=__version__)


@router.get("/v1/whoami", response_model=WhoAmI, tags=["service"], summary="The caller's identity and scope")
def whoami(principal: Annotated[Principal, Depends(require(ApiScope.READ))]) -> WhoAmI:
    return WhoAmI(subject=principal.subject, scope=principal.scope)
