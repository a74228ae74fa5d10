"""Churn reasons: hand-built customers whose cause is known, the registry, and the sentence templates."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd
import pytest

from retain.contract import CHURN_REASONS
from retain.errors import InputError
from retain.models.churn import ChurnModel
from retain.models.churn.context import CONTEXT_FEATURES
from retain.models.churn.explain import (
    REASONS,
    Driver,
    Playbook,
    ReasonCode,
    driver_of,
    explain,
    reason_for,
    signal_of,
)
from retain.models.churn.features import feature_columns
from retain.synth.simulation import DRIVERS


def _world(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Churn driven by failed payments (one group) and by falling logins (another); the rest is noise.

    logit P(churn) = -3.5 + 1.8 * failed_payments_90d + 6 * max(0, 0.9 - login_trend)
    """
    rng = np.random.default_rng(seed)
    failed_90 = rng.choice([0, 1, 2, 3], size=n, p=[0.7, 0.15, 0.1, 0.05])
    failed_30 = rng.binomial(failed_90, 0.5)
    logins_before = rng.integers(2, 40, size=n)
    falling = rng.uniform(size=n) < 0.3
    factor = np.where(falling, rng.uniform(0.1, 0.8, size=n), rng.uniform(0.8, 1.4, size=n))
    logins_now = np.round(logins_before * factor)
    trend = logins_now / logins_before
    logit = -3.5 + 1.8 * failed_90 + 6.0 * np.maximum(0.0, 0.9 - trend)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame(
        {
            "failed_payments_30d": failed_30,
            "failed_payments_90d": failed_90,
            "login_30d": logins_now,
            "login_trend": trend,
            "days_since_last_login": rng.exponential(3.0, size=n),
            "open_complaints": rng.choice([0, 1], size=n, p=[0.9, 0.1]),
            "nps_latest": rng.integers(0, 11, size=n).astype(float),
            "tenure_days": rng.uniform(30, 1000, size=n),
            "plan": pd.array(rng.choice(["basic", "pro"], size=n), dtype="str"),
            "noise": rng.normal(size=n),
        }
    )
    return X, y


@cache
def _model() -> ChurnModel:
    X, y = _world(4000, seed=7)
    return ChurnModel(n_estimators=150, random_state=0).fit(X, y)


def _customers() -> pd.DataFrame:
    steady = {
        "failed_payments_30d": 0,
        "failed_payments_90d": 0,
        "login_30d": 15.0,
        "login_trend": 1.0,
        "days_since_last_login": 1.5,
        "open_complaints": 0,
        "nps_latest": 8.0,
        "tenure_days": 400.0,
        "plan": "pro",
        "noise": 0.0,
    }
    return pd.DataFrame(
        [
            {**steady, "failed_payments_90d": 2},  # two failures 31-90 days ago, usage steady
            {**steady, "login_30d": 6.0, "login_trend": 0.4},  # 15 -> 6 logins: down 60 %
            steady,
        ],
        index=pd.Index(["pays_late", "fading", "fine"], name="customer_id"),
    )


def test_top_reason_of_a_customer_with_two_failed_payments_is_the_payment_one():
    out = explain(_model(), _customers(), top=3)
    row = out.loc["pays_late"]
    assert row["driver_1"] == "failed_payments"
    assert row["reason_1"] == "payment failed twice in the last 90 days"
    assert (row["reason_code_1"], row["playbook_1"]) == ("payment_failed", "dunning")
    assert (row["reason_code"], row["playbook"]) == ("payment_failed", "dunning")
    assert row["impact_1"] > 0
    assert row["reasons"].startswith("payment failed twice in the last 90 days")


def test_top_reason_of_a_customer_whose_logins_fell_60_percent_is_the_usage_one():
    out = explain(_model(), _customers(), top=3)
    row = out.loc["fading"]
    assert row["driver_1"] == "usage_decline"
    assert row["reason_1"] == "logins down 60 % vs the previous 30 days"
    assert (row["reason_code_1"], row["playbook_1"]) == ("disengaged", "re_engagement")


def _cause(feature: str) -> tuple[str, str]:
    rule = REASONS[driver_of(feature)]
    return str(rule.code), str(rule.playbook)


def test_reasons_only_raise_risk_and_follow_the_contributions():
    model, X = _model(), _customers()
    out = explain(model, X, top=3)
    contrib = model.contributions(X)
    for customer in X.index:
        impacts = [out.loc[customer, f"impact_{i}"] for i in (1, 2, 3)]
        shown = [v for v in impacts if not pd.isna(v)]
        assert all(v > 0 for v in shown) and shown == sorted(shown, reverse=True)
        # A reason's impact is the summed contribution of the features of its cause (drivers with its code and
        # playbook) whose values are on the risky side for this customer; safe-side features count for nothing.
        row = X.loc[[customer]]
        for i, value in enumerate(shown, start=1):
            cause = (out.loc[customer, f"reason_code_{i}"], out.loc[customer, f"playbook_{i}"])
            cols = [
                c
                for c in contrib.columns
                if c != "bias"
                and driver_of(c) is not Driver.OTHER
                and _cause(c) == cause
                and signal_of(c).risky.of(row, c, model.feature_medians_)[0]
            ]
            assert value == pytest.approx(contrib.loc[customer, cols].sum())
    # A healthy customer's payment and usage features lower the risk: never among its reasons.
    fine = out.loc["fine", ["driver_1", "driver_2", "driver_3"]].tolist()
    assert "failed_payments" not in fine and "usage_decline" not in fine


def test_output_columns_and_index():
    out = explain(_model(), _customers(), top=2)
    assert out.index.tolist() == ["pays_late", "fading", "fine"]
    assert list(out.columns) == [
        "reason_1",
        "reason_code_1",
        "playbook_1",
        "driver_1",
        "impact_1",
        "reason_2",
        "reason_code_2",
        "playbook_2",
        "driver_2",
        "impact_2",
        "reasons",
        "reason_code",
        "playbook",
        "context",
    ]
    assert out.loc["fine", "context"] == "pro plan, customer for 400 days"


def test_top_must_be_positive():
    with pytest.raises(InputError, match="top must be a positive integer"):
        explain(_model(), _customers(), top=0)


# ----------------------------------------------------------------------------- registry and templates
def test_reason_codes_include_the_whole_churn_reason_taxonomy():
    assert set(CHURN_REASONS) <= {str(code) for code in ReasonCode}


def test_every_churn_feature_is_a_signal_of_a_driver_or_static_context():
    unknown = [f for f in feature_columns() if driver_of(f) is Driver.OTHER and f not in CONTEXT_FEATURES]
    assert unknown == []
    assert driver_of("some_snapshot_column") is Driver.OTHER
    # Static attributes are in no driver (tenure is early life below 90 days, context after).
    assert {f for f in CONTEXT_FEATURES if driver_of(f) is not Driver.OTHER} == {"tenure_days"}


def test_the_reason_codes_are_the_ones_of_the_true_hazard():
    # The generator names the cause of each customer-month with these codes; explanations must use the same ones.
    stated = {rule.code for rule in REASONS.values()}
    assert set(DRIVERS) <= stated
    assert REASONS[Driver.PAUSED].code is ReasonCode.NO_LONGER_NEEDED
    assert REASONS[Driver.ORDER_PROBLEMS].code is ReasonCode.PRODUCT_QUALITY
    assert REASONS[Driver.NEW_CUSTOMER].code is ReasonCode.EARLY_LIFE


def test_registry_codes_and_playbooks():
    assert (REASONS[Driver.FAILED_PAYMENTS].code, REASONS[Driver.FAILED_PAYMENTS].playbook) == (
        ReasonCode.PAYMENT_FAILED,
        Playbook.DUNNING,
    )
    assert REASONS[Driver.COMPLAINTS].playbook is Playbook.SERVICE_RECOVERY
    assert REASONS[Driver.RENEWAL].playbook is Playbook.RENEWAL_CHECK_IN
    assert REASONS[Driver.LOW_ADOPTION].playbook is Playbook.ONBOARDING_NUDGE
    assert REASONS[Driver.PRICE].playbook is Playbook.PRICE_OFFER


@pytest.mark.parametrize(
    ("feature", "row", "text", "code", "playbook"),
    [
        (
            "login_trend",
            {"login_trend": 0.38},
            "logins down 62 % vs the previous 30 days",
            "disengaged",
            "re_engagement",
        ),
        (
            "events_trend",
            {"events_trend": 1.25},
            "activity up 25 % vs the previous 30 days",
            "disengaged",
            "re_engagement",
        ),
        (
            "login_trend",
            {"login_trend": math.nan, "login_30d": 0},
            "no logins in the last 60 days",
            "disengaged",
            "re_engagement",
        ),
        (
            "days_since_last_login",
            {"days_since_last_login": 23.7},
            "no login for 23 days",
            "disengaged",
            "re_engagement",
        ),
        ("days_since_last_login", {"days_since_last_login": None}, "never logged in", "disengaged", "re_engagement"),
        ("login_30d", {"login_30d": 1}, "only 1 login in the last 30 days", "disengaged", "re_engagement"),
        (
            "feature_used_7d",
            {"feature_used_7d": 0},
            "no feature uses in the last 7 days",
            "disengaged",
            "re_engagement",
        ),
        (
            "open_complaints",
            {"open_complaints": 2, "oldest_open_complaint_days": 9.4},
            "2 complaints unresolved, the oldest for 9 days",
            "poor_service",
            "service_recovery",
        ),
        (
            "oldest_open_complaint_days",
            {"open_complaints": 1, "oldest_open_complaint_days": 12.0},
            "1 complaint unresolved for 12 days",
            "poor_service",
            "service_recovery",
        ),
        (
            "failed_payments_30d",
            {"failed_payments_30d": 1},
            "payment failed once in the last 30 days",
            "payment_failed",
            "dunning",
        ),
        (
            "failed_payments_90d",
            {"failed_payments_90d": 3},
            "payment failed 3 times in the last 90 days",
            "payment_failed",
            "dunning",
        ),
        ("nps_latest", {"nps_latest": 3.0}, "NPS 3 (detractor)", "dissatisfied", "service_recovery"),
        ("nps_latest", {"nps_latest": 8}, "NPS 8 (passive)", "dissatisfied", "service_recovery"),
        (
            "nps_change",
            {"nps_change": -4.0},
            "NPS fell by 4 points since the previous answer",
            "dissatisfied",
            "service_recovery",
        ),
        ("csat_latest", {"csat_latest": 2}, "CSAT 2 of 5", "dissatisfied", "service_recovery"),
        (
            "days_to_renewal",
            {"days_to_renewal": 11.2, "events_trend": 0.5},
            "renewal in 12 days and usage falling",
            "renewal_risk",
            "renewal_check_in",
        ),
        (
            "days_to_renewal",
            {"days_to_renewal": 30.0, "events_trend": 1.1},
            "renewal in 30 days",
            "renewal_risk",
            "renewal_check_in",
        ),
        (
            "features_never_used",
            {"features_never_used": 3, "features_used": 2},
            "3 of 5 core features never used",
            "low_adoption",
            "onboarding_nudge",
        ),
        ("discount_share", {"discount_share": 0.75}, "75 % of orders used a discount code", "price", "price_offer"),
        (
            "mrr_change_90d",
            {"mrr_change_90d": -40.0},
            "MRR down 40.00 over 90 days (downgrade)",
            "price",
            "price_offer",
        ),
        (
            "bad_orders_90d",
            {"bad_orders_90d": 2},
            "2 orders refunded or canceled in the last 90 days",
            "product_quality",
            "service_recovery",
        ),
        (
            "repeated_tickets_90d",
            {"repeated_tickets_90d": 2},
            "2 repeat tickets on an already raised topic in the last 90 days",
            "poor_service",
            "service_recovery",
        ),
        ("days_since_last_order", {"days_since_last_order": 75.2}, "no order for 75 days", "disengaged", "win_back"),
        (
            "revenue_90d",
            {"revenue_90d": 0.0, "orders_90d": 0},
            "no order in the last 90 days",
            "disengaged",
            "win_back",
        ),
        (
            "revenue_90d",
            {"revenue_90d": 0.0, "orders_90d": 1},
            "net revenue of 0.00 in the last 90 days",
            "disengaged",
            "win_back",
        ),
        ("features_used", {"features_used": 0}, "no core feature used", "low_adoption", "onboarding_nudge"),
        (
            "login_trend",
            {"login_trend": 0.0, "login_30d": 0},
            "no logins in the last 30 days (down 100 % vs the previous 30 days)",
            "disengaged",
            "re_engagement",
        ),
        (
            "mrr_change_90d",
            {"mrr_change_90d": 30.0, "mrr": 79.0},
            "MRR up 30.00 over 90 days (now 79.00)",
            "price",
            "price_offer",
        ),
        ("paused", {"paused": True}, "subscription paused", "no_longer_needed", "re_engagement"),
        ("tenure_days", {"tenure_days": 20.9}, "customer for 20 days", "early_life", "onboarding_nudge"),
        ("balance", {"balance": 0.0}, "balance = 0", "other", "account_review"),
    ],
)
def test_sentences_use_the_customers_own_numbers(feature, row, text, code, playbook):
    reason = reason_for(feature, row)
    assert (reason.text, str(reason.code), str(reason.playbook)) == (text, code, playbook)


@pytest.mark.parametrize(
    ("feature", "row", "text"),
    [
        ("login_30d", {"login_30d": 3}, "only 3 logins in the last 30 days (typical: 14)"),
        ("days_since_last_login", {"days_since_last_login": 23.7}, "no login for 23 days (typical: 7 days)"),
        ("orders", {"orders": 1}, "only 1 order in total (typical: 2.5)"),
        (
            "revenue_90d",
            {"revenue_90d": 0.0, "orders_90d": 0},
            "no order in the last 90 days (typical revenue: 180.51)",
        ),
    ],
)
def test_sentences_that_compare_name_the_typical_value(feature, row, text):
    typical = {"login_30d": 14.0, "days_since_last_login": 7.2, "orders": 2.5, "revenue_90d": 180.51}
    assert reason_for(feature, row, typical).text == text
