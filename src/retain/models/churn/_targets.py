"""The labels a churn model trains on: 0/1 (or booleans) per row, checked with messages that say what is wrong."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from retain.errors import InputError

__all__ = ["check_labels"]


def check_labels(y: Any, n_rows: int) -> np.ndarray:
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
