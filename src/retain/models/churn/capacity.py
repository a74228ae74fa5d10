"""How much model a churn table supports: tree sizes and a linear model, compared by inner cross-validation.

A bank's snapshot of 10,000 customers, a shop's few thousand customer-months and a subscription business's
million customer-months want different models: on the bank data 4-leaf trees beat LightGBM's 31 leaves by
0.005 ROC-AUC, on the synthetic subscription data (an additive hazard) stumps come within 0.001 of the true
probabilities, and where churn really is linear in the features a logistic regression beats every tree.

:func:`cross_fit` fits one :class:`Candidate` on inner folds of the training rows: each fold's model is trained
on the other folds and scores its own, so every training row gets an out-of-fold score. Trees stop early: all
folds grow together and stop when the mean held-out log-loss has not improved for
:data:`EARLY_STOPPING_ROUNDS` rounds (``lightgbm.cv``), keeping the best round. :func:`select_capacity` cross-fits
every candidate on the same folds and keeps the one with the lowest mean held-out log-loss (a proper score:
it rewards ranking and honest probabilities). Only training rows are used — the test rows of a backtest or of
an outer cross-validation are never seen. The folds are the model's calibration folds too, so the winner's fold
models are the calibrated ensemble as they are: selecting costs the other candidates' fits and nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, roc_auc_score

from retain.models.churn._folds import Folds

__all__ = [
    "EARLY_STOPPING_ROUNDS",
    "LEAVES_GRID",
    "LINEAR",
    "TREES",
    "Candidate",
    "CrossFit",
    "TreeScorer",
    "TreeSettings",
    "cross_fit",
    "fit_all_rows",
    "select_capacity",
]

TREES = "trees"
LINEAR = "linear"
LEAVES_GRID = (2, 4, 8, 16, 32)
"""Tree sizes ``capacity="auto"`` tries: from stumps (an additive model) to LightGBM's default of 31 leaves."""
EARLY_STOPPING_ROUNDS = 25
"""Rounds without a better mean held-out log-loss after which the trees stop growing (at learning rate 0.1; 50
gave the same ROC-AUC on the bank data to 0.0001 and cost a third more)."""


@dataclass(frozen=True)
class Candidate:
    """One model a churn table may get: boosted trees of one size, or the logistic regression.

    Attributes
    ----------
    kind : {"trees", "linear"}
    num_leaves : int
        Leaves per tree (trees only).
    n_estimators : int
        Boosting rounds: the most that early stopping may use, or after fitting, the rounds kept (trees only).
    """

    kind: str
    num_leaves: int = 0
    n_estimators: int = 0

    @property
    def name(self) -> str:
        """``"trees_4_leaves"`` or ``"linear"``."""
        return LINEAR if self.kind == LINEAR else f"trees_{self.num_leaves}_leaves"


@dataclass(frozen=True)
class TreeSettings:
    """The LightGBM parameters every tree candidate shares (the grid varies only ``num_leaves``)."""

    learning_rate: float
    min_child_samples: int
    subsample: float
    colsample_bytree: float
    reg_lambda: float
    n_jobs: int
    random_state: int

    def params(self, num_leaves: int) -> dict[str, Any]:
        """LightGBM training parameters for trees of ``num_leaves`` leaves."""
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": num_leaves,
            "min_child_samples": self.min_child_samples,
            "subsample": self.subsample,
            "subsample_freq": 1 if self.subsample < 1.0 else 0,
            "colsample_bytree": self.colsample_bytree,
            "reg_lambda": self.reg_lambda,
            "seed": self.random_state,
            "num_threads": self.n_jobs,
            # Bit-identical results for a given seed: fixed histogram layout, deterministic reductions.
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }


class TreeScorer:
    """A fitted LightGBM booster seen as a scorer: raw log-odds and TreeSHAP contributions of a feature table.

    Parameters
    ----------
    booster : lightgbm.Booster
        Holds exactly the trees it uses (early-stopped boosters are cut at their best round).
    """

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster_ = booster

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Raw log-odds."""
        return np.asarray(self.booster_.predict(X, raw_score=True), dtype="float64")

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        """TreeSHAP contributions, one column per feature then the base value; rows sum to the log-odds."""
        return np.asarray(self.booster_.predict(X, pred_contrib=True), dtype="float64")


@dataclass(frozen=True)
class CrossFit:
    """A candidate fitted on inner folds.

    Attributes
    ----------
    candidate : Candidate
        As fitted: for trees, ``n_estimators`` is the number of rounds kept.
    scorers : list
        One per fold; scorer ``k`` never saw the rows of fold ``k``.
    folds : list of (train_rows, held_out_rows)
    oof : ndarray
        Every row's raw score from the scorer that did not see it.
    log_loss : float
        Mean over the folds of the held-out log-loss (lower is better).
    roc_auc : float
        ROC-AUC of the out-of-fold scores.
    """

    candidate: Candidate
    scorers: list[Any]
    folds: Folds
    oof: np.ndarray
    log_loss: float
    roc_auc: float


LinearFactory = Callable[[], Any]
"""Makes an unfitted :class:`~retain.models.churn.linear.LogisticChurnModel`."""


def cross_fit(
    candidate: Candidate,
    X: pd.DataFrame,
    y: np.ndarray,
    folds: Folds,
    *,
    trees: TreeSettings,
    linear: LinearFactory,
    groups: Sequence[Any] | None = None,
    early_stopping: bool = True,
    dataset: lgb.Dataset | None = None,
) -> CrossFit:
    """Fit ``candidate`` on each fold's training rows and score its held-out rows.

    Parameters
    ----------
    candidate : Candidate
    X : pandas.DataFrame
        The feature table in the model's layout (numerics as float, text as fixed categoricals).
    y : ndarray of 0/1
    folds : list of (train_rows, held_out_rows)
    trees : TreeSettings
    linear : callable
        Makes the unfitted logistic regression.
    groups : array-like, optional
        Passed on to the logistic regression's search for its penalty.
    early_stopping : bool, default True
        Trees: stop when the mean held-out log-loss stops improving (``candidate.n_estimators`` is the cap);
        ``False`` grows exactly ``candidate.n_estimators`` rounds.
    dataset : lightgbm.Dataset, optional
        ``X`` and ``y`` already binned by LightGBM (:func:`select_capacity` bins once for every tree size).

    Returns
    -------
    CrossFit
    """
    oof = np.full(len(y), np.nan)
    if candidate.kind == LINEAR:
        scorers = []
        for train, test in folds:
            fold_groups = None if groups is None else np.asarray(groups)[train]
            model = linear().fit(X.iloc[train], y[train], groups=fold_groups)
            oof[test] = model.decision_function(X.iloc[test])
            scorers.append(model)
        fitted = candidate
    else:
        data = dataset if dataset is not None else lgb.Dataset(X, label=y, free_raw_data=True)
        scorers, rounds = _cross_fit_trees(candidate, data, folds, trees, early_stopping)
        for scorer, (_, test) in zip(scorers, folds, strict=True):
            oof[test] = scorer.decision_function(X.iloc[test])
        fitted = replace(candidate, n_estimators=rounds)
    p = 1.0 / (1.0 + np.exp(-oof))
    losses = [log_loss(y[test], p[test], labels=[0, 1]) for _, test in folds]
    return CrossFit(fitted, scorers, folds, oof, float(np.mean(losses)), float(roc_auc_score(y, oof)))


def _cross_fit_trees(
    candidate: Candidate, data: lgb.Dataset, folds: Folds, trees: TreeSettings, early_stopping: bool
) -> tuple[list[TreeScorer], int]:
    params = trees.params(candidate.num_leaves) | {"metric": "binary_logloss" if early_stopping else "None"}
    callbacks = [lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)] if early_stopping else None
    result = lgb.cv(
        params,
        data,
        num_boost_round=candidate.n_estimators,
        folds=folds,
        callbacks=callbacks,
        return_cvbooster=True,
    )
    cv_booster = result["cvbooster"]
    rounds = int(cv_booster.best_iteration) if early_stopping and cv_booster.best_iteration > 0 else None
    rounds = rounds or candidate.n_estimators
    # Keep only the trees that are used: predictions, TreeSHAP and the saved text files all see the same model.
    scorers = [TreeScorer(lgb.Booster(model_str=b.model_to_string(num_iteration=rounds))) for b in cv_booster.boosters]
    return scorers, rounds


def fit_all_rows(
    candidate: Candidate,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    trees: TreeSettings,
    linear: LinearFactory,
    groups: Sequence[Any] | None = None,
) -> Any:
    """One scorer of ``candidate`` fitted on every row (trees: exactly ``candidate.n_estimators`` rounds)."""
    if candidate.kind == LINEAR:
        return linear().fit(X, y, groups=groups)
    booster = lgb.train(
        trees.params(candidate.num_leaves), lgb.Dataset(X, label=y), num_boost_round=candidate.n_estimators
    )
    return TreeScorer(booster)


def select_capacity(
    candidates: Sequence[Candidate],
    X: pd.DataFrame,
    y: np.ndarray,
    folds: Folds,
    *,
    trees: TreeSettings,
    linear: LinearFactory,
    groups: Sequence[Any] | None = None,
) -> tuple[CrossFit, pd.DataFrame]:
    """Cross-fit every candidate on the same folds and keep the lowest mean held-out log-loss.

    Returns
    -------
    (CrossFit, pandas.DataFrame)
        The winner's cross-fit, and one row per candidate: ``candidate``, ``kind``, ``num_leaves``,
        ``n_estimators`` (rounds kept), ``log_loss``, ``roc_auc`` (out-of-fold), ``chosen``.
    """
    # Bin the table once: the tree sizes differ only in parameters LightGBM's binning does not use.
    dataset = lgb.Dataset(X, label=y, free_raw_data=True)
    fits = [cross_fit(c, X, y, folds, trees=trees, linear=linear, groups=groups, dataset=dataset) for c in candidates]
    best = min(range(len(fits)), key=lambda i: fits[i].log_loss)
    table = pd.DataFrame(
        [
            {
                "candidate": fit.candidate.name,
                "kind": fit.candidate.kind,
                "num_leaves": fit.candidate.num_leaves,
                "n_estimators": fit.candidate.n_estimators,
                "log_loss": fit.log_loss,
                "roc_auc": fit.roc_auc,
                "chosen": i == best,
            }
            for i, fit in enumerate(fits)
        ]
    )
    return fits[best], table
