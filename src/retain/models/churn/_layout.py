"""The layout of a feature table: learned at fit, re-applied at predict.

A churn feature table is a pandas DataFrame with one row per customer. Numeric and boolean columns become
float64; object, string and category columns become pandas categoricals whose categories are the values seen
at fit (as text, sorted). Re-applying the layout maps a value never seen at fit to a missing value, which
LightGBM routes like any other missing category — so new plans or countries never break scoring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from retain.errors import InputError, SchemaMismatchError

__all__ = ["FeatureLayout", "as_frame"]


def as_frame(X: Any, *, what: str = "X") -> pd.DataFrame:
    """Return ``X`` as a pandas DataFrame, accepting anything with ``to_pandas()`` (Arrow, Ibis results).

    Raises
    ------
    InputError
        If ``X`` is not a table with named columns.
    """
    if isinstance(X, pd.DataFrame):
        return X
    if hasattr(X, "to_pandas"):
        frame = X.to_pandas()
        if isinstance(frame, pd.DataFrame):
            return frame
    raise InputError(
        f"{what} must be a feature table (a pandas DataFrame with one row per customer and named columns); "
        f"got {type(X).__name__}. Wrap arrays as pandas.DataFrame(values, columns=[...])."
    )


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype)


def _is_categorical(series: pd.Series) -> bool:
    dtype = series.dtype
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
    )


def _as_text(series: pd.Series) -> pd.Series:
    # Text keys make categories independent of the input's dtype (object, str, category of ints, ...).
    return series.astype("string")


def _as_float(series: pd.Series, column: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    try:
        return pd.to_numeric(series, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"column {column!r} was numeric when the model was fitted but now holds non-numeric values "
            f"(dtype {series.dtype}); pass the same kind of values as at fit."
        ) from exc


@dataclass(frozen=True)
class FeatureLayout:
    """Column order and categorical vocabulary of a feature table.

    Attributes
    ----------
    columns : tuple of str
        Feature columns in fit order.
    categories : Mapping[str, tuple of str]
        For each categorical column, the categories seen at fit (as text, sorted).
    """

    columns: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]]

    @classmethod
    def learn(cls, X: pd.DataFrame) -> FeatureLayout:
        """Learn the layout of a training feature table.

        Raises
        ------
        InputError
            If the table has no columns, duplicate or non-text column names, or a column that is neither
            numeric nor categorical (for example a datetime).
        """
        if X.shape[1] == 0:
            raise InputError("the feature table has no columns; pass at least one feature column.")
        names = list(X.columns)
        bad = [name for name in names if not isinstance(name, str)]
        if bad:
            raise InputError(f"feature column names must be text; got {bad!r}. Rename the columns to strings.")
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise InputError(f"feature column names must be unique; duplicated: {dupes}.")
        categories: dict[str, tuple[str, ...]] = {}
        for name in names:
            series = X[name]
            if _is_numeric(series):
                continue
            if not _is_categorical(series):
                raise InputError(
                    f"column {name!r} has dtype {series.dtype}; churn features must be numeric, boolean or "
                    "categorical (text). Convert dates to ages, e.g. days since the last order."
                )
            categories[name] = tuple(sorted(_as_text(series).dropna().unique()))
        return cls(columns=tuple(names), categories=categories)

    @property
    def categorical(self) -> list[str]:
        """Names of the categorical columns, in fit order."""
        return [name for name in self.columns if name in self.categories]

    def check_columns(self, X: pd.DataFrame) -> None:
        """Raise ``SchemaMismatchError`` naming missing and extra columns if ``X`` differs from the layout."""
        given = [str(name) for name in X.columns]
        missing = [name for name in self.columns if name not in given]
        extra = [name for name in given if name not in self.columns]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if extra:
                parts.append(f"unexpected {extra}")
            raise SchemaMismatchError(
                f"the feature table's columns differ from the ones the model was fitted on: {'; '.join(parts)}. "
                f"Pass exactly these columns (any order): {list(self.columns)}.",
                missing=missing,
                unknown=extra,
                expected=list(self.columns),
            )

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return ``X`` in fit column order with float64 numerics and fixed-category categoricals."""
        self.check_columns(X)
        out: dict[str, Any] = {}
        for name in self.columns:
            series = X[name]
            if name in self.categories:
                known = list(self.categories[name])
                text = _as_text(series)
                # Unseen values become missing explicitly (pandas will stop doing it implicitly).
                text = text.where(text.isin(known))
                out[name] = pd.Categorical(text, dtype=pd.CategoricalDtype(categories=known, ordered=False))
            else:
                out[name] = _as_float(series, name)
        return pd.DataFrame(out, index=X.index)
