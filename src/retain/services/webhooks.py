"""Receiving the webhooks of Stripe and Shopify: verify, drop what was already applied, map, store.

The HTTP routes (``POST /v1/webhooks/stripe`` and ``/shopify``) pass the raw body and the headers here; nothing
is parsed before the signature is checked. A delivery whose event id is in ``webhook_events`` was applied
before and changes nothing (platforms deliver at least once and retry). The rows are stored first and the event
id recorded after: a crash in between makes the platform's retry store the same rows again, which their keys make
harmless, whereas the other order could lose the event.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import sqlalchemy as sa

from retain.ingest.platforms import (
    PlatformError,
    PlatformFacts,
    PlatformNotConfiguredError,
    map_shopify_webhook,
    map_stripe_event,
    verify_shopify,
    verify_stripe,
)
from retain.services.live_facts import accept_facts
from retain.services.webhook_lookups import known_order, latest_period
from retain.state.tables import webhook_events
from retain.workspace import Workspace

__all__ = ["Platform", "WebhookResult", "WebhookStatus", "receive_shopify", "receive_stripe"]


class Platform(StrEnum):
    STRIPE = "stripe"
    SHOPIFY = "shopify"


class WebhookStatus(StrEnum):
    APPLIED = "applied"
    """Mapped and stored (possibly to no rows, see ``note``); the event id is recorded."""
    DUPLICATE = "duplicate"
    """The event id was applied before; nothing changed."""


@dataclass(frozen=True)
class WebhookResult:
    platform: Platform
    event_id: str
    event_type: str
    status: WebhookStatus
    rows: dict[str, int] = field(default_factory=dict)
    """Rows accepted per table."""
    rejected: dict[str, int] = field(default_factory=dict)
    """Rows the contract rejected per table."""
    note: str = ""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _json(body: bytes, platform: Platform) -> dict:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise PlatformError("bad_payload", f"The {platform} webhook body is not JSON.") from None
    if not isinstance(payload, dict):
        raise PlatformError("bad_payload", f"The {platform} webhook body is not a JSON object.")
    return payload


def _applied_before(ws: Workspace, platform: Platform, event_id: str) -> bool:
    query = sa.select(sa.func.count()).where(
        webhook_events.c.platform == str(platform), webhook_events.c.event_id == event_id
    )
    with ws.connect() as connection:
        return bool(connection.execute(query).scalar_one())


def _record(ws: Workspace, platform: Platform, event_id: str, event_type: str) -> bool:
    """Record the event as applied; ``False`` when a concurrent delivery of it got there first."""
    try:
        with ws.transaction() as connection:
            connection.execute(
                webhook_events.insert().values(
                    platform=str(platform), event_id=event_id, event_type=event_type[:128], received_at=ws.clock.now()
                )
            )
    except sa.exc.IntegrityError:
        return False
    return True


def _store(ws: Workspace, table: str, rows: list[dict], source: str) -> tuple[int, int]:
    """Add ``rows`` to ``table`` through the live-facts inbox (flushed into the lake like API posts); (accepted,
    rejected). A row already in the inbox with the same values counts as accepted: the delivery's fact is there."""
    result = accept_facts(ws, table, rows, source=source)
    return result.accepted + result.duplicates, result.rejected


def _apply(
    ws: Workspace, platform: Platform, event_id: str, event_type: str, map_facts: Callable[[], PlatformFacts]
) -> WebhookResult:
    if _applied_before(ws, platform, event_id):
        return WebhookResult(platform, event_id, event_type, WebhookStatus.DUPLICATE, note="already applied")
    facts = map_facts()
    accepted: dict[str, int] = {}
    rejected: dict[str, int] = {}
    for table, rows in facts.rows.items():
        accepted[table], rejected[table] = _store(ws, table, rows, str(platform))
    if not _record(ws, platform, event_id, event_type):
        return WebhookResult(platform, event_id, event_type, WebhookStatus.DUPLICATE, note="applied concurrently")
    rejected = {table: n for table, n in rejected.items() if n}
    return WebhookResult(platform, event_id, event_type, WebhookStatus.APPLIED, accepted, rejected, facts.note)


def receive_stripe(ws: Workspace, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
    """Verify a Stripe delivery (``Stripe-Signature``), apply its event once, return what it changed.

    Raises
    ------
    PlatformNotConfiguredError
        No ``[platforms.stripe] endpoint_secret`` is set.
    PlatformError
        ``missing_signature``, ``bad_signature``, ``stale_timestamp`` (refused; nothing changed) or
        ``bad_payload``, ``unsupported_price`` (the event cannot be mapped).
    """
    settings = ws.settings.platforms.stripe
    if settings.endpoint_secret is None:
        raise PlatformNotConfiguredError(
            "Stripe webhooks are not configured: set [platforms.stripe] endpoint_secret in retain.toml (or "
            "RETAIN_PLATFORMS__STRIPE__ENDPOINT_SECRET) to the endpoint's signing secret."
        )
    verify_stripe(
        body,
        _header(headers, "Stripe-Signature"),
        settings.endpoint_secret.get_secret_value(),
        now=ws.clock.now(),
        tolerance=settings.tolerance_seconds,
    )
    event = _json(body, Platform.STRIPE)
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise PlatformError("bad_payload", "The Stripe event has no id.")
    return _apply(
        ws,
        Platform.STRIPE,
        event_id,
        str(event.get("type", "")),
        lambda: map_stripe_event(event, latest_period=lambda sid: latest_period(ws, sid)),
    )


def receive_shopify(ws: Workspace, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
    """Verify a Shopify delivery (``X-Shopify-Hmac-Sha256``), apply it once (by ``X-Shopify-Webhook-Id``).

    Raises
    ------
    PlatformNotConfiguredError
        No ``[platforms.shopify] api_secret`` is set.
    PlatformError
        ``missing_signature``, ``bad_signature`` (refused; nothing changed), ``bad_payload`` (no topic or
        webhook id, or a body the topic cannot map) or ``unknown_order`` (a refund before its order).
    """
    settings = ws.settings.platforms.shopify
    if settings.api_secret is None:
        raise PlatformNotConfiguredError(
            "Shopify webhooks are not configured: set [platforms.shopify] api_secret in retain.toml (or "
            "RETAIN_PLATFORMS__SHOPIFY__API_SECRET) to the app's client secret."
        )
    verify_shopify(body, _header(headers, "X-Shopify-Hmac-Sha256"), settings.api_secret.get_secret_value())
    topic = _header(headers, "X-Shopify-Topic")
    webhook_id = _header(headers, "X-Shopify-Webhook-Id")
    if not topic or not webhook_id:
        raise PlatformError(
            "bad_payload", "A Shopify delivery needs the X-Shopify-Topic and X-Shopify-Webhook-Id headers."
        )
    payload = _json(body, Platform.SHOPIFY)
    return _apply(
        ws,
        Platform.SHOPIFY,
        webhook_id,
        topic,
        lambda: map_shopify_webhook(topic, payload, known_order=lambda oid: known_order(ws, oid)),
    )
