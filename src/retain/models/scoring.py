"""Score customers: who is at risk, what they are worth, why, and what to do.

The domain steps of a scoring (``retain.services.scoring`` runs them on a workspace), one per line:

1. point-in-time features of every customer at ``as_of`` (default: the end of the data);
2. the population the model was trained on — subscription: customers with a running, non-paused subscription;
   commerce: customers with a completed order — and their churn probability ``p_churn`` within the model's
   horizon from the CURRENT churn model;
3. CLV — subscription: :func:`~retain.models.clv.subscription.subscription_clv` from the customer's MRR and
   ``p_churn``; commerce: BG/NBD + Gamma-Gamma fitted on the orders up to ``as_of``
   (:func:`~retain.models.clv.predicted_clv`, 12 months);
4. the health score (``[health]`` settings of the workspace);
5. the ranking by revenue at risk, ``p_churn × clv`` (:func:`~retain.health.rank_at_risk`);
6. reasons (TreeSHAP → plain language, reason code, playbook) for the top ``top`` customers only: explaining is
   the slow step, and nobody reads the reasons of the 50,000th customer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from retain.contract.business_model import BusinessModel
from retain.errors import InputError
from retain.health import AT_RISK_COLUMNS, health_score, rank_at_risk
from retain.models.churn.explain import explain
from retain.models.clv import BetaGeoModel, GammaGammaModel, predicted_clv, summary_from_orders
from retain.models.clv.subscription import subscription_clv

__all__ = ["SCORE_COLUMNS", "commerce_clv", "population", "score_features"]

SCORE_COLUMNS = (*AT_RISK_COLUMNS, "mrr", "plan")
"""Leading columns of :func:`score_workspace`, in order; the health components follow."""

_CLV_HORIZON_MONTHS = 12


def population(features: pd.DataFrame, model: BusinessModel | str) -> pd.Series:
    """Which customers the churn model speaks about (a boolean mask over ``features``).

    Subscription: active at ``as_of`` (a running, non-paused subscription period), as the labels require.
    Commerce: at least one completed order up to ``as_of``.
    """
    if BusinessModel(str(model)) is BusinessModel.SUBSCRIPTION:
        return features["subscribed"].astype(bool) & ~features["paused"].astype(bool)
    return features["orders"].fillna(0) > 0


def commerce_clv(orders: pd.DataFrame, customer_ids: Any, *, as_of: datetime) -> pd.Series:
    """12-month BG/NBD + Gamma-Gamma CLV of ``customer_ids``, fitted on the completed orders up to ``as_of``.

    Customers without a completed order get 0.
    """
    summary = summary_from_orders(orders, as_of=as_of, time_unit="W")
    bg = BetaGeoModel().fit(summary)
    gg = GammaGammaModel().fit(summary)
    clv = predicted_clv(bg, gg, summary, horizon_months=_CLV_HORIZON_MONTHS)["clv"]
    return clv.reindex(pd.Index(customer_ids)).fillna(0.0).clip(lower=0.0)


def score_features(
    model: Any,
    features: pd.DataFrame,
    *,
    business_model: BusinessModel | str,
    clv: pd.Series | None = None,
    health_settings: Any = None,
    top: int | None = 20,
) -> pd.DataFrame:
    """Churn probability, CLV, health, ranking and top-N reasons of a feature table (one row per customer).

    Parameters
    ----------
    model : ChurnModel
        Fitted on the same feature columns.
    features : pandas.DataFrame
        ``customer_id`` and the churn features, already cut to the population (:func:`population`).
    business_model : {"subscription", "commerce"}
    clv : pandas.Series, optional
        CLV by ``customer_id``; required for commerce, computed from ``mrr`` for subscriptions.
    health_settings : HealthSettings, optional
    top : int or None, default 20
        Customers (by rank) that get reasons; ``None`` explains everyone (slow on large tables).

    Returns
    -------
    pandas.DataFrame
        See :func:`retain.services.scoring.score`.
    """
    names = list(model.feature_names_in_)
    missing = [c for c in names if c not in features.columns]
    if missing:
        raise InputError(
            f"the feature table lacks {len(missing)} column(s) the model was trained on, e.g. {missing[:5]}; "
            "retrain with `retain model train`."
        )
    frame = features.reset_index(drop=True)
    X = frame[names]
    p_churn = model.predict_proba(X)[:, 1] if len(X) else np.empty(0)
    kind = BusinessModel(str(business_model))
    if kind is BusinessModel.SUBSCRIPTION:
        value = subscription_clv(frame["mrr"].fillna(0.0).to_numpy(), p_churn, horizon_days=model.horizon_days)
    else:
        if clv is None:
            raise InputError("commerce scoring needs the customers' CLV (clv=...), from commerce_clv().")
        value = clv.reindex(frame["customer_id"]).fillna(0.0).to_numpy()
    health = health_score(frame, health_settings).drop(columns=["customer_id"], errors="ignore")
    scored = pd.concat(
        [
            pd.DataFrame({"customer_id": frame["customer_id"], "p_churn": p_churn, "clv": np.asarray(value)}),
            health,
            frame[[c for c in ("mrr", "plan") if c in frame.columns]],
        ],
        axis=1,
    )
    scored["_row"] = np.arange(len(scored))
    ranked = rank_at_risk(scored)
    n_explain = len(ranked) if top is None else min(int(top), len(ranked))
    reasons = pd.DataFrame(index=ranked.index, columns=["reasons", "reason_code", "playbook"], dtype="object")
    if n_explain:
        head = ranked.index[:n_explain]
        why = explain(model, X.iloc[ranked.loc[head, "_row"].to_numpy()].reset_index(drop=True), top=3)
        for column in reasons.columns:
            reasons.loc[head, column] = why[column].to_numpy()
    ranked = pd.concat([ranked.drop(columns="_row"), reasons], axis=1)
    leading = [c for c in SCORE_COLUMNS if c in ranked.columns]
    return ranked[leading + [c for c in ranked.columns if c not in leading]]
