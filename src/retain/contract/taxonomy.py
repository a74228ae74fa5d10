"""The churn-reason taxonomy, the reason codes of risk explanations and the playbook names: one definition.

- :class:`ChurnReason` — why a customer *says* they left (``cancel_reason`` of subscriptions, ``reason`` of
  feedback); the codes of the data contract.
- :class:`ReasonCode` — why a customer *may* leave: every churn reason, then engagement codes for what the
  behaviour shows before a reason is stated (used by risk explanations, playbook triggers and reports).
- :class:`Playbook` — the retention playbook recommended for a reason (the names the automation layer uses).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CHURN_REASONS", "ChurnReason", "Playbook", "ReasonCode"]


class ChurnReason(StrEnum):
    """Stated churn reasons (the data contract's taxonomy)."""

    PRICE = "price"
    MISSING_FEATURE = "missing_feature"
    POOR_SERVICE = "poor_service"
    PRODUCT_QUALITY = "product_quality"
    SWITCHED_COMPETITOR = "switched_competitor"
    NO_LONGER_NEEDED = "no_longer_needed"
    MOVED = "moved"
    PAYMENT_FAILED = "payment_failed"  # involuntary
    OTHER = "other"


CHURN_REASONS: tuple[str, ...] = tuple(reason.value for reason in ChurnReason)
"""The churn-reason codes, in taxonomy order (the allowed values of ``cancel_reason`` and ``reason``)."""


_ENGAGEMENT_CODES = {
    # What the behaviour shows, before the customer states a reason.
    "DISENGAGED": "disengaged",
    "LOW_ADOPTION": "low_adoption",
    "DISSATISFIED": "dissatisfied",
    "RENEWAL_RISK": "renewal_risk",
    "EARLY_LIFE": "early_life",
}

ReasonCode = StrEnum(  # type: ignore[misc]  # every churn reason, then the engagement codes: one list of each
    "ReasonCode",
    [*((reason.name, reason.value) for reason in ChurnReason), *_ENGAGEMENT_CODES.items()],
    module=__name__,
)
ReasonCode.__doc__ = """Why a customer may leave: the churn-reason taxonomy (:class:`ChurnReason`), then engagement
codes for behavioural signals (``disengaged``, ``low_adoption``, ``dissatisfied``, ``renewal_risk``,
``early_life``)."""


class Playbook(StrEnum):
    """Recommended retention playbook for a reason (names the automation layer's playbooks use)."""

    DUNNING = "dunning"
    SERVICE_RECOVERY = "service_recovery"
    RE_ENGAGEMENT = "re_engagement"
    ONBOARDING_NUDGE = "onboarding_nudge"
    RENEWAL_CHECK_IN = "renewal_check_in"
    PRICE_OFFER = "price_offer"
    WIN_BACK = "win_back"
    ACCOUNT_REVIEW = "account_review"
