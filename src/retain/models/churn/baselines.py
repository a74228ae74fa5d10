"""The baselines every churn model is shown beside, on the same rows: recency only, and a logistic regression.

A churn model earns its complexity only when it ranks customers better than what anyone could do without it
(DESIGN.md section 8):

- **recency** (:class:`RecencyBaseline`): rank by how long ago the customer was last active. The recency column
  is the one of ``days_since_last_event``, ``days_since_last_order``, ``days_since_last_login`` (or, in a
  snapshot table, any column named like ``days_since_last…`` or ``recency…``) that ranks the *training* rows
  best; a customer never active ranks as longer ago than anyone seen. A plain snapshot table without such a
  column (the bank churn data) gets the **best single feature** instead: the numeric column whose ranking of
  the training rows is strongest, in its better direction, missing values at the training median. Either way
  the baseline is one column's order, chosen on the training rows only; its probabilities are a Platt fit of
  that column (a strictly increasing map, so the ranking is exactly the column's).
- **logistic regression** (:class:`~retain.models.churn.linear.LogisticChurnModel`): standardised numerics,
  one-hot text, an L2 penalty chosen by inner cross-validation.

:func:`backtest_baselines` and :func:`cross_validate_baselines` fit them exactly where the model is evaluated
(the same temporal-backtest split, the same cross-validation folds); :func:`compare` puts the model beside
them and says, in plain sentences, which baseline it does not beat.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_auc_score

from retain.errors import InputError, NotFittedError
from retain.models.churn._calibration import ScoreCalibrator
from retain.models.churn._layout import as_frame
from retain.models.churn._targets import check_labels
from retain.models.churn.evaluate import CVResult, cross_validate, temporal_backtest
from retain.models.churn.linear import LogisticChurnModel

__all__ = [
    "BASELINES",
    "RECENCY_FEATURES",
    "BaselineComparison",
    "BaselineName",
    "BaselineScore",
    "RecencyBaseline",
    "backtest_baselines",
    "compare",
    "cross_validate_baselines",
    "is_recency_column",
]

RECENCY_FEATURES = ("days_since_last_event", "days_since_last_order", "days_since_last_login")
"""retain's own recency features (:mod:`retain.models.churn.features`): any activity, orders, logins."""


class BaselineName(StrEnum):
    """The baselines, in the order they are shown."""

    RECENCY = "recency"
    LOGISTIC_REGRESSION = "logistic_regression"


def is_recency_column(name: str) -> bool:
    """Whether a column name says "time since last activity": ``days_since_last_order``, ``daysSinceLastLogin``,
    ``recency``, ``recency_days`` … (case and separators ignored)."""
    squashed = re.sub(r"[^a-z0-9]", "", name.lower())
    return "dayssincelast" in squashed or squashed.startswith("recency")


class RecencyBaseline(ClassifierMixin, BaseEstimator):
    """Rank customers by one column: recency when the table has it, else its best single numeric feature.

    See the module docstring for how the column is chosen. Everything is learned on the training rows.

    Attributes
    ----------
    kind_ : {"recency", "best_single_feature"}
    feature_ : str
        The column that ranks.
    direction_ : {1, -1}
        1: higher values are riskier (the usual direction of recency); -1: lower values are.
    fill_value_ : float
        What a missing value counts as (recency: one more than the longest seen; else the training median).
    training_auc_ : float
        ROC-AUC of the column, in its direction, on the training rows.
    """

    def fit(self, X: Any, y: Any, *, groups: Sequence[Any] | None = None) -> RecencyBaseline:
        """Choose the column on the training rows and fit its probability map.

        ``groups`` is accepted (and not needed) so the baseline fits wherever a :class:`ChurnModel` does.

        Raises
        ------
        InputError
            When the table has no numeric column to rank by, or the labels hold one class only.
        """
        frame = as_frame(X)
        labels = check_labels(y, len(frame))
        if labels.min() == labels.max():
            raise InputError("a baseline needs churned (1) and retained (0) customers; y holds one class only.")
        numeric = {name: _numeric(frame[name]) for name in frame.columns if _is_numeric(frame[name])}
        numeric = {name: values for name, values in numeric.items() if not np.isnan(values).all()}
        recency = [name for name in numeric if is_recency_column(str(name))]
        if recency:
            kind, pool = BaselineName.RECENCY.value, recency
        elif numeric:
            kind, pool = "best_single_feature", list(numeric)
        else:
            raise InputError("the table has no numeric column, so no single column can rank the customers.")
        best: tuple[float, str, int, float] | None = None
        for name in pool:
            values = numeric[name]
            fill = float(np.nanmax(values) + 1.0) if kind == BaselineName.RECENCY else float(np.nanmedian(values))
            auc = float(roc_auc_score(labels, np.where(np.isnan(values), fill, values)))
            strength = abs(auc - 0.5)
            if best is None or strength > best[0]:
                best = (strength, name, 1 if auc >= 0.5 else -1, fill)
        assert best is not None
        _, self.feature_, self.direction_, self.fill_value_ = best
        self.kind_ = kind
        signed = self._signed(frame)
        # Standardised so the Platt fit is well conditioned; a constant column scores 0 everywhere.
        self._centre, self._scale = float(signed.mean()), float(signed.std()) or 1.0
        score = self._score(frame)
        self.training_auc_ = float(roc_auc_score(labels, score))
        self.calibrator_ = ScoreCalibrator("sigmoid").fit(score, labels)
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """The ranking score: the column's value (missing filled) times its direction, standardised."""
        if not hasattr(self, "calibrator_"):
            raise NotFittedError("this RecencyBaseline is not fitted yet; call fit(X, y) first.")
        return self._score(as_frame(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities, shape ``(n, 2)``, from a Platt fit of the ranking score."""
        score = self.decision_function(X)
        p = self.calibrator_.predict(score) if len(score) else np.empty(0)
        return np.column_stack([1.0 - p, p])

    @property
    def description(self) -> str:
        """What the baseline ranks by, for people: ``"days_since_last_event, highest first"``."""
        order = "highest first" if self.direction_ == 1 else "lowest first"
        if self.kind_ == BaselineName.RECENCY:
            return f"{self.feature_}, {order}"
        return f"best single feature: {self.feature_}, {order} (the table has no recency column)"

    def _signed(self, frame: pd.DataFrame) -> np.ndarray:
        if self.feature_ not in frame.columns:
            raise InputError(f"the table has no column {self.feature_!r}, which the baseline ranks by.")
        values = _numeric(frame[self.feature_])
        return np.where(np.isnan(values), self.fill_value_, values) * self.direction_

    def _score(self, frame: pd.DataFrame) -> np.ndarray:
        return (self._signed(frame) - self._centre) / self._scale


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype)


def _numeric(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


BASELINES: dict[BaselineName, Callable[[], Any]] = {
    BaselineName.RECENCY: RecencyBaseline,
    BaselineName.LOGISTIC_REGRESSION: LogisticChurnModel,
}
"""Each baseline's unfitted estimator (``fit(X, y, groups=...)``, ``predict_proba``)."""


def _describe(name: BaselineName, models: Sequence[Any]) -> str:
    """What the fitted baseline(s) rank by; each different choice once when folds chose differently."""
    if name is BaselineName.LOGISTIC_REGRESSION:
        penalties = "/".join(dict.fromkeys(f"{model.C_:g}" for model in models))
        return f"standardised numerics and one-hot text, L2 penalty C={penalties}"
    return "; ".join(dict.fromkeys(model.description for model in models))


# ------------------------------------------------------------ on the same rows
@dataclass(frozen=True)
class BaselineScore:
    """A baseline evaluated on the model's rows.

    Attributes
    ----------
    name : str
        A :class:`BaselineName`.
    description : str
        What it ranks by (recency: the column; logistic regression: its penalty).
    metrics : dict of str to float
        :func:`~retain.models.churn.evaluate.summary_metrics` on the same rows as the model; empty when the
        baseline could not be fitted (``note`` says why).
    note : str
        Why the baseline is not applicable, or empty.
    """

    name: str
    description: str
    metrics: dict[str, float]
    note: str = ""


@dataclass(frozen=True)
class BaselineCV:
    """A baseline cross-validated on the model's folds: its score and the whole :class:`CVResult`."""

    score: BaselineScore
    result: CVResult | None


def backtest_baselines(
    frame: Any,
    *,
    time_column: str,
    train_until: Any,
    test_from: Any,
    target: str,
    drop_columns: Sequence[str] = (),
    group_column: str | None = None,
    horizon_days: int | None = None,
) -> dict[str, BaselineScore]:
    """Every baseline trained and tested on the split of :func:`~retain.models.churn.evaluate.temporal_backtest`.

    The arguments are those of ``temporal_backtest`` (pass the model's), so the baselines see the same training
    rows and are scored on the same test rows.
    """
    out = {}
    for name, factory in BASELINES.items():
        try:
            result = temporal_backtest(
                frame,
                time_column=time_column,
                train_until=train_until,
                test_from=test_from,
                target=target,
                model_factory=factory,
                drop_columns=drop_columns,
                group_column=group_column,
                horizon_days=horizon_days if horizon_days is not None else 0,
            )
        except InputError as exc:
            out[str(name)] = BaselineScore(str(name), "", {}, note=str(exc))
            continue
        out[str(name)] = BaselineScore(str(name), _describe(name, [result.model]), dict(result.metrics))
    return out


def cross_validate_baselines(X: Any, y: Any, *, folds: int = 5, random_state: int = 0) -> dict[str, BaselineCV]:
    """Every baseline cross-validated on the folds :func:`~retain.models.churn.evaluate.cross_validate` makes
    for the same ``X``, ``y``, ``folds`` and ``random_state`` (the folds depend only on those)."""
    out = {}
    for name, factory in BASELINES.items():
        fitted: list[Any] = []

        def make(factory: Callable[[], Any] = factory, fitted: list[Any] = fitted) -> Any:
            model = factory()
            fitted.append(model)
            return model

        try:
            result = cross_validate(make, X, y, folds=folds, random_state=random_state)
        except InputError as exc:
            out[str(name)] = BaselineCV(BaselineScore(str(name), "", {}, note=str(exc)), None)
            continue
        # The column (or penalty) is chosen on each training fold.
        out[str(name)] = BaselineCV(BaselineScore(str(name), _describe(name, fitted), dict(result.pooled)), result)
    return out


# ------------------------------------------------------------------ comparison
_TITLES: dict[str, str] = {
    BaselineName.RECENCY: "recency",
    BaselineName.LOGISTIC_REGRESSION: "logistic regression",
    "health": "health score",
}


@dataclass(frozen=True)
class BaselineComparison:
    """The model beside its baselines on the same rows.

    Attributes
    ----------
    model : dict of str to float
        The model's metrics.
    baselines : dict of str to BaselineScore
    metric : str
        The metric that decides "beats" (higher is better): ``roc_auc``.
    """

    model: dict[str, float]
    baselines: dict[str, BaselineScore] = field(default_factory=dict)
    metric: str = "roc_auc"

    def margin(self, name: str) -> float:
        """Model minus baseline on :attr:`metric` (NaN when the baseline is not applicable)."""
        score = self.baselines[name].metrics.get(self.metric)
        return float("nan") if score is None else float(self.model[self.metric] - score)

    @property
    def not_beaten(self) -> list[str]:
        """Applicable baselines the model does not beat (equal counts as not beaten)."""
        return [name for name in self.baselines if self.margin(name) <= 0]

    @property
    def beats_all(self) -> bool:
        """Whether the model beats every applicable baseline."""
        return not self.not_beaten

    def sentences(self) -> list[str]:
        """Plain-language verdicts: one per baseline not beaten or not applicable, or one saying it beats all."""
        label = _metric_label(self.metric)
        rows = f"{int(self.model['n']):,} rows" if "n" in self.model else "rows"
        out = []
        for name, baseline in self.baselines.items():
            title = _TITLES.get(name, name)
            if not baseline.metrics:
                out.append(f"The {title} baseline could not be evaluated: {baseline.note}")
            elif self.margin(name) <= 0:
                out.append(
                    f"The model does not beat the {title} baseline: {label} {self.model[self.metric]:.4f} vs "
                    f"{baseline.metrics[self.metric]:.4f} on the same {rows}; prefer the simpler ranking, or "
                    "look for features and data the model is missing."
                )
        beaten = [name for name, b in self.baselines.items() if b.metrics and self.margin(name) > 0]
        others = " and ".join(
            f"{_TITLES.get(name, name)} {self.baselines[name].metrics[self.metric]:.4f} ({self.margin(name):+.4f})"
            for name in beaten
        )
        if beaten and self.beats_all:
            out.insert(
                0,
                f"The model beats its baselines on the same {rows}: {label} {self.model[self.metric]:.4f} vs {others}.",
            )
        elif beaten:
            out.append(f"It beats {others}.")
        return out


def _metric_label(metric: str) -> str:
    return {"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "top_decile_lift": "top-decile lift"}.get(metric, metric)


def compare(
    model_metrics: Mapping[str, float], baselines: Mapping[str, BaselineScore], *, metric: str = "roc_auc"
) -> BaselineComparison:
    """The model's metrics beside the baselines' (all measured on the same rows)."""
    return BaselineComparison(dict(model_metrics), dict(baselines), metric)
