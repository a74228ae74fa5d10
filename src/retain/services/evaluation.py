"""Evaluate the churn model outside a workspace: cross-validation on a plain labelled table, and the backtest on
synthetic data against its ground truth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from retain.errors import InputError
from retain.models.churn import ChurnModel, CVResult, cross_validate
from retain.models.churn.backtest import SyntheticBacktest, synthetic_backtest

__all__ = ["CVResult", "SyntheticBacktest", "cross_validate_file", "read_labelled_table", "synthetic_backtest"]


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


def cross_validate_file(
    path: Path, *, target: str, drop: list[str] | None = None, folds: int = 5, seed: int = 0
) -> tuple[CVResult, int, int]:
    """K-fold cross-validation of ``ChurnModel`` on the labelled table at ``path``.

    Returns
    -------
    (CVResult, rows, features)
    """
    frame = read_labelled_table(path)
    missing = [c for c in [target, *(drop or [])] if c not in frame.columns]
    if missing:
        raise InputError(f"{path.name} has no column(s) {missing}; its columns are {list(frame.columns)}.")
    y = frame[target]
    X = frame.drop(columns=list(dict.fromkeys([target, *(drop or [])])))
    result = cross_validate(lambda: ChurnModel(random_state=seed), X, y, folds=folds, random_state=seed)
    return result, len(X), X.shape[1]
