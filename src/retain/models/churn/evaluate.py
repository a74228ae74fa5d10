"""How good is a churn model: ranking, calibration, cross-validation and a temporal backtest.

Ranking metrics (ROC-AUC, average precision, top-decile lift) say whether the riskiest customers come first;
calibration metrics (Brier score, the calibration table) say whether a predicted 30 % really means 30 %,
which matters once probabilities are multiplied by revenue.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.model_selection import StratifiedKFold

from retain.errors import InputError
from retain.models.churn._layout import as_frame
from retain.models.churn.classifier import ChurnModel

__all__ = [
    "BacktestResult",
    "CVResult",
    "brier",
    "calibration_table",
    "cross_validate",
    "pr_auc",
    "roc_auc",
    "summary_metrics",
    "temporal_backtest",
    "top_decile_lift",
]


class _Classifier(Protocol):
    def fit(self, X: Any, y: Any, **kwargs: Any) -> Any: ...

    def predict_proba(self, X: Any) -> np.ndarray: ...


# ------------------------------------------------------------------ metrics
def _check(y_true: Any, y_score: Any, *, probabilities: bool = False) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true).ravel()
    p = np.asarray(y_score, dtype="float64").ravel()
    if y.size != p.size:
        raise InputError(f"y_true has {y.size} values but y_score has {p.size}; pass one score per label.")
    if y.size == 0:
        raise InputError("no labels given; metrics need at least one labelled row.")
    if pd.isna(y).any() or np.isnan(p).any():
        raise InputError("labels and scores must not contain missing values; drop those rows first.")
    if not set(np.unique(y).tolist()) <= {0, 1}:
        raise InputError(f"y_true must hold 0/1 or booleans (1 = churned); got {sorted(set(y.tolist()))[:5]}.")
    if probabilities and ((p < 0).any() or (p > 1).any()):
        raise InputError("scores must be probabilities in [0, 1] for this metric; pass predict_proba(X)[:, 1].")
    return y.astype("int64"), p


def _need_both_classes(y: np.ndarray, metric: str) -> None:
    if y.min() == y.max():
        raise InputError(f"{metric} needs both churned (1) and retained (0) customers; y_true holds only {y[0]}.")


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve: the chance a random churner scores above a random non-churner.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y, p = _check(y_true, y_score)
    _need_both_classes(y, "ROC-AUC")
    return float(skm.roc_auc_score(y, p))


def pr_auc(y_true: Any, y_score: Any) -> float:
    """Area under the precision-recall curve, as average precision (step-wise, no interpolation)."""
    y, p = _check(y_true, y_score)
    _need_both_classes(y, "PR-AUC")
    return float(skm.average_precision_score(y, p))


def brier(y_true: Any, y_prob: Any) -> float:
    """Brier score: mean squared error of the churn probabilities (lower is better)."""
    y, p = _check(y_true, y_prob, probabilities=True)
    return float(skm.brier_score_loss(y, p, pos_label=1))


def top_decile_lift(y_true: Any, y_score: Any, *, fraction: float = 0.1) -> float:
    """Churn rate among the top ``fraction`` of scores divided by the overall churn rate.

    The top group holds ``ceil(fraction * n)`` rows. Scores tied at the cut-off count in proportion (their
    churn rate times the places left), so the result does not depend on row order.

    Examples
    --------
    10 rows, 2 churners, the top row (10 %) is a churner: lift = (1 / 1) / (2 / 10) = 5.

    >>> top_decile_lift([1, 0, 1, 0, 0, 0, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2, .1, 0])
    5.0
    """
    y, p = _check(y_true, y_score)
    if not 0.0 < fraction <= 1.0:
        raise InputError(f"fraction must be in (0, 1]; got {fraction!r}.")
    base_rate = y.mean()
    if base_rate == 0:
        raise InputError("lift is undefined without churners: y_true holds no 1s.")
    k = math.ceil(fraction * y.size)
    cutoff = np.sort(p)[::-1][k - 1]
    above = p > cutoff
    at = p == cutoff
    # Expected churners in the top k when ties at the cut-off are ordered at random.
    churners = y[above].sum() + (k - above.sum()) * y[at].mean()
    return float((churners / k) / base_rate)


def calibration_table(y_true: Any, y_prob: Any, bins: int = 10) -> pd.DataFrame:
    """Predicted mean versus observed churn rate per quantile bin of the predictions.

    Rows are ranked by probability and cut into ``bins`` groups of (near) equal size; equal probabilities always
    share a bin (a bin may then be larger, and empty bins are dropped).

    Returns
    -------
    pandas.DataFrame
        One row per bin, lowest probabilities first: ``bin``, ``count``, ``positives``, ``p_min``, ``p_max``,
        ``predicted_mean``, ``observed_rate``, ``gap`` (observed − predicted).
    """
    y, p = _check(y_true, y_prob, probabilities=True)
    if not isinstance(bins, int | np.integer) or bins < 1:
        raise InputError(f"bins must be a positive integer; got {bins!r}.")
    # 0-based rank of the first of each group of ties: ties never straddle a bin edge.
    rank = pd.Series(p).rank(method="min").to_numpy() - 1
    bin_of = np.floor(rank * bins / y.size).astype("int64")
    frame = pd.DataFrame({"bin": bin_of, "y": y, "p": p})
    table = frame.groupby("bin", sort=True).agg(
        count=("y", "size"),
        positives=("y", "sum"),
        p_min=("p", "min"),
        p_max=("p", "max"),
        predicted_mean=("p", "mean"),
        observed_rate=("y", "mean"),
    )
    table["gap"] = table["observed_rate"] - table["predicted_mean"]
    return table.reset_index()


def summary_metrics(y_true: Any, y_prob: Any) -> dict[str, float]:
    """All headline metrics at once: ``n``, ``positives``, ``base_rate``, ``roc_auc``, ``pr_auc``,
    ``top_decile_lift``, ``brier`` and ``brier_base_rate`` (the Brier score of always predicting the base rate).
    """
    y, p = _check(y_true, y_prob, probabilities=True)
    base_rate = float(y.mean())
    return {
        "n": float(y.size),
        "positives": float(y.sum()),
        "base_rate": base_rate,
        "roc_auc": roc_auc(y, p),
        "pr_auc": pr_auc(y, p),
        "top_decile_lift": top_decile_lift(y, p),
        "brier": brier(y, p),
        "brier_base_rate": base_rate * (1.0 - base_rate),
    }


# --------------------------------------------------------- cross-validation
@dataclass(frozen=True)
class CVResult:
    """Outcome of :func:`cross_validate`.

    Attributes
    ----------
    folds : pandas.DataFrame
        One row per fold: ``fold`` and the :func:`summary_metrics` of that fold's held-out rows.
    pooled : dict of str to float
        :func:`summary_metrics` over all out-of-fold predictions together.
    oof_proba : ndarray
        Out-of-fold churn probability for every row, in input order.
    fold_of : ndarray
        The fold in which each row was held out.
    y : ndarray
        The labels, in input order.
    seconds : float
        Wall-clock time of the whole cross-validation (informational).
    """

    folds: pd.DataFrame
    pooled: dict[str, float]
    oof_proba: np.ndarray
    fold_of: np.ndarray
    y: np.ndarray
    seconds: float

    def mean(self, metric: str) -> float:
        """Mean of ``metric`` over the folds."""
        return float(self.folds[metric].mean())

    def calibration_table(self, bins: int = 10) -> pd.DataFrame:
        """:func:`calibration_table` of the out-of-fold predictions."""
        return calibration_table(self.y, self.oof_proba, bins=bins)


def cross_validate(
    model_factory: Callable[[], _Classifier],
    X: Any,
    y: Any,
    folds: int = 5,
    random_state: int = 0,
) -> CVResult:
    """Stratified K-fold cross-validation of a churn classifier.

    Parameters
    ----------
    model_factory : callable returning an unfitted classifier
        Called once per fold, e.g. ``ChurnModel`` or ``lambda: ChurnModel(calibration="sigmoid")``.
    X : pandas.DataFrame
        Feature table, one row per customer.
    y : array-like of 0/1
        Labels.
    folds : int, default 5
    random_state : int, default 0
        Seed of the fold shuffle.

    Returns
    -------
    CVResult
    """
    frame = as_frame(X)
    labels = np.asarray(y).ravel()
    labels, _ = _check(labels, np.zeros(labels.size))
    if labels.size != len(frame):
        raise InputError(f"X has {len(frame)} rows but y has {labels.size} labels; pass one label per row.")
    if not isinstance(folds, int | np.integer) or folds < 2:
        raise InputError(f"folds must be an integer >= 2; got {folds!r}.")
    smallest = int(min(labels.sum(), labels.size - labels.sum()))
    if smallest < folds:
        raise InputError(f"{folds}-fold cross-validation needs at least {folds} rows of each class; got {smallest}.")

    started = time.perf_counter()
    oof = np.full(labels.size, np.nan)
    fold_of = np.full(labels.size, -1, dtype="int64")
    rows = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    for fold, (train, test) in enumerate(splitter.split(np.zeros(labels.size), labels)):
        model = model_factory()
        model.fit(frame.iloc[train], labels[train])
        oof[test] = np.asarray(model.predict_proba(frame.iloc[test]))[:, 1]
        fold_of[test] = fold
        rows.append({"fold": fold, **summary_metrics(labels[test], oof[test])})
    return CVResult(
        folds=pd.DataFrame(rows),
        pooled=summary_metrics(labels, oof),
        oof_proba=oof,
        fold_of=fold_of,
        y=labels,
        seconds=time.perf_counter() - started,
    )


# ------------------------------------------------------- temporal backtest
@dataclass(frozen=True)
class BacktestResult:
    """Outcome of :func:`temporal_backtest`.

    Attributes
    ----------
    metrics : dict of str to float
        :func:`summary_metrics` on the test rows.
    model : fitted classifier
    test_proba : pandas.Series
        Churn probability of each test row, indexed like the input frame.
    n_train, n_test : int
    """

    metrics: dict[str, float]
    model: Any
    test_proba: pd.Series
    n_train: int
    n_test: int


def _as_timestamp(value: Any, column: pd.Series, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a date or timestamp; got {value!r}.") from exc
    column_tz = getattr(column.dtype, "tz", None)
    if column_tz is not None and stamp.tzinfo is None:
        return stamp.tz_localize(column_tz)
    if column_tz is None and stamp.tzinfo is not None:
        raise InputError(
            f"{name} {value!r} has a time zone but the time column has none; pass a naive timestamp "
            "or make the column UTC."
        )
    return stamp


def temporal_backtest(
    frame: Any,
    *,
    time_column: str,
    train_until: Any,
    test_from: Any,
    target: str,
    model_factory: Callable[[], _Classifier] | None = None,
    drop_columns: Sequence[str] = (),
    group_column: str | None = None,
    horizon_days: int | None = None,
) -> BacktestResult:
    """Train on earlier snapshots and score later ones, as the model would be used in production.

    Parameters
    ----------
    frame : pandas.DataFrame
        A feature table with an as-of column: one row per customer and snapshot date, plus the label.
    time_column : str
        The as-of column (dates or timestamps).
    train_until : date-like
        Rows with ``as_of <= train_until`` train the model.
    test_from : date-like
        Rows with ``as_of >= test_from`` test it. Rows in between are left out.
    target : str
        The 0/1 label column.
    model_factory : callable, default ``ChurnModel``
    drop_columns : sequence of str
        Further non-feature columns (identifiers) to leave out of the features.
    group_column : str, optional
        The customer column of a table with several rows per customer (one per observation date): passed to
        the model's ``fit`` as ``groups``, so the model's own inner folds keep each customer's rows together.
        It is never a feature.
    horizon_days : int, optional
        Label window; defaults to the model's ``horizon_days``. A training label at ``train_until`` is only
        known ``horizon_days`` later, so ``test_from`` must be at least that far after ``train_until`` or
        the backtest would use the future.

    Returns
    -------
    BacktestResult

    Raises
    ------
    InputError
        On missing columns, test period not after the training period plus the horizon, or an empty side.
    """
    table = as_frame(frame, what="frame")
    needed = [time_column, target, *drop_columns, *([group_column] if group_column else [])]
    missing = [name for name in needed if name not in table.columns]
    if missing:
        raise InputError(f"frame has no column(s) {missing}; its columns are {list(table.columns)}.")
    times = table[time_column]
    if not pd.api.types.is_datetime64_any_dtype(times.dtype):
        try:
            times = pd.to_datetime(times)
        except (TypeError, ValueError) as exc:
            raise InputError(f"time column {time_column!r} must hold dates or timestamps.") from exc
    start_test = _as_timestamp(test_from, times, "test_from")
    end_train = _as_timestamp(train_until, times, "train_until")
    factory = model_factory if model_factory is not None else ChurnModel
    model = factory()
    horizon = horizon_days if horizon_days is not None else getattr(model, "horizon_days", 0)
    if start_test < end_train + pd.Timedelta(days=horizon):
        raise InputError(
            f"test_from ({start_test}) must be at least {horizon} days (the label horizon) after train_until "
            f"({end_train}): training labels would otherwise overlap the test period."
        )
    train = (times <= end_train).to_numpy()
    test = (times >= start_test).to_numpy()
    if not train.any() or not test.any():
        raise InputError(
            f"the split leaves {int(train.sum())} training and {int(test.sum())} test rows; both need rows — "
            f"{time_column!r} spans {times.min()} to {times.max()}."
        )
    features = table.drop(columns=list(dict.fromkeys(needed)))
    labels = table[target].to_numpy()
    if group_column:
        model.fit(features[train], labels[train], groups=table[group_column].to_numpy()[train])
    else:
        model.fit(features[train], labels[train])
    proba = np.asarray(model.predict_proba(features[test]))[:, 1]
    return BacktestResult(
        metrics=summary_metrics(labels[test], proba),
        model=model,
        test_proba=pd.Series(proba, index=table.index[test], name="churn_probability"),
        n_train=int(train.sum()),
        n_test=int(test.sum()),
    )
