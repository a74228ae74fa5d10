"""Input checks shared by the CLV models: one place for the messages users see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from retain.errors import InputError, NotFittedError

__all__ = ["as_columns", "as_float_array", "check_fitted", "check_rft", "check_weights"]


def as_float_array(name: str, values: Any) -> np.ndarray:
    """Return ``values`` as a float array, rejecting NaN and infinities."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numeric; got values that cannot be read as numbers ({exc}).") from exc
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InputError(f"{name} has {bad} missing or infinite value(s); expected finite numbers. Fill or drop them.")
    return arr


def as_columns(X: Any, names: Sequence[str], aliases: dict[str, str] | None = None) -> list[np.ndarray]:
    """Split ``X`` (a DataFrame with the named columns, or a 2-D array in that order) into float columns."""
    aliases = aliases or {}
    if isinstance(X, pd.DataFrame):
        columns = []
        for name in names:
            source = name if name in X.columns else aliases.get(name)
            if source is None or source not in X.columns:
                raise InputError(
                    f"column {name!r} is missing; expected columns {list(names)} (found {list(map(str, X.columns))})."
                )
            columns.append(as_float_array(name, X[source].to_numpy()))
        return columns
    arr = as_float_array("X", X)
    if arr.ndim != 2 or arr.shape[1] != len(names):
        raise InputError(
            f"X must be a DataFrame or a 2-D array with {len(names)} columns {list(names)}; got shape {arr.shape}."
        )
    return [arr[:, i] for i in range(len(names))]


def check_rft(x: Any, t_x: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate frequency ``x``, recency ``t_x`` and age ``T`` (broadcast to one shape)."""
    x = as_float_array("x (frequency)", x)
    t_x = as_float_array("t_x (recency)", t_x)
    T = as_float_array("T (age)", T)
    try:
        x, t_x, T = np.broadcast_arrays(x, t_x, T)
    except ValueError as exc:
        raise InputError(
            f"x, t_x and T must have the same length; got shapes {x.shape}, {t_x.shape}, {T.shape}."
        ) from exc
    for name, arr in (("x (frequency)", x), ("t_x (recency)", t_x), ("T (age)", T)):
        if np.any(arr < 0):
            raise InputError(f"{name} has negative values (first at position {_first(arr < 0)}); expected >= 0.")
    if np.any(x != np.round(x)):
        raise InputError(
            f"x (frequency) must count repeat purchases (whole numbers); got {x[_first(x != np.round(x))]} "
            f"at position {_first(x != np.round(x))}."
        )
    if np.any(t_x > T):
        i = _first(t_x > T)
        raise InputError(
            f"t_x (recency, time of the last purchase) exceeds T (age) at position {i}: t_x={t_x[i]}, T={T[i]}. "
            "Both must be measured from the first purchase in the same unit, with t_x <= T."
        )
    if np.any((x == 0) & (t_x != 0)):
        i = _first((x == 0) & (t_x != 0))
        raise InputError(
            f"a customer with no repeat purchase (x=0) must have t_x=0; got t_x={t_x[i]} at position {i}. "
            "Recency is the time from the first to the last purchase."
        )
    return x, t_x, T


def check_weights(weights: Any, n: int) -> np.ndarray:
    """Validate row weights (counts of identical customers); ``None`` means one each."""
    if weights is None:
        return np.ones(n)
    w = as_float_array("weights", weights)
    if w.shape != (n,):
        raise InputError(f"weights must have one value per row ({n}); got shape {w.shape}.")
    if np.any(w < 0):
        raise InputError(f"weights must be >= 0 (they count identical customers); got {w[_first(w < 0)]}.")
    if w.sum() <= 0:
        raise InputError("weights sum to zero; at least one customer must count.")
    return w


def check_fitted(model: Any, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``model`` has the learned ``attribute``."""
    if not hasattr(model, attribute):
        raise NotFittedError(
            f"this {type(model).__name__} is not fitted yet; call fit(...) with customer data before predicting."
        )


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(np.ravel(mask))[0])
