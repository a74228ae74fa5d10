"""``POST /v1/webhooks/stripe`` and ``/v1/webhooks/shopify``: the platforms' own deliveries.

No API key: the platform proves itself with its signature (checked on the raw body before anything is parsed).
A refused delivery gets 400 with the reason's code (``bad_signature``, ``stale_timestamp`` …); a redelivered
event gets 200 and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from retain.api.flusher import tell_flusher
from retain.api.security import workspace
from retain.services.webhooks import WebhookResult, WebhookStatus, receive_shopify, receive_stripe
from retain.workspace import Workspace

__all__ = ["router"]

router = APIRouter(tags=["webhooks"])


class Received(BaseModel):
    platform: str
    event_id: str
    event_type: str
    status: WebhookStatus
    rows: dict[str, int]
    rejected: dict[str, int]
    note: str


def _answer(request: Request, result: WebhookResult) -> Received:
    tell_flusher(request, sum(result.rows.values()))
    return Received(
        platform=str(result.platform),
        event_id=result.event_id,
        event_type=result.event_type,
        status=result.status,
        rows=result.rows,
        rejected=result.rejected,
        note=result.note,
    )


@router.post("/v1/webhooks/stripe", response_model=Received, summary="A Stripe webhook delivery")
async def stripe_webhook(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Received:
    body = await request.body()  # the raw bytes: the signature is over them, not over re-serialised JSON
    return _answer(request, await run_in_threadpool(receive_stripe, ws, body, dict(request.headers)))


@router.post("/v1/webhooks/shopify", response_model=Received, summary="A Shopify webhook delivery")
async def shopify_webhook(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Received:
    body = await request.body()
    return _answer(request, await run_in_threadpool(receive_shopify, ws, body, dict(request.headers)))
