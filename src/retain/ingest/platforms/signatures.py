"""Checking that a webhook really comes from the platform: Stripe's and Shopify's HMAC-SHA256 signatures.

- **Stripe** sends ``Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>…]``; each ``v1`` is the HMAC-SHA256 of
  ``"<t>.<raw body>"`` keyed with the endpoint's signing secret (several ``v1`` while a secret is rolled). A
  timestamp more than ``tolerance`` seconds (Stripe's default: 300) away from now is refused, so a captured
  delivery cannot be replayed later.
- **Shopify** sends ``X-Shopify-Hmac-Sha256``: the base64 HMAC-SHA256 of the raw body keyed with the app's
  client (API) secret.

Comparisons are constant-time (:func:`hmac.compare_digest`). Messages never show a secret or a signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime

from retain.ingest.platforms.facts import PlatformError

__all__ = ["STRIPE_TOLERANCE_SECONDS", "sign_shopify", "sign_stripe", "verify_shopify", "verify_stripe"]

STRIPE_TOLERANCE_SECONDS = 300


def sign_stripe(body: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``body`` at ``timestamp`` (for tests and tools)."""
    return f"t={timestamp},v1={_stripe_digest(body, secret, str(timestamp))}"


def sign_shopify(body: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` header Shopify would send for ``body``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _stripe_digest(body: bytes, secret: str, timestamp: str) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_stripe(
    body: bytes, header: str | None, secret: str, *, now: datetime, tolerance: int = STRIPE_TOLERANCE_SECONDS
) -> int:
    """Check a ``Stripe-Signature`` header; return its timestamp (Unix seconds).

    Raises
    ------
    PlatformError
        ``missing_signature`` (no header), ``bad_signature`` (malformed, or no ``v1`` matches: wrong secret or a
        changed body) or ``stale_timestamp`` (signed more than ``tolerance`` seconds from ``now``: a replay).
    """
    if not header:
        raise PlatformError(
            "missing_signature", "No Stripe-Signature header; Stripe signs every webhook delivery with one."
        )
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit() or not signatures:
        raise PlatformError(
            "bad_signature",
            "The Stripe-Signature header is malformed: expected t=<unix time>,v1=<hex signature>.",
        )
    expected = _stripe_digest(body, secret, timestamp)
    # Every candidate is compared, so the time taken does not tell which one (or whether any) came close.
    matched = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    if not any(matched):
        raise PlatformError(
            "bad_signature",
            "The Stripe signature does not match the body: check [platforms.stripe] endpoint_secret (the whsec_… "
            "secret of this endpoint in Stripe's dashboard) and that the raw body is passed unchanged.",
        )
    age = int(now.timestamp()) - int(timestamp)
    if abs(age) > tolerance:
        raise PlatformError(
            "stale_timestamp",
            f"The Stripe signature was made {age:+d} s from now, outside the {tolerance} s tolerance: a replayed "
            "delivery, or this server's clock is wrong.",
        )
    return int(timestamp)


def verify_shopify(body: bytes, header: str | None, secret: str) -> None:
    """Check an ``X-Shopify-Hmac-Sha256`` header.

    Raises
    ------
    PlatformError
        ``missing_signature`` (no header) or ``bad_signature`` (not base64, or not the body's HMAC under ``secret``).
    """
    if not header:
        raise PlatformError(
            "missing_signature", "No X-Shopify-Hmac-Sha256 header; Shopify signs every webhook delivery with one."
        )
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        given = b""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise PlatformError(
            "bad_signature",
            "The Shopify HMAC does not match the body: check [platforms.shopify] api_secret (the app's client "
            "secret) and that the raw body is passed unchanged.",
        )
