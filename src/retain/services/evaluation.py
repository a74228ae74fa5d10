"""Evaluate the churn model outside a workspace: cross-validation on a plain labelled table beside its baselines,
and the backtest on synthetic data against its ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from retain.errors import InputError
from retain.models.churn import ChurnModel, CVResult, cross_validate
from retain.models.churn.backtest import SyntheticBacktest, synthetic_backtest
from retain.models.churn.baselines import BaselineComparison, BaselineCV, compare, cross_validate_baselines

__all__ = [
    "CVResult",
    "CrossValidation",
    "SyntheticBacktest",
    "cross_validate_table",
    "read_labelled_table",
    "synthetic_backtest",
]


def read_labelled_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file with one labelled row per customer, as a DataFrame."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(f"{path} does not exist; pass a CSV or Parquet file with one labelled row per customer.")
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise InputError(f"{path} is a {suffix or 'file without extension'}; expected .csv or .parquet.")


@dataclass(frozen=True)
class CrossValidation:
    """:func:`cross_validate_table`'s outcome: the model and its baselines on the same folds.

    Attributes
    ----------
    model : CVResult
        ``ChurnModel``'s per-fold and pooled metrics, out-of-fold probabilities and calibration.
    baselines : dict of str to BaselineCV
        ``recency`` and ``logistic_regression``, cross-validated on the same folds: ``.score`` (description,
        pooled metrics, note) and ``.result`` (their own :class:`CVResult`, ``None`` when not applicable).
    comparison : BaselineComparison
        Pooled out-of-fold metrics of the model beside the baselines'; ``comparison.sentences()`` says which
        baseline the model does not beat.
    rows, features : int
        Size of the table cross-validated (features after ``target`` and ``drop``).
    """

    model: CVResult
    baselines: dict[str, BaselineCV]
    comparison: BaselineComparison
    rows: int
    features: int


def _split_table(path: Path, target: str, drop: list[str] | None) -> tuple[pd.DataFrame, pd.Series]:
    frame = read_labelled_table(path)
    missing = [c for c in [target, *(drop or [])] if c not in frame.columns]
    if missing:
        raise InputError(f"{path.name} has no column(s) {missing}; its columns are {list(frame.columns)}.")
    return frame.drop(columns=list(dict.fromkeys([target, *(drop or [])]))), frame[target]


def cross_validate_table(
    path: Path, *, target: str, drop: list[str] | None = None, folds: int = 5, seed: int = 0
) -> CrossValidation:
    """K-fold cross-validation of ``ChurnModel`` and of the baselines, on the same folds of the table at ``path``.

    Parameters
    ----------
    path : Path
        CSV or Parquet, one labelled row per customer.
    target : str
        The 0/1 churn column.
    drop : list of str, optional
        Columns to leave out (identifiers).
    folds : int, default 5
    seed : int, default 0
        Seed of the fold shuffle and of the model.

    Returns
    -------
    CrossValidation
    """
    X, y = _split_table(path, target, drop)
    model = cross_validate(lambda: ChurnModel(random_state=seed), X, y, folds=folds, random_state=seed)
    baselines = cross_validate_baselines(X, y, folds=folds, random_state=seed)
    comparison = compare(model.pooled, {name: b.score for name, b in baselines.items()})
    return CrossValidation(model, baselines, comparison, len(X), X.shape[1])
