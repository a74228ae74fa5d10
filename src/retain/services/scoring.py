"""Score a workspace: every customer of the churn model's population, ranked by expected loss.

``score(ws)`` is what ``retain at-risk`` runs; :func:`score_facts` is the same on a fixed view of the facts and a
model already loaded (the refresh pins both, so that every mart of one snapshot uses the same ones).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from retain.analytics.periods import as_instant
from retain.contract import TableName
from retain.contract.business_model import BusinessModel
from retain.errors import RetainWarning
from retain.facts import Facts
from retain.models.churn.features import churn_features
from retain.models.metadata import ModelMetadata
from retain.models.scoring import population, score_features
from retain.models.value import commerce_value_if_retained
from retain.services.training import churn_registry
from retain.settings import HealthSettings
from retain.workspace import Workspace

__all__ = ["Scored", "score", "score_facts"]


@dataclass(frozen=True)
class Scored:
    """A scoring: the ranked customers and what produced them."""

    ranked: pd.DataFrame
    """Every customer of the model's population ranked by ``expected_loss = p_churn × value_if_retained``
    (``rank`` 1 = act first): the columns of :data:`retain.models.scoring.SCORE_COLUMNS`, then the health
    components."""
    as_of: datetime
    model_version: str
    business_model: BusinessModel
    horizon_days: int
    features: pd.DataFrame
    """The point-in-time features of the scored customers (what their reasons are computed from)."""


def score_facts(
    facts: Facts,
    model: Any,
    metadata: ModelMetadata,
    *,
    as_of: date | datetime | None = None,
    top: int | None = 20,
    health: HealthSettings | None = None,
    explain_min_risk: float | None = None,
) -> Scored:
    """Score ``facts`` at ``as_of`` (default: the latest fact) with a loaded churn model.

    Parameters
    ----------
    facts
        The fixed view of the lake to score.
    model, metadata
        A fitted ``ChurnModel`` and its metadata (from the registry).
    as_of
        The instant scored.
    top
        Customers (by rank) that get reasons, reason code and playbook; the others have nulls there.
    health
        Health score settings.
    """
    at = as_instant(as_of) if as_of is not None else facts.require("score").default_as_of
    trained_to = metadata.data_range.end
    if at < trained_to:
        warnings.warn(
            f"Scoring {at:%Y-%m-%d} with model {metadata.version}, which was trained on data up to "
            f"{trained_to:%Y-%m-%d}: it learned from what happened after {at:%Y-%m-%d}, so these scores look "
            f"better than a model of that day could have done. To see how the model would have done then, train "
            f"one with `retain model train --as-of {at:%Y-%m-%d}`.",
            RetainWarning,
            stacklevel=2,
        )
    kind = metadata.business_model
    features = facts.backend.to_pyarrow(churn_features(facts.tables, as_of=at)).to_pandas()
    features = features[population(features, kind).to_numpy()].reset_index(drop=True)
    value = None
    if kind is BusinessModel.COMMERCE and len(features):
        orders = facts.backend.to_pyarrow(facts.tables[str(TableName.ORDERS)]).to_pandas()
        value = commerce_value_if_retained(orders, features["customer_id"], as_of=at)
    ranked = score_features(
        model,
        features,
        business_model=kind,
        commerce_value=value,
        health_settings=health,
        top=top,
        explain_min_risk=explain_min_risk,
    )
    return Scored(ranked, at, metadata.version, kind, int(metadata.horizon_days), features)


def score(
    ws: Workspace,
    *,
    as_of: date | datetime | None = None,
    top: int | None = 20,
    version: str | None = None,
    explain_min_risk: float | None = None,
) -> Scored:
    """Score every customer of ``ws`` with its current churn model (or ``version``) and rank by expected loss.

    Raises
    ------
    NotFittedError
        When no model has been trained (run ``retain model train``).
    NoDataError
        When the workspace holds no data.
    """
    model, metadata = churn_registry(ws).load(version)
    facts = ws.facts().require("score")
    return score_facts(
        facts, model, metadata, as_of=as_of, top=top, health=ws.settings.health, explain_min_risk=explain_min_risk
    )
