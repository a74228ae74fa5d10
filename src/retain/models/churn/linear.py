"""LogisticChurnModel: a regularised logistic regression on a churn feature table, with exact contributions.

The linear reference for the churn model: numeric and boolean columns are median-imputed (plus a missing
indicator where the training rows had gaps) and standardised, text columns one-hot encoded (unseen values score
as all zeros), and an L2-penalised logistic regression is fitted on the result. ``C`` (the inverse penalty) is
chosen by an inner cross-validation of the log-loss unless given.

It serves twice: as the *logistic regression baseline* every churn model is shown beside
(:mod:`retain.models.churn.baselines`), and as the linear candidate :class:`~retain.models.churn.ChurnModel`
may choose when the data are (close to) linear in the features.

Because the model is linear in its design matrix, its contributions are exact: a feature's contribution is the
sum over its design columns of ``coef × (value − training mean)`` — the SHAP value of a linear model with
independent features — and the base value is the score of the average training customer, so every row's
contributions add up to :meth:`LogisticChurnModel.decision_function`, like LightGBM's TreeSHAP does for trees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from retain.errors import InputError, NotFittedError
from retain.models.churn._folds import inner_folds, sample_rows
from retain.models.churn._layout import FeatureLayout, as_frame
from retain.models.churn._targets import check_labels

__all__ = ["C_GRID", "LogisticChurnModel"]

C_GRID = (0.001, 0.01, 0.1, 1.0)
"""Inverse L2 penalties tried by ``C="auto"``, strongest first (on standardised features; weaker than 1 changed
nothing measurable on the bank, synthetic and logistic-world tables)."""

BIAS_COLUMN = "bias"
_NUMERIC = "numeric"
_TEXT = "text"


class LogisticChurnModel(ClassifierMixin, BaseEstimator):
    """Regularised logistic regression on a churn feature table (standardised numerics, one-hot categoricals).

    Parameters
    ----------
    C : float or "auto", default "auto"
        Inverse L2 penalty. ``"auto"`` picks from :data:`C_GRID` the value with the lowest mean log-loss over
        ``search_folds`` inner folds of the training rows (grouped by ``groups`` when given).
    search_folds : int, default 3
    search_rows : int, default 10,000
        The search for ``C`` uses at most this many training rows (a random subset, whole groups); the final
        model is fitted on all rows.
    max_iter : int, default 1000
        Iterations of the L-BFGS solver.
    n_jobs : int, default 1
        BLAS threads while fitting and scoring. One thread keeps results reproducible and is not slowed down by
        other processes competing for the cores.
    random_state : int, default 0
        Seed of the inner folds and of the search subset.

    Attributes
    ----------
    classes_ : ndarray, ``[0, 1]``
    feature_names_in_ : ndarray of str
    n_features_in_ : int
    C_ : float
        The penalty used.
    search_scores_ : dict of float to float or None
        Mean inner-fold log-loss per ``C`` (``None`` when ``C`` was given).
    design_ : sklearn.compose.ColumnTransformer
        Feature table → design matrix: numerics (imputed, missing flags, standardised), then one-hot text.
    estimator_ : sklearn.linear_model.LogisticRegression
    """

    def __init__(
        self,
        *,
        C: float | str = "auto",
        search_folds: int = 3,
        search_rows: int = 10_000,
        max_iter: int = 1000,
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.search_folds = search_folds
        self.search_rows = search_rows
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: Any, y: Any, *, groups: Sequence[Any] | None = None) -> LogisticChurnModel:
        """Fit on a labelled feature table.

        Parameters
        ----------
        X : pandas.DataFrame
            One row per customer (and observation date); numeric, boolean and text columns.
        y : array-like of 0/1 or bool
        groups : array-like, optional
            Rows sharing a group (a customer observed at several dates) stay in one inner fold of the search.

        Returns
        -------
        LogisticChurnModel
            ``self``, fitted.
        """
        if not (self.C == "auto" or (isinstance(self.C, int | float) and not isinstance(self.C, bool) and self.C > 0)):
            raise InputError(f"C must be a positive number or 'auto'; got {self.C!r}.")
        frame = as_frame(X)
        layout = FeatureLayout.learn(frame)
        labels = check_labels(y, len(frame))
        if labels.min() == labels.max():
            raise InputError("a logistic regression needs churned (1) and retained (0) customers; y has one class.")
        Xt = layout.transform(frame)
        with threadpool_limits(limits=self.n_jobs, user_api="blas"):
            design = _design(layout).fit(Xt)
            Z = design.transform(Xt)
            scores = None
            C = self.C
            if C == "auto":
                scores = self._search(Z, labels, groups)
                C = min(scores, key=scores.__getitem__)
            estimator = self._logistic(float(C)).fit(Z, labels)
        self._layout = layout
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(layout.columns, dtype=object)
        self.n_features_in_ = len(layout.columns)
        self.C_ = float(C)
        self.search_scores_ = scores
        self.design_ = design
        self.estimator_ = estimator
        self._design_mean = Z.mean(axis=0)
        self._owners = _feature_of_columns(design, layout)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of churn; equals ``contributions(X).sum(axis=1)``."""
        Z = self._design_matrix(X)
        return Z @ self.estimator_.coef_[0] + self.estimator_.intercept_[0]

    def raw_score(self, X: Any) -> np.ndarray:
        """Same as :meth:`decision_function` (the name :class:`ChurnModel` uses)."""
        return self.decision_function(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities, shape ``(n, 2)``: column 1 is the churn probability."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class (1 = churn) at probability 0.5."""
        return (self.decision_function(X) >= 0.0).astype(int)

    def contributions(self, X: Any) -> pd.DataFrame:
        """Exact per-feature contributions in log-odds, relative to the average training customer.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``X``; columns ``feature_names_in_`` then ``bias``; each row sums to the log-odds.
        """
        frame = as_frame(X)
        Z = self._design_matrix(frame)
        coef = self.estimator_.coef_[0]
        parts = (Z - self._design_mean) * coef
        # Sum each feature's design columns: parts (n x design) times a design-to-feature 0/1 matrix.
        owner = np.zeros((len(coef), len(self._layout.columns)))
        owner[np.arange(len(coef)), self._owners] = 1.0
        out = dict(zip(self._layout.columns, (parts @ owner).T, strict=True))
        out[BIAS_COLUMN] = np.full(len(Z), float(self._design_mean @ coef + self.estimator_.intercept_[0]))
        return pd.DataFrame(out, index=frame.index)

    # ------------------------------------------------------------- helpers
    def _logistic(self, C: float) -> LogisticRegression:
        return LogisticRegression(C=C, max_iter=self.max_iter)

    def _search(self, Z: np.ndarray, labels: np.ndarray, groups: Sequence[Any] | None) -> dict[float, float]:
        """Mean held-out log-loss of each ``C`` in :data:`C_GRID` over the inner folds (of at most search_rows)."""
        rows = sample_rows(len(labels), self.search_rows, groups=groups, random_state=self.random_state)
        Zs, ys = Z[rows], labels[rows]
        gs = None if groups is None else np.asarray(groups)[rows]
        folds = inner_folds(ys, gs, n_folds=self.search_folds, random_state=self.random_state)
        losses: dict[float, list[float]] = {C: [] for C in C_GRID}
        for train, test in folds:
            # Along the path from strong to weak penalty, each fit starts from the previous coefficients.
            path = LogisticRegression(max_iter=self.max_iter, warm_start=True)
            for C in C_GRID:
                path.set_params(C=C).fit(Zs[train], ys[train])
                losses[C].append(log_loss(ys[test], path.predict_proba(Zs[test])[:, 1], labels=[0, 1]))
        scores = {C: float(np.mean(values)) for C, values in losses.items()}
        return scores

    def _design_matrix(self, X: Any) -> np.ndarray:
        if not hasattr(self, "estimator_"):
            raise NotFittedError("this LogisticChurnModel is not fitted yet; call fit(X, y) first.")
        Xt = self._layout.transform(as_frame(X))
        if len(Xt) == 0:
            return np.empty((0, len(self._design_mean)))
        with threadpool_limits(limits=self.n_jobs, user_api="blas"):
            return np.asarray(self.design_.transform(Xt), dtype="float64")


def _design(layout: FeatureLayout) -> ColumnTransformer:
    """Numerics imputed, flagged where missing and standardised; text one-hot encoded (unseen: all zeros)."""
    numeric = [name for name in layout.columns if name not in layout.categories]
    numeric_steps = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True), StandardScaler()
    )
    return ColumnTransformer(
        [
            (_NUMERIC, numeric_steps, numeric),
            (_TEXT, OneHotEncoder(handle_unknown="ignore", sparse_output=False), layout.categorical),
        ],
        sparse_threshold=0.0,
    )


def _feature_of_columns(design: ColumnTransformer, layout: FeatureLayout) -> np.ndarray:
    """For each design column, the position in ``layout.columns`` of the feature it encodes.

    The numeric block is the imputed features in order, then one missing indicator per feature that had gaps
    (``SimpleImputer.indicator_.features_``); the text block is each text feature's categories in order.
    """
    position = {name: i for i, name in enumerate(layout.columns)}
    numeric = [name for name in layout.columns if name not in layout.categories]
    owners: list[int] = [position[name] for name in numeric]
    if numeric:
        indicator = design.named_transformers_[_NUMERIC][0].indicator_
        if indicator is not None:
            owners += [position[numeric[j]] for j in indicator.features_]
    if layout.categorical:
        encoder = design.named_transformers_[_TEXT]
        for name, categories in zip(layout.categorical, encoder.categories_, strict=True):
            owners += [position[name]] * len(categories)
    return np.asarray(owners, dtype="int64")
