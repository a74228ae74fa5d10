"""Validated canonical rows as JSON objects and back: how a fact waits in the state database's inbox.

A row that passed :func:`~retain.contract.validate.validate_chunk` is written as one JSON object of its typed
values (timestamps and dates in ISO 8601, numbers as JSON numbers, which round-trip a float exactly); reading it
back gives the same Arrow values, so a fact flushed from the inbox is byte for byte the row ingest would have
written. The text is canonical (keys sorted, no spaces), so equal rows have equal text and equal digests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime

import pyarrow as pa

from retain.contract.tables import ColumnType, TableSpec

__all__ = ["decode_rows", "encode_rows", "row_digest"]


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def encode_rows(spec: TableSpec, valid: pa.Table) -> list[str]:
    """One canonical JSON object per row of ``valid`` (the contract's columns; other columns are left out)."""
    columns = {name: valid.column(name).to_pylist() for name in spec.column_names}
    return [
        json.dumps(
            {name: _plain(values[i]) for name, values in columns.items()},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
        for i in range(valid.num_rows)
    ]


def row_digest(payload: str) -> str:
    """The SHA-256 of a canonical row: equal facts have equal digests."""
    return hashlib.sha256(payload.encode()).hexdigest()


def _typed(kind: ColumnType, values: list[object]) -> pa.Array:
    if kind is ColumnType.TIMESTAMP:
        values = [None if v is None else datetime.fromisoformat(str(v)) for v in values]
    elif kind is ColumnType.DATE:
        values = [None if v is None else date.fromisoformat(str(v)) for v in values]
    return pa.array(values, type=kind.arrow)


def decode_rows(spec: TableSpec, payloads: Sequence[str]) -> pa.Table:
    """The rows of ``payloads`` (from :func:`encode_rows`) as a table in the contract's Arrow schema."""
    rows = [json.loads(p) for p in payloads]
    arrays = [_typed(c.type, [row.get(c.name) for row in rows]) for c in spec.columns]
    return pa.Table.from_arrays(arrays, schema=spec.arrow_schema.remove_metadata())
