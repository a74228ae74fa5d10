"""Vectorised conversions from numpy arrays to the Arrow columns of the canonical tables."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["ids", "labels", "money", "timestamps"]

_TS = pa.timestamp("us", tz="UTC")


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """String ids such as ``C0000001``: ``prefix`` + the number left-padded with zeros to ``width`` digits."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def timestamps(seconds: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Epoch seconds as UTC timestamps (microsecond unit, as the contract declares); ``null`` masks missing ones."""
    arr = pa.array(np.asarray(seconds, dtype=np.int64) * 1_000_000, type=pa.int64(), mask=null)
    return arr.cast(_TS)


def labels(choices: np.ndarray | list, codes: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Strings taken from ``choices`` by integer ``codes``; ``null`` (or a negative code) gives a missing value."""
    codes = np.asarray(codes, dtype=np.int64)
    mask = codes < 0 if null is None else (null | (codes < 0))
    return pc.take(pa.array(list(choices), pa.string()), pa.array(np.where(mask, 0, codes), mask=mask))


def money(values: np.ndarray) -> pa.Array:
    """Amounts rounded to cents."""
    return pa.array(np.round(np.asarray(values, dtype=np.float64), 2), pa.float64())
