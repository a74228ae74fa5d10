"""Fixed parameters of the generator: catalogues, plans and the churn-hazard coefficients.

The hazard coefficients are documented because a churn model trained on the synthetic data should rediscover
them: every driver except ``latent`` is computable from the emitted tables at the start of the month.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from retain.contract.taxonomy import CHURN_REASONS

__all__ = [
    "CHANNELS",
    "COUNTRIES",
    "COUNTRY_WEIGHTS",
    "FEATURES",
    "PLANS",
    "PLAN_MRR",
    "REASONS",
    "HazardCoefficients",
    "SynthModel",
]


class SynthModel(StrEnum):
    """Business model of the synthetic company."""

    COMMERCE = "commerce"
    """Non-contractual shop: orders, silent dropout."""
    SUBSCRIPTION = "subscription"
    """SaaS subscriptions: plans, pauses, voluntary and involuntary cancellation."""


COUNTRIES = np.array(["US", "DE", "GB", "FR", "NL", "ES", "IT", "CA", "AU", "SE", "PL", "BR", "IN", "JP", "CH", "AT"])
COUNTRY_WEIGHTS = np.array([30, 14, 10, 7, 5, 5, 4, 5, 3, 2, 3, 3, 4, 2, 2, 1], dtype=float)
CHANNELS = np.array(["organic_search", "paid_search", "social", "referral", "direct", "email", "partner"])
CHANNEL_WEIGHTS = np.array([28, 20, 15, 10, 15, 7, 5], dtype=float)
FIRST_NAMES = np.array(
    [
        "Anna",
        "Ben",
        "Clara",
        "David",
        "Emma",
        "Felix",
        "Grace",
        "Hugo",
        "Ines",
        "Jonas",
        "Kai",
        "Lena",
        "Mia",
        "Noah",
        "Olga",
        "Paul",
        "Rosa",
        "Sam",
        "Tara",
        "Umar",
        "Vera",
        "Will",
        "Yuki",
        "Zoe",
    ]
)
LAST_NAMES = np.array(
    [
        "Adams",
        "Becker",
        "Costa",
        "Dubois",
        "Evans",
        "Fischer",
        "Garcia",
        "Hansen",
        "Ito",
        "Jensen",
        "Khan",
        "Lopez",
        "Meyer",
        "Novak",
        "Olsen",
        "Patel",
        "Rossi",
        "Schmidt",
        "Tanaka",
        "Weber",
        "Young",
        "Zimmer",
    ]
)

PLANS = np.array(["basic", "pro", "business"])
PLAN_MRR = np.array([19.0, 49.0, 149.0])
PLAN_WEIGHTS = np.array([0.5, 0.35, 0.15])
ANNUAL_SHARE = 0.25
ANNUAL_FACTOR = 10.0 / 12.0
"""Annual billing charges 10 months for 12, so its monthly-normalised price is 10/12 of the monthly one."""

FEATURES = np.array(["reports", "dashboards", "integrations", "exports", "automations"])
FEATURE_WEIGHTS = np.array([0.35, 0.25, 0.15, 0.15, 0.10])

REASONS = np.array(CHURN_REASONS)
REASON_BASE = {
    "price": 0.16,
    "missing_feature": 0.12,
    "poor_service": 0.06,
    "product_quality": 0.08,
    "switched_competitor": 0.12,
    "no_longer_needed": 0.22,
    "moved": 0.05,
    "payment_failed": 0.0,
    "other": 0.08,
}


@dataclass(frozen=True)
class HazardCoefficients:
    """Monthly churn hazard ``p = sigmoid(sum of the terms below)``.

    Each term is evaluated on the state at the start of the month; all but ``latent`` are observable.
    """

    intercept: float = -4.3
    new_customer: float = 0.6
    """Tenure below three months (early churn)."""
    usage_drop: float = 1.1
    """Times ``max(0, -trend)``; trend = log1p(last month's activity rate) - log1p(the two months before)."""
    inactive: float = 0.7
    """No activity at all in the previous month."""
    unresolved_complaint: float = 0.55
    """Per complaint still open at the start of the month (capped at 3)."""
    recent_complaint: float = 0.3
    """Per complaint opened in the previous month (capped at 2)."""
    low_nps: float = 1.5
    """Times ``max(0, 8 - latest NPS) / 8`` when the customer has answered an NPS survey."""
    failed_payment: float = 3.0
    """Payment failed in the previous month (involuntary churn)."""
    failed_payment_repeat: float = 0.5
    """Per extra failed attempt in the previous month."""
    price: float = 0.45
    """Times ``log(mrr / 49)`` (subscription) — more expensive plans churn more."""
    annual: float = -1.0
    """Annual billing (subscription)."""
    paused: float = 0.5
    """Paused at the start of the month (subscription)."""
    bad_order: float = 0.6
    """A refunded or canceled order in the previous month (commerce)."""
    frailty: float = 0.5
    """Times a per-customer N(0, 1) draw (unobserved)."""
    engagement: float = -0.25
    """Times the latent engagement (unobserved, but correlated with the emitted activity)."""
    noise: float = 0.25
    """Standard deviation of a monthly N(0, 1) shock (unobserved)."""
