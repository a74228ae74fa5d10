"""Invalid UTF-8 in delimited text rejects the rows that hold it, not the whole file.

Arrow's streaming CSV reader stops the whole stream at the first invalid byte of a text column, wherever it is in
the file, and its invalid-row handler fails too when the short or long row holds such a byte. So the bytes pass
through ``Utf8Guard`` on their way to the reader: each invalid byte becomes ``MARKER``, U+FDD0, a Unicode
*noncharacter* (reserved for a program's internal use, never valid in text that is exchanged), and the rows whose
values hold it are taken out of the chunk and rejected as ``bad_encoding`` with their column.

Typed inputs (Parquet, Arrow tables) may hold text as binary columns: ``binary_as_text`` decodes those the same
way. The guard decodes every block once (C speed, about a millisecond per MiB of mixed text); the per-row search only
runs once the guard has replaced a byte, so a clean file pays nothing more.
"""

from __future__ import annotations

import codecs
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retain.contract.reasons import RejectReason
from retain.contract.validate import REJECTS_SCHEMA, rejects_table

__all__ = ["MARKER", "Utf8Guard", "binary_as_text", "shown", "split_bad_encoding"]

MARKER = "\ufdd0"
"""Stands for one invalid byte in the text the reader sees."""

_SHOWN_AS = "\ufffd"  # what editors show for a byte they cannot decode
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # how ``surrogateescape`` decodes an invalid byte


class Utf8Guard:
    """A transform for ``pyarrow.TransformInputStream``: valid UTF-8 passes unchanged, invalid bytes become MARKER.

    Attributes
    ----------
    replaced
        How many invalid bytes were replaced so far.
    """

    def __init__(self) -> None:
        # Incremental: a character split across two blocks is decoded whole.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self.replaced = 0

    def __call__(self, block: pa.Buffer) -> bytes:
        text = self._decoder.decode(block, len(block) == 0)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # only escaped bytes cannot be encoded again
            marked, count = _ESCAPED_BYTE.subn(MARKER, text)
            self.replaced += count
            return marked.encode("utf-8")


def binary_as_text(table: pa.Table) -> tuple[pa.Table, bool]:
    """Binary columns of ``table`` as UTF-8 text, each invalid byte as MARKER.

    Parameters
    ----------
    table
        A chunk from a typed source (Parquet, Arrow).

    Returns
    -------
    tuple
        The table with text instead of binary columns, and whether any byte was marked (then
        ``split_bad_encoding`` takes those rows out).
    """
    marked = False
    for i, field in enumerate(table.schema):
        if not (pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type)):
            continue
        column = table.column(i)
        try:
            text = pc.cast(column, pa.string())  # validates in C; only a column with a bad byte is decoded in Python
        except pa.ArrowInvalid:
            decoded = [None if v is None else v.decode("utf-8", "surrogateescape") for v in column.to_pylist()]
            text = pa.array([None if v is None else _ESCAPED_BYTE.sub(MARKER, v) for v in decoded], pa.string())
            marked = True
        table = table.set_column(i, field.name, text)
    return table, marked


def shown(values: pa.Array) -> pa.Array:
    """Values as a person should see them in a rejects file: each invalid byte as U+FFFD."""
    return pc.replace_substring(values, MARKER, _SHOWN_AS)


def split_bad_encoding(table: pa.Table, rows: np.ndarray) -> tuple[pa.Table, np.ndarray, pa.Table, int]:
    """Take the rows holding MARKER out of ``table``.

    Parameters
    ----------
    table
        A chunk of text columns as the reader returned it.
    rows
        The source row number of each row of ``table``.

    Returns
    -------
    tuple
        The remaining rows, their row numbers, one ``bad_encoding`` reject per affected (row, column), and the
        number of rows taken out.
    """
    bad_rows = np.zeros(table.num_rows, dtype=bool)
    parts = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not pa.types.is_string(column.type):  # typed sources keep numbers and times as they are
            continue
        hit = pc.fill_null(pc.match_substring(column, MARKER), False).to_numpy(zero_copy_only=False)
        if hit.any():
            where = np.flatnonzero(hit)
            values = shown(column.take(pa.array(where)).combine_chunks())
            parts.append(rejects_table(rows[where], name, values, RejectReason.BAD_ENCODING, ""))
            bad_rows |= hit
    if not parts:
        return table, rows, REJECTS_SCHEMA.empty_table(), 0
    rejects = pa.concat_tables(parts).sort_by([("source_row", "ascending")])
    return table.filter(pa.array(~bad_rows)), rows[~bad_rows], rejects, int(bad_rows.sum())
