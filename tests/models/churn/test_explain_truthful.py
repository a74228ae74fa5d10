"""Reasons are true statements about the customer that raise their risk (DESIGN.md §8).

The model here is trained on a deliberately perverse world where *safe* values raise the risk — no refunds,
growing logins, promoters, the business plan, Germany, long tenures — so TreeSHAP gives those values positive
contributions. None of them may become a reason: a reason needs a positive contribution *and* the customer's own
value on the feature's risky side; static attributes are context only. The property test then draws random
customers and reads every stated sentence against the customer's row, with checks written here independently of
the registry's rules.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retain.contract.taxonomy import Playbook, ReasonCode
from retain.errors import InputError
from retain.models.churn import ChurnModel
from retain.models.churn.explain import explain, reason_for

PLANS = ["basic", "pro", "business"]
COUNTRIES = ["US", "DE", "GB"]
CHANNELS = ["organic_search", "paid_search"]


def _perverse_world(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)

    def counts(p: list[float]) -> np.ndarray:
        return rng.choice(len(p), size=n, p=p).astype(float)

    login_prev = rng.integers(0, 30, size=n).astype(float)
    login_30d = np.round(login_prev * rng.uniform(0.2, 1.8, size=n))
    tenure = rng.uniform(5, 900, size=n)
    nps = np.where(rng.uniform(size=n) < 0.6, rng.integers(0, 11, size=n), np.nan)
    csat = np.where(rng.uniform(size=n) < 0.5, rng.integers(1, 6, size=n), np.nan)
    mrr = rng.choice([19.0, 49.0, 149.0], size=n)
    X = pd.DataFrame(
        {
            "failed_payments_30d": counts([0.85, 0.1, 0.05]),
            "failed_payments_90d": counts([0.7, 0.2, 0.1]),
            "bad_orders_90d": counts([0.8, 0.15, 0.05]),
            "open_complaints": counts([0.85, 0.1, 0.05]),
            "oldest_open_complaint_days": rng.uniform(0, 60, size=n),
            "tickets_30d": counts([0.7, 0.2, 0.1]),
            "ticket_satisfaction": np.where(rng.uniform(size=n) < 0.5, rng.uniform(1, 5, size=n), np.nan),
            "login_30d": login_30d,
            "login_trend": np.where(login_prev > 0, login_30d / np.maximum(login_prev, 1), np.nan),
            "events_30d": login_30d * 2,
            "days_since_last_login": np.where(rng.uniform(size=n) < 0.95, rng.exponential(8, size=n), np.nan),
            "nps_latest": nps,
            "nps_change": np.where(np.isnan(nps), np.nan, rng.integers(-5, 6, size=n)),
            "csat_latest": csat,
            "csat_change": np.where(np.isnan(csat), np.nan, rng.integers(-2, 3, size=n)),
            "days_since_nps": rng.uniform(0, 300, size=n),
            "tenure_days": tenure,
            "subscription_days": tenure * rng.uniform(0.5, 1.0, size=n),
            "mrr": mrr,
            "mrr_change_90d": rng.choice([0.0, 0.0, 0.0, 30.0, -30.0], size=n),
            "days_to_renewal": rng.uniform(0, 365, size=n),
            "billing_period_months": rng.choice([1.0, 12.0], size=n),
            "features_used": rng.integers(0, 6, size=n).astype(float),
            "paused": rng.uniform(size=n) < 0.1,
            "pauses": counts([0.8, 0.15, 0.05]),
            "plan": pd.array(rng.choice(PLANS, size=n), dtype="str"),
            "country": pd.array(rng.choice(COUNTRIES, size=n), dtype="str"),
            "acquisition_channel": pd.array(rng.choice(CHANNELS, size=n), dtype="str"),
            "balance": rng.normal(size=n),  # a feature the registry does not know
        }
    )
    # Real risks and, on purpose, safe values that raise the risk too.
    logit = (
        -2.0
        + 1.0 * X.failed_payments_90d
        + 0.6 * X.open_complaints
        + 1.2 * (X.bad_orders_90d == 0)
        + 1.0 * (X.login_trend.fillna(1) > 1.2)
        + 0.9 * (X.nps_latest.fillna(0) >= 9)
        + 0.8 * (X.csat_latest.fillna(0) >= 4)
        + 1.0 * (X.plan == "business")
        + 0.8 * (X.country == "DE")
        + 0.8 * (X.tenure_days > 400)
        + 0.6 * (X.billing_period_months == 1)
        + 0.6 * (X.mrr_change_90d < 0)
        + 0.5 * (X.features_used >= 4)
        + 0.5 * ~X.paused
        + 0.4 * X.balance
    )
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(int)
    return X, y


@cache
def _world() -> tuple[ChurnModel, pd.DataFrame]:
    X, y = _perverse_world(5000, seed=11)
    return ChurnModel(n_estimators=120, calibration=None, random_state=0).fit(X, y), X


def _everything(model: ChurnModel, X: pd.DataFrame) -> pd.DataFrame:
    return explain(model, X, top=3)


def _sentences(out: pd.DataFrame) -> list[str]:
    cols = [f"reason_{i}" for i in (1, 2, 3)]
    return [s for s in out[cols].to_numpy().ravel() if isinstance(s, str)]


# ----------------------------------------------------------------------------- what the perverse world shows
def test_the_perverse_world_does_give_safe_values_positive_contributions():
    model, X = _world()
    contrib = model.contributions(X)
    # Otherwise the tests below would pass without the risky-side rule doing anything.
    assert contrib.loc[X.bad_orders_90d == 0, "bad_orders_90d"].mean() > 0.1
    assert contrib.loc[X.plan == "business", "plan"].mean() > 0.1
    assert contrib.loc[X.tenure_days > 400, "tenure_days"].mean() > 0.1
    assert contrib.loc[X.nps_latest >= 9, "nps_latest"].mean() > 0.1


def test_no_reason_states_a_safe_value_or_a_static_attribute():
    model, X = _world()
    out = _everything(model, X.head(600))
    text = " | ".join(_sentences(out))
    for safe in ("0 orders refunded", "logins up", "promoter", "passive", "business plan", "based in", "billed"):
        assert safe not in text
    old = X.head(600).tenure_days >= 90
    assert not (out.loc[old, "reason_code"] == "early_life").any()
    assert {"other"}.isdisjoint(set(out["reason_code"].dropna()))


def test_static_attributes_are_context_only():
    model, X = _world()
    out = _everything(model, X.head(50))
    row = X.iloc[0]
    parts = out.iloc[0]["context"].split(", ")
    assert f"{row.plan} plan" in parts and row.country in parts and f"via {row.acquisition_channel}" in parts
    assert ("billed monthly" if row.billing_period_months == 1 else "billed yearly") in parts
    with pytest.raises(InputError, match="static context"):
        reason_for("country", row.to_dict())


def test_safe_side_mass_is_not_handed_to_another_sentence():
    model, X = _world()
    customer = X.head(600)
    customer = customer[(customer.bad_orders_90d == 0) & (customer.failed_payments_90d == 0)].head(1)
    out = _everything(model, customer)
    contrib = model.contributions(customer).iloc[0]
    assert contrib["bad_orders_90d"] > 0  # "0 refunds" raised the score ...
    # ... but no reason is about orders, and no reason's impact holds that contribution.
    assert "order_problems" not in out.iloc[0][["driver_1", "driver_2", "driver_3"]].tolist()
    total = out.iloc[0][["impact_1", "impact_2", "impact_3"]].fillna(0).sum()
    positive_risky = contrib.drop(["bias", "bad_orders_90d"]).clip(lower=0).sum()
    assert total <= positive_risky + 1e-9


def test_a_young_customer_gets_early_life_and_numbers_compare_with_the_typical_customer():
    model, X = _world()
    row = {**X.iloc[0].to_dict(), "tenure_days": 20.0, "subscription_days": 20.0}
    assert reason_for("tenure_days", row).text == "customer for 20 days"
    # Sentences that compare name the typical value they compare with.
    typical = model.feature_medians_
    text = reason_for("login_30d", {"login_30d": 2.0}, typical).text
    assert re.fullmatch(r"only 2 logins in the last 30 days \(typical: \d+(\.\d)?\)", text)
    # A population passed as reference replaces the training medians.
    population = pd.DataFrame({"login_30d": [1.0, 1.0, 1.0]})
    logins = X.head(5).assign(login_30d=2.0, login_trend=0.2)
    with_reference = explain(model, logins, reference=population)
    assert not with_reference["reasons"].str.contains("only 2 logins").any()  # 2 is above this population's 1


def test_models_saved_without_medians_compare_with_the_rows_explained():
    model, X = _world()
    rows = X.head(200)
    legacy = ChurnModel(n_estimators=120, calibration=None, random_state=0)
    legacy.__dict__.update({k: v for k, v in model.__dict__.items() if k != "feature_medians_"})
    assert explain(legacy, rows).equals(explain(model, rows, reference=rows))


# ----------------------------------------------------------------------------- the property
_COUNT = st.sampled_from([0.0, 0.0, 1.0, 2.0, 5.0])
_NULLABLE_SCORE = st.one_of(st.none(), st.integers(0, 10).map(float))


def _rows() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "failed_payments_30d": _COUNT,
            "failed_payments_90d": _COUNT,
            "bad_orders_90d": _COUNT,
            "open_complaints": _COUNT,
            "oldest_open_complaint_days": st.floats(0, 90),
            "tickets_30d": _COUNT,
            "ticket_satisfaction": st.one_of(st.none(), st.floats(1, 5)),
            "login_30d": st.sampled_from([0.0, 1.0, 3.0, 12.0, 40.0]),
            "login_trend": st.one_of(st.none(), st.sampled_from([0.0, 0.3, 0.99, 1.0, 1.5, 3.0])),
            "events_30d": st.sampled_from([0.0, 2.0, 20.0, 80.0]),
            "days_since_last_login": st.one_of(st.none(), st.floats(0, 400)),
            "nps_latest": _NULLABLE_SCORE,
            "nps_change": st.one_of(st.none(), st.integers(-10, 10).map(float)),
            "csat_latest": st.one_of(st.none(), st.integers(1, 5).map(float)),
            "csat_change": st.one_of(st.none(), st.integers(-4, 4).map(float)),
            "days_since_nps": st.floats(0, 400),
            "tenure_days": st.floats(0.5, 1500),
            "subscription_days": st.floats(0.5, 1500),
            "mrr": st.sampled_from([0.0, 19.0, 49.0, 149.0]),
            "mrr_change_90d": st.sampled_from([-100.0, -30.0, 0.0, 30.0, 149.0]),
            "days_to_renewal": st.floats(0, 365),
            "billing_period_months": st.sampled_from([1.0, 12.0]),
            "features_used": st.integers(0, 5).map(float),
            "paused": st.booleans(),
            "pauses": _COUNT,
            "plan": st.sampled_from(PLANS),
            "country": st.sampled_from(COUNTRIES),
            "acquisition_channel": st.sampled_from(CHANNELS),
            "balance": st.floats(-3, 3),
        }
    )


_FORBIDDEN = (
    "plan",
    "based in",
    "acquired via",
    "billed",
    "balance",
    "no failed payment",
    "not paused",
    "never paused",
    "subscription running",
    "no NPS answer",
    "no CSAT answer",
    "only one",
    "no support rating",
    "MRR down",
    "MRR unchanged",
    "rose by",
    "unchanged",
    "promoter",
    "passive",
    "answer for",
    "0 complaints",
    "0 support tickets",
    "0 orders",
)


def _check_sentence(text: str, row: dict, typical: dict) -> None:
    """Independent reading of one stated reason against the customer's row."""
    for word in _FORBIDDEN:
        assert word not in text, (text, row)
    assert not re.search(r"\bup \d+ %", text), text
    if m := re.search(r"(\d+) orders? refunded", text):
        assert int(m.group(1)) >= 1 and row["bad_orders_90d"] >= 1
    if "payment failed" in text:
        assert row["failed_payments_90d"] >= 1 or row["failed_payments_30d"] >= 1
    if "unresolved" in text:
        assert row["open_complaints"] >= 1
    if m := re.search(r"NPS (\d+) \((\w+)\)", text):
        assert m.group(2) == "detractor" and row["nps_latest"] <= 6
    if m := re.search(r"NPS fell by (\d+) points? since the previous answer \(now (\d+)\)", text):
        assert row["nps_change"] < 0 and row["nps_latest"] <= 8
    if m := re.search(r"CSAT (\d) of 5", text):
        assert int(m.group(1)) <= 3
    if "CSAT fell" in text:
        assert row["csat_change"] < 0 and row["csat_latest"] <= 3
    if m := re.search(r"support rated ([\d.]+) of 5", text):
        assert row["ticket_satisfaction"] < 4
    if re.search(r"(customer|subscribed) for \d+ days", text):
        key = "tenure_days" if text.startswith("customer") else "subscription_days"
        assert row[key] < 90
    if m := re.search(r"logins down (\d+) %", text):
        assert row["login_trend"] < 1 and row["tenure_days"] >= 60
    if "no logins in the last 60 days" in text:
        assert row["login_30d"] == 0 and row["login_trend"] is None
    if m := re.search(r"^only (\d+) logins? in the last 30 days", text):
        assert int(m.group(1)) == row["login_30d"] < typical["login_30d"] and row["tenure_days"] >= 30
    if text.startswith("no login for"):
        assert row["days_since_last_login"] > typical["days_since_last_login"]
    if text == "never logged in":
        assert row["days_since_last_login"] is None
    if "MRR up" in text:
        assert row["mrr_change_90d"] > 0 and row["mrr"] - row["mrr_change_90d"] > 0
    if "renewal in" in text:
        assert text.startswith("annual renewal") and row["days_to_renewal"] <= 30
    if text.startswith("only") and "core feature" in text:
        assert row["features_used"] < typical["features_used"]
    if "paused" in text:
        assert (text == "subscription paused" and row["paused"]) or (text.startswith("paused") and row["pauses"] >= 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_rows(), min_size=1, max_size=6))
def test_no_stated_reason_is_a_safe_value_for_any_customer(rows):
    model, _ = _world()
    X = pd.DataFrame(rows).astype({"plan": "str", "country": "str", "acquisition_channel": "str"})
    out = explain(model, X, top=3)
    typical = model.feature_medians_
    codes = {str(code) for code in ReasonCode} - {"other"}
    for i, row in enumerate(rows):
        for rank in (1, 2, 3):
            text = out.iloc[i][f"reason_{rank}"]
            if not isinstance(text, str):
                assert all(pd.isna(out.iloc[i][f"reason_{later}"]) for later in range(rank, 4))
                break
            _check_sentence(text, row, typical)
            assert out.iloc[i][f"reason_code_{rank}"] in codes
            assert out.iloc[i][f"playbook_{rank}"] in {str(p) for p in Playbook} - {"account_review"}
            assert out.iloc[i][f"impact_{rank}"] > 0
        assert out.iloc[i]["context"].startswith(f"{row['plan']} plan")
