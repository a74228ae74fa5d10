"""Helpers the platform export presets share: read every chunk into one frame, reject rows with a reason."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa

from retain.contract.chunks import SourceChunk
from retain.contract.convert import convert
from retain.contract.decimal_comma import decimal_comma_to_point
from retain.contract.formats import DEFAULT_FORMATS, DecimalSeparator, ValueFormats
from retain.contract.reasons import RejectReason
from retain.contract.tables import ColumnType
from retain.contract.validate import REJECTS_SCHEMA, rejects_table

__all__ = ["ROW", "ExportFrame", "parse_number", "parse_time", "parsers"]

Parse = Callable[[pd.Series], pd.Series]

ROW = "__row"


class ExportFrame:
    """All lines of an export as text (empty cells as ``None``), each with its source row, plus the rejects."""

    def __init__(self, chunks: Iterator[SourceChunk], columns: tuple[str, ...]):
        parts, self._rejects, self.rejected_rows = [], [], 0
        for chunk in chunks:
            self._rejects.append(chunk.rejects)
            self.rejected_rows += chunk.rejected_rows
            frame = pd.DataFrame(
                {c: chunk.table.column(c).cast(pa.string()).to_pylist() if c in chunk.table.column_names else None
                 for c in columns}
            )  # fmt: skip
            frame[ROW] = chunk.rows
            parts.append(frame)
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*columns, ROW])
        for column in columns:  # surrounding blanks removed, blank cells empty
            frame[column] = [None if pd.isna(v) or not str(v).strip() else str(v).strip() for v in frame[column]]
        self.frame = frame

    def reject(self, mask: pd.Series, column: str, reason: RejectReason, detail: str) -> None:
        """Move the rows under ``mask`` to the rejects, for ``column`` and ``reason``."""
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            bad = self.frame.loc[mask]
            values = pa.array([None if v is None else str(v) for v in bad[column]], pa.string())
            self._rejects.append(rejects_table(bad[ROW].to_numpy(np.int64), column, values, reason, detail))
            self.rejected_rows += int(mask.sum())
            self.frame = self.frame.loc[~mask]

    def chunk(self, rows: pd.DataFrame) -> SourceChunk:
        """The canonical ``rows`` (with their ``ROW``) and every reject, in source-row order, as one chunk."""
        rows = rows.sort_values(ROW, kind="stable")
        rejects = pa.concat_tables([REJECTS_SCHEMA.empty_table(), *self._rejects]).sort_by("source_row")
        table = pa.Table.from_pandas(rows.drop(columns=[ROW]), preserve_index=False)
        return SourceChunk(table, rows[ROW].to_numpy(np.int64), rejects, self.rejected_rows)


def parsers(formats: ValueFormats) -> tuple[Parse, Parse]:
    """``parse_number`` and ``parse_time`` reading values as ``formats`` says (``--decimal``, ``--date-format``,
    ``--timezone``)."""
    return partial(parse_number, formats=formats), partial(parse_time, formats=formats)


def parse_number(values: pd.Series, formats: ValueFormats = DEFAULT_FORMATS) -> pd.Series:
    """Amounts as exported (``1,200.00`` with thousands separators, or ``19.99``; ``1.200,00`` with ``--decimal ,``)
    as floats; bad text is NaN."""
    if formats.decimal is DecimalSeparator.COMMA:
        text = decimal_comma_to_point(pa.array(_texts(values), pa.string()))
        return pd.Series(pd.to_numeric(text.to_pandas(), errors="coerce").to_numpy("float64"), index=values.index)
    text = values.astype("string").str.replace(",", "", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def parse_time(values: pd.Series, formats: ValueFormats = DEFAULT_FORMATS) -> pd.Series:
    """Export times (``2024-01-10 10:00:00 +0100``, ``2024-01-10 10:00``, ISO 8601) as UTC; bad text is NaT.

    With ``--date-format`` the times are read in that format, and with ``--timezone`` times without an offset are
    local time there (see ``retain.contract.local_time``), as in every other ingest.
    """
    text = values.astype("string")
    with_zone = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S %z", utc=True, errors="coerce")
    if formats.date_format is None and formats.timezone is None:
        iso = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        return with_zone.fillna(iso).dt.as_unit("us")
    read = convert(pa.array(_texts(values), pa.string()), ColumnType.TIMESTAMP, formats).values
    as_read = read.to_pandas()
    as_read.index = values.index  # by position: the frame's index has gaps where rows were rejected
    if formats.date_format is not None:
        return as_read.dt.as_unit("us")
    return with_zone.fillna(as_read).dt.as_unit("us")


def _texts(values: pd.Series) -> list[str | None]:
    return [None if pd.isna(v) else str(v) for v in values]
