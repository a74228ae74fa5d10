"""Score customers: who is at risk, what they are worth, why, and what to do.

The domain steps of a scoring (``retain.services.scoring`` runs them on a workspace), one per line:

1. point-in-time features of every customer at ``as_of`` (default: the end of the data);
2. the population the model was trained on — subscription: customers with a running, non-paused subscription;
   commerce: customers with a completed order — and their churn probability ``p_churn`` within the model's
   horizon from the CURRENT churn model;
3. the value if retained over the next 12 months (:mod:`retain.models.value`) — subscription: from the MRR;
   commerce: MBG/NBD + Gamma-Gamma fitted on the orders up to ``as_of``, given alive (with P(alive) and the
   expected orders);
4. the health score (``[health]`` settings of the workspace);
5. the ranking by expected loss, ``p_churn × value_if_retained`` (:func:`~retain.health.rank_at_risk`);
6. reasons (TreeSHAP → plain language, reason code, playbook) for the top ``top`` customers only: explaining is
   the slow step, and nobody reads the reasons of the 50,000th customer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from retain.contract.business_model import BusinessModel
from retain.errors import InputError
from retain.health import AT_RISK_COLUMNS, available_components, health_score, rank_at_risk
from retain.models.churn.explain import explain
from retain.models.value import subscription_value_if_retained

__all__ = ["REASON_COLUMNS", "SCORE_COLUMNS", "population", "score_features", "with_reasons"]

SCORE_COLUMNS = (*AT_RISK_COLUMNS, "mrr", "plan")
"""Leading columns of :func:`score_workspace`, in order; the health components follow."""


def population(features: pd.DataFrame, model: BusinessModel | str) -> pd.Series:
    """Which customers the churn model speaks about (a boolean mask over ``features``).

    Subscription: active at ``as_of`` (a running, non-paused subscription period), as the labels require.
    Commerce: at least one completed order up to ``as_of``.
    """
    if BusinessModel(str(model)) is BusinessModel.SUBSCRIPTION:
        return features["subscribed"].astype(bool) & ~features["paused"].astype(bool)
    return features["orders"].fillna(0) > 0


def score_features(
    model: Any,
    features: pd.DataFrame,
    *,
    business_model: BusinessModel | str,
    commerce_value: pd.DataFrame | None = None,
    health_settings: Any = None,
    top: int | None = 20,
    explain_min_risk: float | None = None,
) -> pd.DataFrame:
    """Churn probability, value if retained, expected loss, health, ranking and top-N reasons (one row each).

    Parameters
    ----------
    model : ChurnModel
        Fitted on the same feature columns.
    features : pandas.DataFrame
        ``customer_id`` and the churn features, already cut to the population (:func:`population`).
    business_model : {"subscription", "commerce"}
    commerce_value : pandas.DataFrame, optional
        ``p_alive``, ``expected_orders``, ``value_if_retained`` by ``customer_id``
        (:func:`retain.models.value.commerce_value_if_retained`); required for commerce; subscriptions take
        their value from ``mrr``.
    health_settings : HealthSettings, optional
    top : int or None, default 20
        Customers (by rank) that get reasons; ``None`` explains everyone (slow on large tables).
    explain_min_risk : float, optional
        Also explain every customer whose P(churn) is at least this, whatever their rank: playbooks that act on
        a reason (``risk`` triggers by reason code) see only explained customers.

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
    scores = pd.DataFrame({"customer_id": frame["customer_id"], "p_churn": p_churn})
    if kind is BusinessModel.SUBSCRIPTION:
        scores["value_if_retained"] = subscription_value_if_retained(frame["mrr"].to_numpy())
        scores["p_alive"] = scores["expected_orders"] = np.nan  # the buying model speaks about shops only
    else:
        if commerce_value is None:
            raise InputError(
                "commerce scoring needs the customers' value (commerce_value=...), from commerce_value_if_retained()."
            )
        known = commerce_value.reindex(frame["customer_id"])
        for column in ("p_alive", "expected_orders"):
            scores[column] = known[column].to_numpy()
        scores["value_if_retained"] = known["value_if_retained"].fillna(0.0).to_numpy()
    with_alive = frame.assign(p_alive=scores["p_alive"].to_numpy())
    used = available_components(with_alive, kind)
    health = health_score(with_alive, health_settings, components=used).drop(columns=["customer_id"], errors="ignore")
    scored = pd.concat(
        [
            scores,
            health,
            frame[[c for c in ("mrr", "plan") if c in frame.columns]],
        ],
        axis=1,
    )
    ranked = rank_at_risk(scored)
    n_explain = len(ranked) if top is None else min(int(top), len(ranked))
    explained = np.arange(len(ranked)) < n_explain
    if explain_min_risk is not None:
        explained |= ranked["p_churn"].to_numpy() >= explain_min_risk
    ranked = with_reasons(model, frame, ranked, ranked["customer_id"][explained])
    leading = [c for c in SCORE_COLUMNS if c in ranked.columns]
    return ranked[leading + [c for c in ranked.columns if c not in leading]]


REASON_COLUMNS = ("reasons", "reason_code", "playbook", "context")
"""What :func:`with_reasons` fills in for the customers it explains (null for the others)."""


def with_reasons(model: Any, features: pd.DataFrame, ranked: pd.DataFrame, customer_ids: Any) -> pd.DataFrame:
    """``ranked`` with :data:`REASON_COLUMNS` filled for ``customer_ids`` (TreeSHAP → sentences; the slow step).

    Parameters
    ----------
    model : ChurnModel
    features : pandas.DataFrame
        ``customer_id`` and the model's features of (at least) those customers.
    ranked : pandas.DataFrame
        Scored customers (``customer_id``); existing reason columns are replaced.
    customer_ids : iterable of str
        The customers to explain, e.g. the ones a list shows.
    """
    out = ranked.drop(columns=[c for c in REASON_COLUMNS if c in ranked.columns])
    reasons = pd.DataFrame(index=out.index, columns=list(REASON_COLUMNS), dtype="object")
    wanted = pd.Index(list(customer_ids))
    if len(wanted):
        rows = features.drop_duplicates("customer_id").set_index("customer_id").loc[wanted]
        # Models trained before they kept their training medians compare against the whole scored population.
        reference = None if getattr(model, "feature_medians_", None) else features[list(model.feature_names_in_)]
        why = explain(model, rows[list(model.feature_names_in_)].reset_index(drop=True), top=3, reference=reference)
        position = pd.Index(out["customer_id"]).get_indexer(wanted)
        for column in REASON_COLUMNS:
            reasons.iloc[position, reasons.columns.get_loc(column)] = why[column].to_numpy()
    return pd.concat([out, reasons], axis=1)
