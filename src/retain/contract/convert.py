"""Vectorised conversion of raw input columns to the contract's logical types.

Each converter takes an Arrow array (text from CSV/JSON/XLSX, or already typed from Parquet and DataFrames) and
returns the typed array plus a mask of values that were present but could not be converted. The fast path is
one Arrow cast over the whole chunk; only a chunk that fails it takes the slower, per-value tolerant path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from retain.contract.reasons import RejectReason
from retain.contract.strict_json import is_json_object
from retain.contract.tables import ColumnType

__all__ = ["Converted", "convert", "normalize_text"]

_UTC_US = pa.timestamp("us", tz="UTC")
_TRUE = ["true", "t", "yes", "y", "1"]
_FALSE = ["false", "f", "no", "n", "0"]


@dataclass(frozen=True)
class Converted:
    values: pa.Array
    failed: np.ndarray
    """True where the input had a value that could not be converted."""
    reason: RejectReason


def normalize_text(arr: pa.Array) -> pa.Array:
    """Text with surrounding whitespace removed and empty strings turned into nulls."""
    if pa.types.is_floating(arr.type):
        # Integral floats (ids read by pandas next to NaNs) print without the ".0".
        as_int = pc.cast(arr, pa.int64(), safe=False)
        integral = pc.equal(pc.cast(as_int, arr.type), arr)
        arr = pc.if_else(integral, pc.cast(as_int, pa.string()), pc.cast(arr, pa.string()))
    elif (
        pa.types.is_timestamp(arr.type)
        or pa.types.is_date(arr.type)
        or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type))
    ):
        arr = pc.cast(arr, pa.string())
    arr = pc.utf8_trim_whitespace(arr.cast(pa.string()))
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _failed(original: pa.Array, converted: pa.Array) -> np.ndarray:
    return pc.and_(original.is_valid(), converted.is_null()).to_numpy(zero_copy_only=False)


def _tolerant(arr: pa.Array, parse: Callable[[pd.Series], pd.Series], target: pa.DataType) -> pa.Array:
    series = pd.Series(arr.to_pylist(), dtype=object)
    return pa.array(parse(series), type=target, from_pandas=True)


def _to_timestamp(text: pa.Array) -> pa.Array:
    try:
        return pc.assume_timezone(pc.cast(text, pa.timestamp("us")), "UTC")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:
        return pc.cast(text, _UTC_US)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass

    def parse(s: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(s, format="ISO8601", utc=True, errors="coerce")
        return parsed.dt.as_unit("us")

    return _tolerant(text, parse, _UTC_US)


def _to_date(text: pa.Array) -> pa.Array:
    try:
        return pc.cast(text, pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass

    def parse(s: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
        return parsed.dt.date.where(parsed.notna(), None)

    return _tolerant(text, parse, pa.date32())


def _to_float(text: pa.Array) -> pa.Array:
    try:
        values = pc.cast(text, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = _tolerant(text, lambda s: pd.to_numeric(s, errors="coerce"), pa.float64())
    # NaN and infinities parse but are no amounts: treat them as unparseable.
    finite = pc.is_finite(values)
    return pc.if_else(finite, values, pa.scalar(None, pa.float64()))


def _to_integer(text: pa.Array) -> pa.Array:
    try:
        return pc.cast(text, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    floats = _to_float(text)
    whole = pc.and_(pc.equal(pc.floor(floats), floats), pc.less_equal(pc.abs(floats), 2.0**53))
    return pc.cast(pc.if_else(whole, floats, pa.scalar(None, pa.float64())), pa.int64())


def _to_boolean(text: pa.Array) -> pa.Array:
    lowered = pc.utf8_lower(text)
    is_true = pc.is_in(lowered, value_set=pa.array(_TRUE))
    is_false = pc.is_in(lowered, value_set=pa.array(_FALSE))
    known = pc.or_(is_true, is_false)
    return pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))


def _to_json_object(text: pa.Array) -> pa.Array:
    # Only strict objects are accepted; valid text is kept as written (re-serialising would cost more than parsing).
    ok = pa.array([is_json_object(v) for v in text.to_pylist()], type=pa.bool_())
    return pc.if_else(ok, text, pa.scalar(None, pa.string()))


_TEXT_CONVERTERS: dict[ColumnType, tuple[Callable[[pa.Array], pa.Array], RejectReason]] = {
    ColumnType.TIMESTAMP: (_to_timestamp, RejectReason.BAD_TIMESTAMP),
    ColumnType.DATE: (_to_date, RejectReason.BAD_DATE),
    ColumnType.FLOAT: (_to_float, RejectReason.BAD_NUMBER),
    ColumnType.INTEGER: (_to_integer, RejectReason.BAD_INTEGER),
    ColumnType.BOOLEAN: (_to_boolean, RejectReason.BAD_BOOLEAN),
    ColumnType.JSON: (_to_json_object, RejectReason.BAD_JSON),
}


def _typed_fast_path(arr: pa.Array, kind: ColumnType) -> pa.Array | None:
    """Input that already has the logical type (Parquet, DataFrames) skips text parsing."""
    t = arr.type
    if kind is ColumnType.TIMESTAMP and pa.types.is_timestamp(t):
        return pc.cast(arr, _UTC_US) if t.tz else pc.assume_timezone(pc.cast(arr, pa.timestamp("us")), "UTC")
    if kind is ColumnType.TIMESTAMP and pa.types.is_date(t):
        return pc.assume_timezone(pc.cast(pc.cast(arr, pa.timestamp("s")), pa.timestamp("us")), "UTC")
    if kind is ColumnType.DATE and (pa.types.is_date(t) or pa.types.is_timestamp(t)):
        return pc.cast(arr, pa.date32())
    if kind is ColumnType.FLOAT and (pa.types.is_integer(t) or pa.types.is_floating(t)):
        values = pc.cast(arr, pa.float64())
        return pc.if_else(pc.is_finite(values), values, pa.scalar(None, pa.float64()))
    if kind is ColumnType.INTEGER and pa.types.is_integer(t):
        return pc.cast(arr, pa.int64())
    if kind is ColumnType.BOOLEAN and pa.types.is_boolean(t):
        return arr
    return None


def convert(arr: pa.Array, kind: ColumnType) -> Converted:
    """Convert one column to ``kind``; values that fail are null in ``values`` and True in ``failed``."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    typed = _typed_fast_path(arr, kind)
    if typed is not None:
        reason = _TEXT_CONVERTERS[kind][1]
        return Converted(typed, _failed(arr, typed), reason)
    text = normalize_text(arr)
    if kind is ColumnType.STRING:
        return Converted(text, np.zeros(len(text), dtype=bool), RejectReason.BAD_FORMAT)
    converter, reason = _TEXT_CONVERTERS[kind]
    values = converter(text)
    return Converted(values, _failed(text, values), reason)
