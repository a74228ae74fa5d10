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

from retain.contract.decimal_comma import decimal_comma_to_point
from retain.contract.formats import DEFAULT_FORMATS, DecimalSeparator, ValueFormats
from retain.contract.local_time import UTC_US, to_utc
from retain.contract.reasons import RejectReason
from retain.contract.strict_json import is_json_object
from retain.contract.tables import ColumnType

__all__ = ["Converted", "convert", "expected_form", "normalize_text"]

# An ISO 8601 time that names its offset: Z, UTC or ±HH[:MM] after the time of day.
_ISO_WITH_OFFSET = r"(?i)^\d{4}-\d{2}-\d{2}[T ]\d.*(z|utc|[+-]\d{2}(:?\d{2})?)$"
_TRUE = ["true", "t", "yes", "y", "1"]
_FALSE = ["false", "f", "no", "n", "0"]


@dataclass(frozen=True)
class Converted:
    values: pa.Array
    failed: np.ndarray
    """True where the input had a value that could not be converted."""
    reason: RejectReason
    detail: str = ""
    """What a value must look like, for the reject message."""


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


def _to_timestamp(text: pa.Array, formats: ValueFormats) -> pa.Array:
    if formats.date_format is not None:
        return _timestamps_written_as(text, formats)
    if formats.timezone is not None:
        return _iso_timestamps_in_zone(text, formats.timezone)
    try:
        return pc.assume_timezone(pc.cast(text, pa.timestamp("us")), "UTC")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:
        return pc.cast(text, UTC_US)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass

    def parse(s: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(s, format="ISO8601", utc=True, errors="coerce")
        return parsed.dt.as_unit("us")

    return _tolerant(text, parse, UTC_US)


def _iso_timestamps_in_zone(text: pa.Array, timezone: str) -> pa.Array:
    """ISO 8601 text: times without an offset are wall time in ``timezone``, times with one keep it."""
    try:
        return to_utc(pc.cast(text, pa.timestamp("us")), timezone)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    with_offset = pc.fill_null(pc.match_substring_regex(text, _ISO_WITH_OFFSET), False)
    naive_text = pc.if_else(with_offset, pa.scalar(None, pa.string()), text)
    aware_text = pc.if_else(with_offset, text, pa.scalar(None, pa.string()))

    def naive(s: pd.Series) -> pd.Series:
        return pd.to_datetime(s, format="ISO8601", errors="coerce").dt.as_unit("us")

    def aware(s: pd.Series) -> pd.Series:
        return pd.to_datetime(s, format="ISO8601", utc=True, errors="coerce").dt.as_unit("us")

    local = to_utc(_tolerant(naive_text, naive, pa.timestamp("us")), timezone)
    return pc.coalesce(local, _tolerant(aware_text, aware, UTC_US))


def _timestamps_written_as(text: pa.Array, formats: ValueFormats) -> pa.Array:
    """Text in ``--date-format`` (or in only its date part: midnight), naive values read in the time zone."""
    series = pd.Series(text.to_pylist(), dtype=object)
    parsed = [_parse_with(series, fmt, formats.timezone) for fmt in _formats_to_try(formats)]
    return pc.coalesce(*parsed) if len(parsed) > 1 else parsed[0]


def _formats_to_try(formats: ValueFormats) -> list[str]:
    full, date_part = formats.date_format, formats.date_part
    if full is None:
        return []
    return [full] if date_part in (None, full) else [full, date_part]


def _parse_with(series: pd.Series, fmt: str, timezone: str | None) -> pa.Array:
    with_offset = "%z" in fmt
    parsed = pd.to_datetime(series, format=fmt, errors="coerce", utc=with_offset).dt.as_unit("us")
    if with_offset:
        return pa.array(parsed, UTC_US, from_pandas=True)
    return to_utc(pa.array(parsed, pa.timestamp("us"), from_pandas=True), timezone)


def _to_date(text: pa.Array, formats: ValueFormats) -> pa.Array:
    if formats.date_format is not None:
        return _dates_written_as(text, formats)
    try:
        return pc.cast(text, pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass

    def parse(s: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
        return parsed.dt.date.where(parsed.notna(), None)

    return _tolerant(text, parse, pa.date32())


def _dates_written_as(text: pa.Array, formats: ValueFormats) -> pa.Array:
    """Text in the date part of ``--date-format``, or in the whole format without an offset (its time dropped)."""
    series = pd.Series(text.to_pylist(), dtype=object)
    candidates = [formats.date_part]
    if formats.date_format != formats.date_part and not formats.has_offset:
        candidates.append(formats.date_format)
    parsed = [
        pc.cast(
            pa.array(pd.to_datetime(series, format=fmt, errors="coerce"), pa.timestamp("us"), from_pandas=True),
            pa.date32(),
        )
        for fmt in candidates
        if fmt is not None
    ]
    return pc.coalesce(*parsed) if len(parsed) > 1 else parsed[0]


def _to_float(text: pa.Array, formats: ValueFormats) -> pa.Array:
    if formats.decimal is DecimalSeparator.COMMA:
        text = decimal_comma_to_point(text)
    try:
        values = pc.cast(text, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = _tolerant(text, lambda s: pd.to_numeric(s, errors="coerce"), pa.float64())
    # NaN and infinities parse but are no amounts: treat them as unparseable.
    finite = pc.is_finite(values)
    return pc.if_else(finite, values, pa.scalar(None, pa.float64()))


def _to_integer(text: pa.Array, formats: ValueFormats) -> pa.Array:
    if formats.decimal is DecimalSeparator.POINT:
        try:
            return pc.cast(text, pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    floats = _to_float(text, formats)
    whole = pc.and_(pc.equal(pc.floor(floats), floats), pc.less_equal(pc.abs(floats), 2.0**53))
    return pc.cast(pc.if_else(whole, floats, pa.scalar(None, pa.float64())), pa.int64())


def _to_boolean(text: pa.Array, formats: ValueFormats) -> pa.Array:
    lowered = pc.utf8_lower(text)
    is_true = pc.is_in(lowered, value_set=pa.array(_TRUE))
    is_false = pc.is_in(lowered, value_set=pa.array(_FALSE))
    known = pc.or_(is_true, is_false)
    return pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))


def _to_json_object(text: pa.Array, formats: ValueFormats) -> pa.Array:
    # Only strict objects are accepted; valid text is kept as written (re-serialising would cost more than parsing).
    ok = pa.array([is_json_object(v) for v in text.to_pylist()], type=pa.bool_())
    return pc.if_else(ok, text, pa.scalar(None, pa.string()))


_TEXT_CONVERTERS: dict[ColumnType, tuple[Callable[[pa.Array, ValueFormats], pa.Array], RejectReason]] = {
    ColumnType.TIMESTAMP: (_to_timestamp, RejectReason.BAD_TIMESTAMP),
    ColumnType.DATE: (_to_date, RejectReason.BAD_DATE),
    ColumnType.FLOAT: (_to_float, RejectReason.BAD_NUMBER),
    ColumnType.INTEGER: (_to_integer, RejectReason.BAD_INTEGER),
    ColumnType.BOOLEAN: (_to_boolean, RejectReason.BAD_BOOLEAN),
    ColumnType.JSON: (_to_json_object, RejectReason.BAD_JSON),
}


def expected_form(kind: ColumnType, formats: ValueFormats = DEFAULT_FORMATS) -> str:
    """What a value of ``kind`` must look like under ``formats``: the detail of a conversion reject."""
    if kind is ColumnType.TIMESTAMP:
        if formats.date_format is None:
            return "expected ISO 8601 such as 2025-03-01T10:22:31Z or 2025-03-01 10:22"
        shown = [f"{fmt} ({formats.example(fmt)})" for fmt in _formats_to_try(formats)]
        return "expected --date-format " + " or ".join(shown)
    if kind is ColumnType.DATE:
        if formats.date_format is None:
            return "expected ISO 8601 such as 1990-04-23"
        fmt = formats.date_part or formats.date_format
        return f"expected --date-format {fmt} ({formats.example(fmt)})"
    if kind in (ColumnType.FLOAT, ColumnType.INTEGER):
        example = "12.50" if kind is ColumnType.FLOAT else "1234"
        if formats.decimal is DecimalSeparator.COMMA:
            example = "1.234,50 or 12,5" if kind is ColumnType.FLOAT else "1.234"
            return f"expected a decimal comma (--decimal ,) such as {example}"
        return f"such as {example}"
    return ""


def _typed_fast_path(arr: pa.Array, kind: ColumnType, timezone: str | None) -> pa.Array | None:
    """Input that already has the logical type (Parquet, DataFrames, XLSX date cells) skips text parsing."""
    t = arr.type
    if kind is ColumnType.TIMESTAMP and pa.types.is_timestamp(t):
        return pc.cast(arr, UTC_US) if t.tz else to_utc(arr, timezone)
    if kind is ColumnType.TIMESTAMP and pa.types.is_date(t):
        return to_utc(pc.cast(pc.cast(arr, pa.timestamp("s")), pa.timestamp("us")), timezone)
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


def convert(arr: pa.Array, kind: ColumnType, formats: ValueFormats = DEFAULT_FORMATS) -> Converted:
    """Convert one column to ``kind``; values that fail are null in ``values`` and True in ``failed``.

    ``formats`` says how text values are written (date format, decimal separator, time zone of naive times).
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    typed = _typed_fast_path(arr, kind, formats.timezone)
    if typed is not None:
        reason = _TEXT_CONVERTERS[kind][1]
        return Converted(typed, _failed(arr, typed), reason, expected_form(kind, formats))
    text = normalize_text(arr)
    if kind is ColumnType.STRING:
        return Converted(text, np.zeros(len(text), dtype=bool), RejectReason.BAD_FORMAT)
    converter, reason = _TEXT_CONVERTERS[kind]
    values = converter(text, formats)
    return Converted(values, _failed(text, values), reason, expected_form(kind, formats))
