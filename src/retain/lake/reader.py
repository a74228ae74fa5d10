"""Read the lake as Ibis tables: the latest version of each key across all committed batches."""

from __future__ import annotations

import json
from pathlib import Path

import ibis
import pyarrow.parquet as pq

from retain.contract.tables import TableName, table_spec
from retain.contract.validate import ROW_COLUMN
from retain.lake.layout import BATCH_COLUMN, Lake

__all__ = ["batch_metadata", "read_table"]


def read_table(backend: ibis.BaseBackend, lake: Lake, table: TableName | str) -> ibis.Table:
    """Unexecuted expression of ``table``: one row per key, from the newest batch (then the last source row)."""
    spec = table_spec(str(table))
    files = lake.batch_files(spec.name)
    if not files:
        return ibis.memtable(spec.arrow_schema.empty_table())
    raw = backend.read_parquet([str(f) for f in files])
    newest_first = ibis.row_number().over(
        group_by=[raw[k] for k in spec.key], order_by=[ibis.desc(raw[BATCH_COLUMN]), ibis.desc(raw[ROW_COLUMN])]
    )
    latest = raw.mutate(_version=newest_first).filter(ibis._._version == 0)
    return latest.select(*spec.column_names)


def batch_metadata(path: Path) -> dict:
    """The metadata a batch was committed with (source, fingerprint, counts)."""
    meta = pq.ParquetFile(path).metadata.metadata or {}
    return json.loads(meta.get(b"retain.batch", b"{}"))
