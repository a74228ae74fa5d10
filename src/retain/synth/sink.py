"""Append-only table files (Parquet or CSV) that a chunked generator writes to one piece at a time."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from retain.errors import InputError

__all__ = ["FORMATS", "TableSink"]

FORMATS = ("csv", "parquet")


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, pa.string(), f.nullable) if pa.types.is_timestamp(f.type) else f for f in schema]
    )


def _csv_table(table: pa.Table) -> pa.Table:
    # ISO 8601 with a Z suffix and whole seconds, e.g. 2025-03-01T10:22:31Z.
    cols = []
    for f, col in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(f.type):
            col = pc.strftime(col.cast(pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")
        cols.append(col)
    return pa.table(cols, schema=_csv_schema(table.schema))


class TableSink:
    """One output file; :meth:`write` appends a chunk, :meth:`close` finishes the file.

    Parameters
    ----------
    path : Path
        File to create (overwritten if it exists).
    schema : pa.Schema
        Arrow schema of every chunk written.
    fmt : str
        ``"parquet"`` or ``"csv"``. CSV writes timestamps as ``YYYY-MM-DDTHH:MM:SSZ`` and a header line.
    """

    def __init__(self, path: Path, schema: pa.Schema, fmt: str) -> None:
        if fmt not in FORMATS:
            raise InputError(f"Unknown format {fmt!r}. Valid formats: {', '.join(FORMATS)}.")
        self.path = Path(path)
        self.schema = schema
        self.fmt = fmt
        self.rows = 0
        self._writer: pq.ParquetWriter | pcsv.CSVWriter
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(self.path, schema, compression="zstd")
        else:
            self._writer = pcsv.CSVWriter(self.path, _csv_schema(schema))

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (its columns must match the schema exactly)."""
        table = table.cast(self.schema)
        self.rows += table.num_rows
        if self.fmt == "parquet":
            self._writer.write_table(table, row_group_size=1_000_000)
        else:
            self._writer.write_table(_csv_table(table))

    def close(self) -> None:
        """Flush and close the file."""
        self._writer.close()
