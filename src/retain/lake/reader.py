"""Read the lake as Ibis tables: the latest version of each key across all committed batches.

Picking the latest version needs a window over every row (partition by key, newest batch then last source row
first). That is the dominant cost of reading a large table, and it is wasted when the table is one batch whose
keys are all distinct — the usual case for a first load. Whether a batch's keys are distinct is computed once,
on first read, and kept beside the batch in ``<batch>.keys.json``: batches are immutable, so the answer never
goes stale.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import ibis
import pyarrow.parquet as pq

from retain.contract.system_tables import fact_spec
from retain.contract.tables import TableName, TableSpec
from retain.contract.validate import ROW_COLUMN
from retain.lake.layout import BATCH_COLUMN, Lake
from retain.lake.view import LakeView

__all__ = ["batch_has_unique_keys", "batch_metadata", "read_table"]

_KEYS_SUFFIX = ".keys.json"


def batch_has_unique_keys(backend: ibis.BaseBackend, spec: TableSpec, path: Path) -> bool:
    """True when no key occurs twice in the batch at ``path`` (computed with ``backend`` once, then cached)."""
    cache = path.with_name(path.name + _KEYS_SUFFIX)
    if cache.is_file():
        return bool(json.loads(cache.read_text())["unique"])
    batch = backend.read_parquet(str(path))
    counts = {
        "rows": backend.to_pyarrow(batch.count()).as_py(),
        "keys": backend.to_pyarrow(batch.select(*spec.key).distinct().count()).as_py(),
    }
    unique = counts["rows"] == counts["keys"]
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"unique": unique, "rows": counts["rows"], "keys": counts["keys"]}))
    os.replace(tmp, cache)
    return unique


def _read_batches(backend: ibis.BaseBackend, files: list[Path]) -> ibis.Table:
    if len(files) == 1:
        return backend.read_parquet(str(files[0]))
    if backend.name == "duckdb":
        return backend.read_parquet([str(f) for f in files])
    # PySpark takes a list of paths as one glob pattern; read each batch and union them instead.
    return ibis.union(*(backend.read_parquet(str(f)) for f in files))


def read_table(backend: ibis.BaseBackend, lake: Lake | LakeView, table: TableName | str) -> ibis.Table:
    """Unexecuted expression of ``table``: one row per key, from the newest batch (then the last source row).

    ``lake`` is the lake itself (its batches now) or a :class:`~retain.lake.view.LakeView` (the batches it fixed).
    """
    spec = fact_spec(str(table))
    files = lake.batch_files(spec.name)
    if not files:
        return ibis.memtable(spec.arrow_schema.empty_table())
    raw = _read_batches(backend, files)
    if len(files) == 1 and batch_has_unique_keys(backend, spec, files[0]):
        return raw.select(*spec.column_names)
    newest_first = ibis.row_number().over(
        group_by=[raw[k] for k in spec.key], order_by=[ibis.desc(raw[BATCH_COLUMN]), ibis.desc(raw[ROW_COLUMN])]
    )
    latest = raw.mutate(_version=newest_first).filter(ibis._._version == 0)
    return latest.select(*spec.column_names)


def batch_metadata(path: Path) -> dict:
    """The metadata a batch was committed with (source, fingerprint, counts)."""
    meta = pq.ParquetFile(path).metadata.metadata or {}
    return json.loads(meta.get(b"retain.batch", b"{}"))
