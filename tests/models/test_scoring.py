"""Scoring a workspace: population, P(churn), CLV, health, ranking by revenue at risk, reasons for the top N.

Each number is checked against an independent computation in the test: the population from the raw
subscription periods / orders with pandas, the subscription CLV from its closed-form sum written out here, the
probabilities from the saved model applied to freshly built features.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scoring_builders import TRAINED_AT, build_workspace

from retain.health import health_score
from retain.models.churn.features import churn_features
from retain.models.clv import GammaGammaModel, ModifiedBetaGeoModel, predicted_clv, summary_from_orders
from retain.services import churn_registry, score, train

TOP = 5


@pytest.fixture(scope="module")
def subscription_ws(tmp_path_factory):
    ws = build_workspace(tmp_path_factory.mktemp("scoring-sub"), customers=600, model="subscription")
    train(ws)
    return ws


@pytest.fixture(scope="module")
def subscription_scores(subscription_ws):
    return score(subscription_ws, top=TOP)


def _raw(ws, name: str) -> pd.DataFrame:
    return ws.backend.to_pyarrow(ws.table(name)).to_pandas()


def test_training_metadata_describes_the_data(subscription_ws):
    meta = churn_registry(subscription_ws).metadata().model_dump(mode="json")
    assert meta["version"] == "v1"
    assert datetime.fromisoformat(meta["created_at"]) == TRAINED_AT
    assert meta["business_model"] == "subscription"
    assert meta["horizon_days"] == 30  # the default: churn within the next month
    assert meta["data_range"]["end"].startswith("2025-12-31")
    # 15 months of data from October 2024: dates from January 2025 (3 months of history) whose 30-day window ends
    # by the end of the data — the last is 2025-12-01 (+30 days = 2025-12-31 00:00, before the last fact).
    assert meta["observation_dates"][0].startswith("2025-01-01")
    assert meta["observation_dates"][-1].startswith("2025-12-01")
    bt = meta["backtest"]
    assert [d[:10] for d in bt["test_dates"]] == ["2025-10-01", "2025-11-01", "2025-12-01"]
    # Training windows end by the first test date: 2025-09-01 + 30 days = 2025-10-01 <= 2025-10-01.
    assert bt["train_dates"][-1].startswith("2025-09-01")
    assert meta["rows"]["train"] + meta["rows"]["test"] == meta["rows"]["total"]  # no date sits out
    # The baselines were trained and tested on the backtest's own rows.
    baselines = bt["baselines"]
    assert list(baselines) == ["recency", "logistic_regression", "health"]
    # The health score ranks the same test rows (a score, not a probability: no Brier).
    assert baselines["health"]["description"].startswith("health score 0-100, lowest first (engagement,")
    assert "brier" not in baselines["health"]["metrics"]
    for baseline in baselines.values():
        assert baseline["metrics"]["n"] == bt["metrics"]["n"] == meta["rows"]["test"]
        assert baseline["metrics"]["positives"] == bt["metrics"]["positives"]
    assert baselines["recency"]["description"].startswith("days_since_last_")
    # The capacity the final model chose, among the six candidates it compared.
    assert meta["capacity"]["kind"] in {"trees", "linear"}
    assert [c["chosen"] for c in meta["capacity"]["candidates"]].count(True) == 1
    assert 0.0 <= bt["metrics"]["roc_auc"] <= 1.0
    assert sum(r["count"] for r in bt["calibration"]) == meta["rows"]["test"]
    assert meta["features"][:2] == ["tenure_days", "events_7d"]
    assert set(meta["categorical_features"]) == {"plan", "acquisition_channel", "country"}


def test_population_is_the_customers_active_at_the_end_of_the_data(subscription_ws, subscription_scores):
    s = _raw(subscription_ws, "subscriptions")
    as_of = pd.Timestamp(subscription_scores.as_of)
    running = (s["started_at"] <= as_of) & (s["ended_at"].isna() | (s["ended_at"] > as_of))
    active = set(s.loc[running & (s["status"] != "paused"), "customer_id"])
    assert set(subscription_scores.ranked["customer_id"]) == active
    assert len(subscription_scores.ranked) == len(active) > 100
    assert subscription_scores.ranked["customer_id"].is_unique


def test_probabilities_are_the_saved_models_on_fresh_features(subscription_ws, subscription_scores):
    model, _ = churn_registry(subscription_ws).load()
    as_of = pd.Timestamp(subscription_scores.as_of).to_pydatetime()
    features = subscription_ws.backend.to_pyarrow(
        churn_features(subscription_ws.facts().tables, as_of=as_of)
    ).to_pandas()
    features = features.set_index("customer_id").loc[subscription_scores.ranked["customer_id"]]
    expected = model.predict_proba(features[list(model.feature_names_in_)])[:, 1]
    np.testing.assert_allclose(subscription_scores.ranked["p_churn"].to_numpy(), expected, rtol=1e-12)
    health = health_score(features.reset_index(), subscription_ws.settings.health)
    np.testing.assert_array_equal(subscription_scores.ranked["health"].to_numpy(), health["health"].to_numpy())
    np.testing.assert_array_equal(subscription_scores.ranked["band"].to_numpy(), health["band"].to_numpy())


def test_subscription_value_if_retained_is_twelve_discounted_months_of_mrr(subscription_scores):
    # Written out: 12 monthly payments of MRR billed in advance (month 0 undiscounted), 1 % a month — no churn
    # risk in it (expected_loss multiplies by P(churn) once).
    s = subscription_scores.ranked
    annuity = sum(1.01**-k for k in range(12))
    assert annuity == pytest.approx(11.3676, abs=1e-4)
    np.testing.assert_allclose(s["value_if_retained"].to_numpy(), s["mrr"].to_numpy() * annuity, rtol=1e-12)
    assert (s["mrr"] > 0).all()


def test_ranked_by_expected_loss(subscription_scores):
    s = subscription_scores.ranked
    np.testing.assert_allclose(s["expected_loss"].to_numpy(), (s["p_churn"] * s["value_if_retained"]).to_numpy())
    assert s["rank"].tolist() == list(range(1, len(s) + 1))
    assert (np.diff(s["expected_loss"].to_numpy()) <= 0).all()
    assert list(s.columns[:12]) == [
        "rank",
        "customer_id",
        "expected_loss",
        "p_churn",
        "value_if_retained",
        "p_alive",
        "expected_orders",
        "health",
        "band",
        "health_components",
        "reasons",
        "reason_code",
    ]
    assert set(s["health_components"]) == {"engagement,usage_trend,support,sentiment,payment,adoption"}
    assert s["p_alive"].isna().all() and s["expected_orders"].isna().all()  # a buying model: shops only
    # The riskiest of the most valuable customers rank above everyone of lower value at the same risk.
    assert s["p_churn"].corr(s["rank"], method="spearman") < 0


def test_only_the_top_n_are_explained(subscription_scores):
    s = subscription_scores.ranked
    head, rest = s.iloc[:TOP], s.iloc[TOP:]
    assert head["reasons"].map(lambda text: isinstance(text, str) and len(text) > 0).all()
    assert head["reason_code"].notna().all() and head["playbook"].notna().all()
    assert rest[["reasons", "reason_code", "playbook"]].isna().all().all()


def test_everyone_at_or_above_the_risk_floor_is_explained_whatever_their_rank(subscription_ws, subscription_scores):
    floor = float(subscription_scores.ranked["p_churn"].quantile(0.8))  # the riskiest fifth, far beyond the top 5
    s = score(subscription_ws, top=TOP, explain_min_risk=floor).ranked
    meant = (s["rank"] <= TOP) | (s["p_churn"] >= floor)
    assert meant.sum() > 3 * TOP
    assert s["reasons"].notna().tolist() == meant.tolist()
    # The same customers get the same reasons as when everyone is explained: the floor only chooses whom.
    everyone = score(subscription_ws, top=None).ranked.set_index("customer_id")
    chosen = s[meant].set_index("customer_id")
    assert chosen["reasons"].tolist() == everyone.loc[chosen.index, "reasons"].tolist()
    assert chosen["reason_code"].fillna("").tolist() == everyone.loc[chosen.index, "reason_code"].fillna("").tolist()


def test_as_of_in_the_past_scores_who_was_active_then(subscription_ws):
    at = pd.Timestamp("2025-06-01", tz="UTC")
    scored_past = score(subscription_ws, as_of=at.to_pydatetime(), top=2)
    past = scored_past.ranked
    s = _raw(subscription_ws, "subscriptions")
    running = (s["started_at"] <= at) & (s["ended_at"].isna() | (s["ended_at"] > at))
    # A period that ends after ``at`` was still running then, whatever its final status.
    paused = s["status"] == "paused"
    assert set(past["customer_id"]) == set(s.loc[running & ~paused, "customer_id"])
    assert scored_past.as_of.isoformat() == "2025-06-01T00:00:00+00:00"
    assert past["reasons"].notna().sum() == 2


def test_commerce_workspace_scores_buyers_with_their_value_if_alive(tmp_path_factory):
    ws = build_workspace(tmp_path_factory.mktemp("scoring-shop"), customers=600, model="commerce")
    train(ws)
    assert churn_registry(ws).metadata().business_model == "commerce"
    scored = score(ws, top=3)
    scores = scored.ranked
    orders = _raw(ws, "orders")
    as_of = pd.Timestamp(scored.as_of)
    buyers = set(orders.loc[(orders["status"] == "completed") & (orders["ordered_at"] <= as_of), "customer_id"])
    assert set(scores["customer_id"]) == buyers
    # Value if retained: MBG/NBD + Gamma-Gamma fitted on the same orders, 12 months, divided by P(alive) — the
    # expected spend of a customer who is still a customer.
    summary = summary_from_orders(orders, as_of=as_of, time_unit="W")
    clv = predicted_clv(ModifiedBetaGeoModel().fit(summary), GammaGammaModel().fit(summary), summary, horizon_months=12)
    clv = clv.reindex(scores["customer_id"])
    np.testing.assert_allclose(scores["value_if_retained"].to_numpy(), (clv["clv"] / clv["p_alive"]).to_numpy())
    np.testing.assert_allclose(scores["p_alive"].to_numpy(), clv["p_alive"].to_numpy())
    np.testing.assert_allclose(scores["expected_orders"].to_numpy(), clv["expected_purchases"].to_numpy())
    assert ((scores["p_alive"] > 0) & (scores["p_alive"] <= 1)).all()
    assert (np.diff(scores["expected_loss"].to_numpy()) <= 0).all()
    assert scores["reasons"].notna().sum() == 3


def test_scoring_a_date_the_model_has_seen_past_warns_plainly(subscription_ws):
    from retain.errors import RetainWarning

    with pytest.warns(RetainWarning) as caught:
        score(subscription_ws, as_of=pd.Timestamp("2025-06-01", tz="UTC").to_pydatetime(), top=1)
    end = churn_registry(subscription_ws).metadata().data_range.end
    ours = [str(w.message) for w in caught if issubclass(w.category, RetainWarning)]
    assert ours == [
        f"Scoring 2025-06-01 with model v1, which was trained on data up to {end:%Y-%m-%d}: it learned from what "
        "happened after 2025-06-01, so these scores look better than a model of that day could have done. To see "
        "how the model would have done then, train one with `retain model train --as-of 2025-06-01`."
    ]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RetainWarning)
        score(subscription_ws, top=1)  # the end of the data: nothing the model has not seen
