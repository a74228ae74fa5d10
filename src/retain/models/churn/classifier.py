"""ChurnModel: boosted trees (LightGBM) or a logistic regression, sized to the data, with calibrated probabilities.

How much model a table supports is chosen from the table (``capacity="auto"``, :mod:`.capacity`): trees from
stumps to 32 leaves with early stopping, and a regularised logistic regression, compared by their held-out
log-loss on inner folds of the training rows. Rows of one customer (``groups``) stay in one fold.

Raw scores rank customers well but are not reliable enough as probabilities to multiply by revenue (revenue
at risk, expected saves), so they are calibrated on held-out rows: with ``K`` calibration folds the model has
``K`` fold models, each trained on ``K - 1`` folds, and a calibrator (Platt/sigmoid by default, or isotonic)
fitted on the held-out fold's raw scores; predictions average the ``K`` calibrated models in log-odds. The
calibration folds are the selection folds, so the chosen candidate's fold models are used as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from retain.errors import InputError, NotFittedError
from retain.models.churn._calibration import CALIBRATION_METHODS, ScoreCalibrator
from retain.models.churn._folds import inner_folds, sample_rows
from retain.models.churn._layout import FeatureLayout, as_frame
from retain.models.churn._targets import check_labels
from retain.models.churn.capacity import (
    LEAVES_GRID,
    LINEAR,
    TREES,
    Candidate,
    CrossFit,
    TreeSettings,
    cross_fit,
    fit_all_rows,
    select_capacity,
)
from retain.models.churn.linear import LogisticChurnModel
from retain.models.churn.risky_side import typical_values

__all__ = ["CALIBRATION_METHODS", "Capacity", "ChurnModel"]

BIAS_COLUMN = "bias"


class Capacity(StrEnum):
    """Valid values of ``ChurnModel(capacity=...)``."""

    AUTO = "auto"  # tree sizes of LEAVES_GRID and the logistic regression, chosen by inner cross-validation
    FIXED = "fixed"  # LightGBM with exactly the given num_leaves and n_estimators
    LINEAR = "linear"  # the logistic regression only


class ChurnModel(ClassifierMixin, BaseEstimator):
    """Churn classifier on a labelled feature table: capacity chosen from the data, calibrated probabilities.

    Parameters
    ----------
    horizon_days : int, default 90
        Length of the label window the model predicts (churn within this many days of the as-of date).
        Stored with the model; backtests use it to keep training labels out of the test period.
    capacity : {"auto", "fixed", "linear"}, default "auto"
        ``"auto"``: trees of each size in :data:`~retain.models.churn.capacity.LEAVES_GRID` (early-stopped) and
        the logistic regression are cross-fitted on the calibration folds, and the one with the lowest mean
        held-out log-loss is kept (``num_leaves`` is then not used and ``n_estimators`` is the most rounds).
        ``"fixed"``: LightGBM with exactly ``num_leaves`` and ``n_estimators``. ``"linear"``: the logistic
        regression (:class:`~retain.models.churn.linear.LogisticChurnModel`) only.
    n_estimators : int, default 1000
        Boosting rounds (``"fixed"``), or the most rounds early stopping may keep (``"auto"``).
    learning_rate, num_leaves, min_child_samples : LightGBM tree parameters.
    subsample, colsample_bytree, reg_lambda : LightGBM regularisation (row and column sampling, L2 penalty).
    calibration : {"isotonic", "sigmoid", None}, default "sigmoid"
        Calibration of the probabilities; ``None`` uses the model's own probabilities unchanged (one model).
        Sigmoid (Platt) scaling is strictly increasing, so the calibrated probabilities rank customers as the
        raw scores do; isotonic maps ranges of scores to one value, and those ties can lower the ROC-AUC.
    calibration_folds : int, default 3
        Stratified inner folds (at least 2) for cross-fitted calibration and for choosing the capacity.
    ensemble : bool, default True
        ``True``: one model and calibrator per fold, predictions averaged in log-odds. ``False``: the calibrator is
        fitted on out-of-fold scores and a single model is refitted on all rows.
    selection_rows : int, default 50,000
        ``"auto"`` compares the candidates on at most this many rows (a random subset of whole customers when
        ``groups`` is given); the chosen one is then fitted on all rows, with the number of rounds early stopping
        kept on the subset.
    min_rows, min_per_class : int, default 200 and 20
        Refuse to train below these many rows, or positives/negatives.
    n_jobs : int, default 1
        Threads of LightGBM and of the linear algebra. One thread is fast on customer-sized tables and keeps
        results bit-identical.
    random_state : int, default 0
        Seed of LightGBM, of the inner folds and of the selection subset.

    Attributes
    ----------
    classes_ : ndarray, ``[0, 1]`` (1 = churned)
    feature_names_in_ : ndarray of str
    n_features_in_ : int
    categorical_features_ : list of str
        Columns treated as categoricals (object, string or category dtype at fit).
    categories_ : dict of str to list of str
        Categories learned per categorical column; other values are treated as missing at predict.
    capacity_ : dict
        What was fitted: ``kind`` (``"trees"`` or ``"linear"``); for trees ``num_leaves``, ``n_estimators``
        (rounds kept), ``min_child_samples`` and ``learning_rate``; for the linear model ``C`` (per model).
    capacity_scores_ : pandas.DataFrame or None
        ``"auto"``: one row per candidate with its out-of-fold ``log_loss`` and ``roc_auc`` and ``chosen``
        (see :func:`~retain.models.churn.capacity.select_capacity`); ``None`` otherwise.
    estimators_ : list
        The fitted models (:class:`~retain.models.churn.capacity.TreeScorer` or ``LogisticChurnModel``): one
        per calibration fold when ``ensemble=True``, else one fitted on all rows.
    boosters_ : list of lightgbm.Booster
        The estimators' boosters (empty when the linear model was chosen).
    booster_ : lightgbm.Booster
        The booster, when there is exactly one (``calibration=None`` or ``ensemble=False``, with trees).
    calibrators_ : list
        One calibrator per estimator (``ensemble=True``), one (``ensemble=False``) or none (``calibration=None``).
    feature_medians_ : dict of str to float
        Median of each numeric feature over the training rows: the typical customer that explanations compare a
        customer with ("only 3 logins in 30 days (typical: 14)"), from the same population TreeSHAP's
        contributions are measured against.
    """

    def __init__(
        self,
        *,
        horizon_days: int = 90,
        capacity: str = "auto",
        n_estimators: int = 1000,
        learning_rate: float = 0.1,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_lambda: float = 0.0,
        calibration: str | None = "sigmoid",
        calibration_folds: int = 3,
        ensemble: bool = True,
        selection_rows: int = 50_000,
        min_rows: int = 200,
        min_per_class: int = 20,
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.horizon_days = horizon_days
        self.capacity = capacity
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.ensemble = ensemble
        self.selection_rows = selection_rows
        self.min_rows = min_rows
        self.min_per_class = min_per_class
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any, *, groups: Sequence[Any] | None = None) -> ChurnModel:
        """Train on a labelled feature table.

        Parameters
        ----------
        X : pandas.DataFrame
            One row per customer (and observation date); numeric, boolean and categorical (object/string/category)
            columns.
        y : array-like of 0/1 or bool
            1 (True) = churned within the horizon.
        groups : array-like, optional
            The customer of each row, when a customer has several rows (observation dates): their rows then stay
            in one inner fold, so the capacity is not chosen for memorising customers and calibration is fitted
            on customers the fold model did not see.

        Returns
        -------
        ChurnModel
            ``self``, fitted.

        Raises
        ------
        InputError
            On invalid parameters, malformed inputs, or too little data (fewer than ``min_rows`` rows or
            ``min_per_class`` positives or negatives).
        """
        capacity = self._check_params()
        frame = as_frame(X)
        layout = FeatureLayout.learn(frame)
        if BIAS_COLUMN in layout.columns:
            raise InputError(
                f"a feature column is named {BIAS_COLUMN!r}, which contributions() uses for the base value; "
                "rename that column."
            )
        labels = check_labels(y, len(frame))
        self._check_enough_data(labels)
        if groups is not None:
            groups = np.asarray(groups, dtype=object).ravel()
        Xt = layout.transform(frame)

        chosen, crossfit, scores = self._choose(capacity, Xt, labels, groups)
        if self.calibration is None:
            estimators = [fit_all_rows(chosen, Xt, labels, groups=groups, **self._makers())]
            calibrators: list[ScoreCalibrator] = []
        else:
            if crossfit is None:
                folds = inner_folds(labels, groups, n_folds=self.calibration_folds, random_state=self.random_state)
                crossfit = cross_fit(chosen, Xt, labels, folds, groups=groups, early_stopping=False, **self._makers())
            chosen = crossfit.candidate
            if self.ensemble:
                estimators = crossfit.scorers
                calibrators = [
                    ScoreCalibrator(self.calibration).fit(crossfit.oof[test], labels[test])
                    for _, test in crossfit.folds
                ]
            else:
                calibrators = [ScoreCalibrator(self.calibration).fit(crossfit.oof, labels)]
                estimators = [fit_all_rows(chosen, Xt, labels, groups=groups, **self._makers())]

        self._layout = layout
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(layout.columns, dtype=object)
        self.n_features_in_ = len(layout.columns)
        self.categorical_features_ = layout.categorical
        self.categories_ = {name: list(values) for name, values in layout.categories.items()}
        self.estimators_ = estimators
        self.boosters_ = [e.booster_ for e in estimators if chosen.kind == TREES]
        self.calibrators_ = calibrators
        self.capacity_ = self._describe(chosen, estimators)
        self.capacity_scores_ = scores
        self.feature_medians_ = typical_values(frame[list(layout.columns)])
        return self

    @property
    def booster_(self) -> lgb.Booster:
        """The single LightGBM booster (only with trees and ``calibration=None`` or ``ensemble=False``)."""
        self._check_fitted()
        if len(self.boosters_) != 1:
            what = (
                "chose the linear model and has no booster"
                if self.capacity_["kind"] == LINEAR
                else f"has {len(self.boosters_)} fold boosters (calibration ensemble); use boosters_, or fit with "
                "ensemble=False for a single booster"
            )
            raise AttributeError(f"this ChurnModel {what}.")
        return self.boosters_[0]

    # ------------------------------------------------------------- predict
    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, shape ``(n, 2)``: column 1 is the churn probability."""
        Xt = self._transform(X)
        if len(Xt) == 0:  # LightGBM refuses empty input; an empty batch simply has no scores
            return np.empty((0, 2))
        raws = [estimator.decision_function(Xt) for estimator in self.estimators_]
        if self.calibrators_:
            # Pool the calibrated fold models in log-odds: averaging probabilities lets the most confident fold
            # model reorder customers (0.0007 ROC-AUC lost against the raw scores on an overfit model).
            calibrated = [cal.predict(raw) for cal, raw in zip(self.calibrators_, raws, strict=True)]
            logit = np.mean([_logit(p) for p in calibrated], axis=0)
        else:
            logit = raws[0]
        p = 1.0 / (1.0 + np.exp(-logit))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class (1 = churn) at probability 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def raw_score(self, X: Any) -> np.ndarray:
        """Uncalibrated log-odds, averaged over the estimators; equals ``contributions(X).sum(axis=1)``."""
        Xt = self._transform(X)
        if len(Xt) == 0:
            return np.empty(0)
        return np.mean([estimator.decision_function(Xt) for estimator in self.estimators_], axis=0)

    def contributions(self, X: Any) -> pd.DataFrame:
        """Per-customer contributions to the log-odds, one column per feature plus ``bias`` (the base value).

        Trees: LightGBM's TreeSHAP. Linear model: its exact contributions, ``coef × (value − training mean)``
        summed over each feature's design columns (:meth:`LogisticChurnModel.contributions`). Averaged over the
        estimators either way, so each row sums to :meth:`raw_score` — the uncalibrated score the calibrators
        then map to a probability.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``X``; columns ``feature_names_in_`` then ``bias``.
        """
        Xt = self._transform(X)
        columns = [*self._layout.columns, BIAS_COLUMN]
        if len(Xt) == 0:
            return pd.DataFrame(np.empty((0, len(columns))), columns=columns, index=Xt.index)
        parts = [np.asarray(estimator.contributions(Xt), dtype="float64") for estimator in self.estimators_]
        return pd.DataFrame(np.mean(parts, axis=0), columns=columns, index=Xt.index)

    # ------------------------------------------------------------- helpers
    def _choose(
        self, capacity: Capacity, Xt: pd.DataFrame, labels: np.ndarray, groups: np.ndarray | None
    ) -> tuple[Candidate, CrossFit | None, pd.DataFrame | None]:
        """The candidate to fit, with its cross-fit on the calibration folds when selection already made it."""
        if capacity is Capacity.FIXED:
            return Candidate(TREES, self.num_leaves, self.n_estimators), None, None
        if capacity is Capacity.LINEAR:
            return Candidate(LINEAR), None, None
        candidates = [Candidate(TREES, leaves, self.n_estimators) for leaves in LEAVES_GRID] + [Candidate(LINEAR)]
        rows = sample_rows(len(labels), self.selection_rows, groups=groups, random_state=self.random_state)
        if len(rows) == len(labels):
            folds = inner_folds(labels, groups, n_folds=self.calibration_folds, random_state=self.random_state)
            best, scores = select_capacity(candidates, Xt, labels, folds, groups=groups, **self._makers())
            return best.candidate, best, scores
        # A large table: compare on a subset, then fit the winner with the rounds it kept there on every row.
        # Early stopping again on all rows would cost about twice as much again; more rows would support
        # somewhat more rounds, so this errs on the side of the smaller model.
        sub_groups = None if groups is None else groups[rows]
        folds = inner_folds(labels[rows], sub_groups, n_folds=self.calibration_folds, random_state=self.random_state)
        best, scores = select_capacity(
            candidates, Xt.iloc[rows], labels[rows], folds, groups=sub_groups, **self._makers()
        )
        return best.candidate, None, scores

    def _makers(self) -> dict[str, Any]:
        trees = TreeSettings(
            learning_rate=float(self.learning_rate),
            min_child_samples=int(self.min_child_samples),
            subsample=float(self.subsample),
            colsample_bytree=float(self.colsample_bytree),
            reg_lambda=float(self.reg_lambda),
            n_jobs=int(self.n_jobs),
            random_state=int(self.random_state),
        )

        def linear() -> LogisticChurnModel:
            return LogisticChurnModel(n_jobs=self.n_jobs, random_state=self.random_state)

        return {"trees": trees, "linear": linear}

    def _describe(self, chosen: Candidate, estimators: list[Any]) -> dict[str, Any]:
        if chosen.kind == LINEAR:
            return {"kind": LINEAR, "C": [float(e.C_) for e in estimators]}
        return {
            "kind": TREES,
            "num_leaves": int(chosen.num_leaves),
            "n_estimators": int(chosen.n_estimators),
            "min_child_samples": int(self.min_child_samples),
            "learning_rate": float(self.learning_rate),
        }

    def _transform(self, X: Any) -> pd.DataFrame:
        self._check_fitted()
        return self._layout.transform(as_frame(X))

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimators_"):
            raise NotFittedError(
                "this ChurnModel is not fitted yet; call fit(X, y) with a labelled feature table before predicting."
            )

    def _check_params(self) -> Capacity:
        if self.calibration not in CALIBRATION_METHODS:
            raise InputError(f"unknown calibration {self.calibration!r}; valid values are {list(CALIBRATION_METHODS)}.")
        if self.capacity not in list(Capacity):
            raise InputError(f"unknown capacity {self.capacity!r}; valid values are {[str(c) for c in Capacity]}.")
        positive_ints = {
            "horizon_days": self.horizon_days,
            "n_estimators": self.n_estimators,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "selection_rows": self.selection_rows,
            "min_rows": self.min_rows,
            "min_per_class": self.min_per_class,
        }
        for name, value in positive_ints.items():
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise InputError(f"{name} must be a positive integer; got {value!r}.")
        if (self.calibration is not None or self.capacity == Capacity.AUTO) and (
            not isinstance(self.calibration_folds, int | np.integer) or self.calibration_folds < 2
        ):
            raise InputError(f"calibration_folds must be an integer >= 2; got {self.calibration_folds!r}.")
        if not float(self.learning_rate) > 0.0:
            raise InputError(f"learning_rate must be > 0; got {self.learning_rate!r}.")
        return Capacity(self.capacity)

    def _check_enough_data(self, labels: np.ndarray) -> None:
        n = int(labels.size)
        positives = int(labels.sum())
        negatives = n - positives
        if n < self.min_rows or min(positives, negatives) < self.min_per_class:
            raise InputError(
                f"too little data to train a churn model: got {n} rows with {positives} positives (churned) and "
                f"{negatives} negatives; need at least {self.min_rows} rows and {self.min_per_class} of each class. "
                "Use a longer history or an earlier as-of date so more customers have an outcome."
            )


def _logit(p: np.ndarray) -> np.ndarray:
    # Isotonic calibration may return exactly 0 or 1; keep those finite (and still the most extreme).
    q = np.clip(p, 1e-12, 1.0 - 1e-12)
    return np.log(q / (1.0 - q))
