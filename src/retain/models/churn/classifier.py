"""ChurnModel: gradient-boosted trees (LightGBM) with cross-fitted probability calibration.

Boosted trees rank customers well but their raw probabilities are not reliable enough to multiply by revenue
(revenue at risk, expected saves). ``sklearn.calibration.CalibratedClassifierCV`` fixes that: with ``K``
calibration folds it trains ``K`` boosters, each on ``K - 1`` folds, and fits the calibrator (isotonic or
Platt/sigmoid) on the held-out fold's raw scores. Predictions average the ``K`` calibrated models.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold

from retain.errors import InputError, NotFittedError
from retain.models.churn._layout import FeatureLayout, as_frame
from retain.models.churn.risky_side import typical_values

__all__ = ["CALIBRATION_METHODS", "ChurnModel"]

#: Valid values of ``ChurnModel(calibration=...)``; ``None`` keeps LightGBM's own probabilities.
CALIBRATION_METHODS = ("isotonic", "sigmoid", None)

BIAS_COLUMN = "bias"


class _LGBMRawScore(lgb.LGBMClassifier):
    """LGBMClassifier whose ``decision_function`` is the raw log-odds score.

    ``CalibratedClassifierCV`` calibrates ``decision_function`` when an estimator has one: Platt scaling then
    works on log-odds (where it is a proper logistic fit) instead of on already-squashed probabilities.
    """

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.predict(X, raw_score=True), dtype="float64")


class ChurnModel(ClassifierMixin, BaseEstimator):
    """Churn classifier on a labelled feature table: LightGBM plus calibrated probabilities.

    Parameters
    ----------
    horizon_days : int, default 90
        Length of the label window the model predicts (churn within this many days of the as-of date).
        Stored with the model; backtests use it to keep training labels out of the test period.
    n_estimators, learning_rate, num_leaves, min_child_samples : LightGBM tree parameters.
    subsample, colsample_bytree, reg_lambda : LightGBM regularisation (row and column sampling, L2 penalty).
    calibration : {"isotonic", "sigmoid", None}, default "isotonic"
        Calibration of the probabilities; ``None`` uses LightGBM's probabilities unchanged (one booster).
    calibration_folds : int, default 3
        Stratified folds for cross-fitted calibration (at least 2).
    ensemble : bool, default True
        ``True``: one booster and calibrator per fold, predictions averaged. ``False``: the calibrator is fitted
        on out-of-fold scores and a single booster is refitted on all rows.
    min_rows, min_per_class : int, default 200 and 20
        Refuse to train below these many rows, or positives/negatives.
    n_jobs : int, default 1
        LightGBM threads. One thread is fast on customer-sized tables and keeps results bit-identical.
    random_state : int, default 0
        Seed of LightGBM and of the calibration folds.

    Attributes
    ----------
    classes_ : ndarray, ``[0, 1]`` (1 = churned)
    feature_names_in_ : ndarray of str
    n_features_in_ : int
    categorical_features_ : list of str
        Columns treated as LightGBM categoricals (object, string or category dtype at fit).
    categories_ : dict of str to list of str
        Categories learned per categorical column; other values are treated as missing at predict.
    estimators_ : list of lightgbm.LGBMClassifier
        The fitted boosters' estimators (one per calibration fold when ``ensemble=True``).
    boosters_ : list of lightgbm.Booster
    booster_ : lightgbm.Booster
        The booster, when there is exactly one (``calibration=None`` or ``ensemble=False``).
    calibrator_ : CalibratedClassifierCV or None
    feature_medians_ : dict of str to float
        Median of each numeric feature over the training rows: the typical customer that explanations compare a
        customer with ("only 3 logins in 30 days (typical: 14)"), from the same population TreeSHAP's
        contributions are measured against.
    """

    def __init__(
        self,
        *,
        horizon_days: int = 90,
        n_estimators: int = 400,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_lambda: float = 0.0,
        calibration: str | None = "isotonic",
        calibration_folds: int = 3,
        ensemble: bool = True,
        min_rows: int = 200,
        min_per_class: int = 20,
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.horizon_days = horizon_days
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
        self.min_rows = min_rows
        self.min_per_class = min_per_class
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> ChurnModel:
        """Train on a labelled feature table.

        Parameters
        ----------
        X : pandas.DataFrame
            One row per customer; numeric, boolean and categorical (object/string/category) columns.
        y : array-like of 0/1 or bool
            1 (True) = churned within the horizon.

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
        self._check_params()
        frame = as_frame(X)
        layout = FeatureLayout.learn(frame)
        if BIAS_COLUMN in layout.columns:
            raise InputError(
                f"a feature column is named {BIAS_COLUMN!r}, which contributions() uses for the base value; "
                "rename that column."
            )
        labels = _check_labels(y, len(frame))
        self._check_enough_data(labels)
        Xt = layout.transform(frame)

        booster = self._make_booster()
        if self.calibration is None:
            estimators = [booster.fit(Xt, labels)]
            calibrator = None
        else:
            folds = StratifiedKFold(n_splits=self.calibration_folds, shuffle=True, random_state=self.random_state)
            calibrator = CalibratedClassifierCV(booster, method=self.calibration, cv=folds, ensemble=self.ensemble)
            calibrator.fit(Xt, labels)
            estimators = [pair.estimator for pair in calibrator.calibrated_classifiers_]

        self._layout = layout
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(layout.columns, dtype=object)
        self.n_features_in_ = len(layout.columns)
        self.categorical_features_ = layout.categorical
        self.categories_ = {name: list(values) for name, values in layout.categories.items()}
        self.estimators_ = estimators
        self.boosters_ = [estimator.booster_ for estimator in estimators]
        self.calibrator_ = calibrator
        self.feature_medians_ = typical_values(frame[list(layout.columns)])
        return self

    @property
    def booster_(self) -> lgb.Booster:
        """The single LightGBM booster (only when ``calibration=None`` or ``ensemble=False``)."""
        self._check_fitted()
        if len(self.boosters_) != 1:
            raise AttributeError(
                f"this ChurnModel has {len(self.boosters_)} fold boosters (calibration ensemble); "
                "use boosters_, or fit with ensemble=False for a single booster."
            )
        return self.boosters_[0]

    # ------------------------------------------------------------- predict
    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, shape ``(n, 2)``: column 1 is the churn probability."""
        Xt = self._transform(X)
        if len(Xt) == 0:  # LightGBM refuses empty input; an empty batch simply has no scores
            return np.empty((0, 2))
        if self.calibrator_ is None:
            proba = self.estimators_[0].predict_proba(Xt)
        else:
            proba = self.calibrator_.predict_proba(Xt)
        return np.asarray(proba, dtype="float64")

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class (1 = churn) at probability 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def raw_score(self, X: Any) -> np.ndarray:
        """Uncalibrated log-odds, averaged over the boosters; equals ``contributions(X).sum(axis=1)``."""
        Xt = self._transform(X)
        if len(Xt) == 0:
            return np.empty(0)
        scores = [np.asarray(estimator.predict(Xt, raw_score=True), dtype="float64") for estimator in self.estimators_]
        return np.mean(scores, axis=0)

    def contributions(self, X: Any) -> pd.DataFrame:
        """Per-customer TreeSHAP contributions in log-odds.

        One column per feature plus ``bias`` (the base value). Averaged over the boosters, so each row sums to
        :meth:`raw_score` — the uncalibrated score the calibrator then maps to a probability.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``X``; columns ``feature_names_in_`` then ``bias``.
        """
        Xt = self._transform(X)
        columns = [*self._layout.columns, BIAS_COLUMN]
        if len(Xt) == 0:
            return pd.DataFrame(np.empty((0, len(columns))), columns=columns, index=Xt.index)
        parts = [
            np.asarray(estimator.predict(Xt, pred_contrib=True), dtype="float64") for estimator in self.estimators_
        ]
        return pd.DataFrame(np.mean(parts, axis=0), columns=columns, index=Xt.index)

    # ------------------------------------------------------------- helpers
    def _make_booster(self) -> _LGBMRawScore:
        return _LGBMRawScore(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1 if self.subsample < 1.0 else 0,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            # Bit-identical results for a given seed: fixed histogram layout, deterministic reductions.
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )

    def _transform(self, X: Any) -> pd.DataFrame:
        self._check_fitted()
        return self._layout.transform(as_frame(X))

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimators_"):
            raise NotFittedError(
                "this ChurnModel is not fitted yet; call fit(X, y) with a labelled feature table before predicting."
            )

    def _check_params(self) -> None:
        if self.calibration not in CALIBRATION_METHODS:
            raise InputError(f"unknown calibration {self.calibration!r}; valid values are {list(CALIBRATION_METHODS)}.")
        positive_ints = {
            "horizon_days": self.horizon_days,
            "n_estimators": self.n_estimators,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "min_rows": self.min_rows,
            "min_per_class": self.min_per_class,
        }
        for name, value in positive_ints.items():
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise InputError(f"{name} must be a positive integer; got {value!r}.")
        if self.calibration is not None and (
            not isinstance(self.calibration_folds, int | np.integer) or self.calibration_folds < 2
        ):
            raise InputError(f"calibration_folds must be an integer >= 2; got {self.calibration_folds!r}.")
        if not float(self.learning_rate) > 0.0:
            raise InputError(f"learning_rate must be > 0; got {self.learning_rate!r}.")

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


def _check_labels(y: Any, n_rows: int) -> np.ndarray:
    """Return the labels as an int array of 0/1, or raise ``InputError`` saying what is wrong."""
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise InputError(f"y must be one column of labels; got a table with {y.shape[1]} columns.")
        y = y.iloc[:, 0]
    series = y.reset_index(drop=True) if isinstance(y, pd.Series) else pd.Series(np.asarray(y, dtype=object).ravel())
    if len(series) != n_rows:
        raise InputError(f"X has {n_rows} rows but y has {len(series)} labels; pass one label per row.")
    if series.isna().any():
        raise InputError(
            f"y has {int(series.isna().sum())} missing labels; drop customers whose outcome is not known yet."
        )
    values = set(pd.unique(series).tolist())
    if not values <= {0, 1}:  # True == 1 and False == 0, so booleans pass too
        shown = sorted(map(repr, values))[:5]
        raise InputError(f"y must hold 0/1 or booleans (1 = churned); got values {shown}.")
    return series.to_numpy(dtype="int64")
