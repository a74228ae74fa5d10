"""Ibis building blocks shared by the trigger evaluators: the result shape, ISO text and JSON ``detail`` text.

Everything here is plain Ibis that DuckDB and PySpark compile to the same values: dates and times are formatted
with ``strftime`` pieces both engines support (no ``T`` in a pattern, no microsecond extraction), JSON is built by
concatenation with explicit escaping, and day boundaries are computed in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from retain.analytics.customers import instant_literal

__all__ = [
    "TRIGGER_COLUMNS",
    "TRIGGER_SCHEMA",
    "RawJson",
    "date_text",
    "empty_result",
    "iso_instant",
    "iso_text",
    "json_object",
    "result",
    "within",
]

TRIGGER_COLUMNS = ("customer_id", "trigger_key", "fired_at", "detail")
"""Columns of every evaluator's table, in order."""

TRIGGER_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.string()),
        pa.field("trigger_key", pa.string()),
        pa.field("fired_at", pa.timestamp("us", tz="UTC")),
        pa.field("detail", pa.string()),
    ]
)
"""Arrow schema of an executed trigger table."""

_STRING = dt.String(nullable=True)
_TS = dt.Timestamp(timezone="UTC", scale=6, nullable=True)


def iso_instant(moment: datetime) -> str:
    """The text :func:`iso_text` gives for ``moment`` (UTC): ``2024-03-05T10:00:00Z`` or ``…T10:00:00.000123Z``."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond:06d}Z" if moment.microsecond else f"{text}Z"


def iso_text(ts: ibis.Value) -> ibis.Value:
    """A UTC timestamp as ISO-8601 text ending in ``Z``; the fraction only when it is not zero (null stays null)."""
    fraction = ts.strftime("%f")
    return (
        ts.strftime("%Y-%m-%d")
        + "T"
        + ts.strftime("%H:%M:%S")
        + ibis.ifelse(fraction == "000000", "", "." + fraction)
        + "Z"
    )


def date_text(value: ibis.Value) -> ibis.Value:
    """The UTC date of a timestamp (or a date) as ``YYYY-MM-DD``."""
    return value.strftime("%Y-%m-%d")


def within(ts: ibis.Value, start: datetime, end: datetime) -> ibis.Value:
    """``start < ts <= end``: the trigger windows ``(as_of − n days, as_of]``."""
    return (ts > instant_literal(start)) & (ts <= instant_literal(end))


@dataclass(frozen=True)
class RawJson:
    """A value that already is JSON text (e.g. an event's ``properties``), put into the object as it is."""

    value: ibis.Value


def _json_string(value: ibis.Value) -> ibis.Value:
    # Backslash first, so the escapes added after it are not escaped again; other control characters (rare in
    # the data, forbidden raw in JSON) are dropped rather than encoded as \u00XX.
    escaped = (
        value.cast("string")
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
        .re_replace(r"[\x01-\x1f]", "")
    )
    return '"' + escaped + '"'


def _json_value(value: ibis.Value | RawJson | str | int | float | bool | None) -> ibis.Value:
    """The JSON text of one value; SQL null becomes ``null``."""
    if isinstance(value, RawJson):
        return value.value.cast("string").fill_null("null")
    if not isinstance(value, ibis.Value):
        value = ibis.literal(value)
    kind = value.type()
    if kind.is_null():
        return ibis.literal("null")
    if kind.is_string():
        text = _json_string(value)
    elif kind.is_boolean():
        text = ibis.ifelse(value.isnull(), ibis.null("string"), ibis.ifelse(value, "true", "false"))
    elif kind.is_integer():
        text = value.cast("string")
    elif kind.is_floating():
        # NaN and infinities have no JSON form; both engines print finite doubles as valid JSON numbers.
        finite = ~(value.isnan() | value.isinf())
        text = ibis.ifelse(finite, value.cast("string"), ibis.null("string"))
    elif kind.is_timestamp():
        text = '"' + iso_text(value) + '"'
    elif kind.is_date():
        text = '"' + date_text(value) + '"'
    else:  # pragma: no cover - evaluators only pass the types above
        raise TypeError(f"no JSON encoding for {kind}")
    return text.fill_null("null")


def json_object(**fields: ibis.Value | RawJson | str | int | float | bool | None) -> ibis.Value:
    """A JSON object as text, keys in the order given (Python values become literals)."""
    parts = [ibis.literal(f'"{key}":') + _json_value(value) for key, value in fields.items()]
    body = parts[0]
    for part in parts[1:]:
        body = body + "," + part
    return "{" + body + "}"


def result(
    table: ibis.Table,
    *,
    customer_id: ibis.Value,
    trigger_key: ibis.Value,
    fired_at: ibis.Value | datetime,
    detail: ibis.Value,
) -> ibis.Table:
    """The rows of ``table`` in the trigger shape, one per ``(customer_id, trigger_key)``.

    When several rows share a key (the same event ingested twice under two ids, two subscriptions renewing on
    one day), the one with the earliest ``fired_at``, then the smallest ``detail`` text, is kept: a choice every
    engine makes the same way.
    """
    fired = instant_literal(fired_at) if isinstance(fired_at, datetime) else fired_at
    shaped = table.select(
        customer_id=customer_id.cast(_STRING),
        trigger_key=trigger_key.cast(_STRING),
        fired_at=fired.cast(_TS),
        detail=detail.cast(_STRING),
    )
    rank = ibis.row_number().over(
        group_by=[shaped.customer_id, shaped.trigger_key], order_by=[shaped.fired_at, shaped.detail]
    )
    ranked = shaped.mutate(_rank=rank)
    return ranked.filter(ranked["_rank"] == 0).select(*TRIGGER_COLUMNS)


def empty_result() -> ibis.Table:
    """A trigger table with no rows (a trigger whose facts hold no data)."""
    return ibis.memtable(TRIGGER_SCHEMA.empty_table())
