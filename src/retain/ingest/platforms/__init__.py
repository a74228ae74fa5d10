"""Billing and shop platforms (Stripe, Shopify): signature checks and the mapping of their webhooks onto the
canonical tables. Pure functions; the service ``retain.services.webhooks`` verifies, de-duplicates and stores."""

from __future__ import annotations

from retain.ingest.platforms.facts import PlatformError, PlatformFacts, PlatformNotConfiguredError
from retain.ingest.platforms.shopify import KnownOrder, map_shopify_webhook, refund_order_id, shopify_customer_id
from retain.ingest.platforms.signatures import (
    STRIPE_TOLERANCE_SECONDS,
    sign_shopify,
    sign_stripe,
    verify_shopify,
    verify_stripe,
)
from retain.ingest.platforms.stripe import FEEDBACK_REASONS, LatestPeriod, PeriodBook, map_stripe_event

__all__ = [
    "FEEDBACK_REASONS",
    "STRIPE_TOLERANCE_SECONDS",
    "KnownOrder",
    "LatestPeriod",
    "PeriodBook",
    "PlatformError",
    "PlatformFacts",
    "PlatformNotConfiguredError",
    "map_shopify_webhook",
    "map_stripe_event",
    "refund_order_id",
    "shopify_customer_id",
    "sign_shopify",
    "sign_stripe",
    "verify_shopify",
    "verify_stripe",
]
