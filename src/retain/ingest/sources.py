"""Input sources read as a stream of Arrow chunks with their source row numbers.

Row numbers count the way a spreadsheet shows them: in files with a header the header is row 1 and the first
record is row 2; in JSON Lines the first line is row 1; in-memory tables start at row 1.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

from retain.contract.chunks import SourceChunk
from retain.contract.formats import DEFAULT_FORMATS, DecimalSeparator, ValueFormats
from retain.contract.reasons import RejectReason
from retain.contract.strict_json import JsonRejected, loads_strict, value_text
from retain.contract.validate import REJECTS_SCHEMA, rejects_table, row_rejects
from retain.errors import InputError
from retain.ingest.utf8_guard import Utf8Guard, binary_as_text, shown, split_bad_encoding

__all__ = ["SUPPORTED_SUFFIXES", "Source", "SourceChunk", "open_source"]

# Arrow's streaming CSV reader reads up to 32 blocks ahead; 1 MiB blocks bound that read-ahead to ~32 MiB.
_CSV_BLOCK_BYTES = 1 << 20
_SNIFF_BYTES = 64 << 10
_DELIMITERS = ",;\t|"
_NOT_AN_OBJECT = "each line must be one JSON object"
_NO_LINES: Mapping[str, int] = MappingProxyType({})  # sources with a header name every column on line 1
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # an invalid byte decoded with ``surrogateescape``
_LINE_BREAK = re.compile("\r\n|\r|\n")


class Source(Protocol):
    name: str
    columns: list[str]
    column_lines: Mapping[str, int]
    """Line on which each column first appears, for sources whose records name their own fields (JSON Lines);
    empty for sources with a header."""
    total: int | None
    """Progress total (bytes or rows), None when unknown."""
    layout: Mapping[str, object]
    """How the file was read where that differs from the default (sheet, banner lines skipped, delimiter given):
    part of the ingest's fingerprint, since it changes the rows read."""

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]: ...

    def fingerprint(self) -> str: ...

    def position(self) -> int: ...


def _file_digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _check_unique(names: list[str], where: str) -> list[str]:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"{where}: the header repeats column(s) {', '.join(repeated)}; rename them.")
    return names


class CsvSource:
    column_lines: Mapping[str, int] = _NO_LINES
    """Delimited text, UTF-8 with or without BOM; the delimiter is detected from the header line.

    ``skip_rows`` banner lines (a report title, an export date) come before the header; rows keep their line
    numbers in the file, so with two banner lines the header is row 3 and the first record row 4.

    A row holding bytes that are not UTF-8 is rejected (``bad_encoding``, see ``utf8_guard``); only a header that
    is not UTF-8 stops the ingest.
    """

    def __init__(self, path: Path, delimiter: str | None = None, skip_rows: int = 0):
        self.path = path
        self.name = str(path)
        self.total = path.stat().st_size
        self.skip_rows = skip_rows
        with path.open("rb") as f:
            sample = f.read(_SNIFF_BYTES)
        # Invalid bytes in data rows reject those rows (see utf8_guard); only the header must be UTF-8 here.
        text = _after_banner(sample.decode("utf-8-sig", errors="surrogateescape"), skip_rows, path)
        if not text.strip():
            raise InputError(f"{path}: the file is empty; expected a header line with column names.")
        self.delimiter = delimiter or self._sniff(text)
        self.layout = {k: v for k, v in (("skip_rows", skip_rows), ("delimiter", delimiter)) if v}
        header = next(csv.reader(io.StringIO(text), delimiter=self.delimiter))
        undecodable = [h for h in header if _ESCAPED_BYTE.search(h)]
        if undecodable:
            shown_names = ", ".join(
                repr(h.encode("utf-8", "surrogateescape").decode("utf-8", "replace")) for h in undecodable
            )
            raise InputError(
                f"{path}: the header line is not UTF-8 text (column(s) {shown_names}). Save the file as UTF-8 "
                "(e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`) and ingest it again."
            )
        self.columns = _check_unique([h.strip() for h in header], str(path))
        self._pos = 0  # bytes consumed; updated by the reading thread, read for progress

    @staticmethod
    def _sniff(text: str) -> str:
        """The candidate delimiter that occurs most in the header line (data rows may hold any text)."""
        header = text.splitlines()[0]
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.__getitem__)
        return best if counts[best] else ","

    def fingerprint(self) -> str:
        return _file_digest(self.path)

    def position(self) -> int:
        return self._pos

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]:
        bad: list[tuple[int, str]] = []

        def on_invalid(row: pv.InvalidRow) -> str:
            bad.append((row.number, row.text))
            return "skip"

        raw = pa.OSFile(str(self.path))
        guard = Utf8Guard()
        stream = pa.TransformInputStream(raw, guard)
        reader = pv.open_csv(
            stream,
            read_options=pv.ReadOptions(
                use_threads=False,
                block_size=_CSV_BLOCK_BYTES,
                column_names=self.columns,
                skip_rows=self.skip_rows + 1,
            ),
            parse_options=pv.ParseOptions(
                delimiter=self.delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pv.ConvertOptions(
                column_types=dict.fromkeys(self.columns, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
        next_row, reported = self.skip_rows + 2, 0
        pending: list[SourceChunk] = []
        try:
            for batch in reader:
                # The reader parses ahead, so rows it skipped may lie beyond this batch: they are left out of the
                # numbering but belong to a later chunk (the batch ends at its own last row).
                numbers = sorted(n for n, _ in bad[reported:])
                rows = _number_rows(next_row, batch.num_rows, numbers)
                last = int(rows[-1]) if len(rows) else next_row - 1
                chunk_bad = [(n, t) for n, t in bad[reported:] if n <= last]
                reported += len(chunk_bad)
                next_row = last + 1
                pending.append(self._chunk(pa.Table.from_batches([batch]), rows, chunk_bad, guard))
                self._pos = raw.tell()
                if sum(len(c.rows) for c in pending) >= chunk_rows:
                    yield _concat(pending)
                    pending = []
            if reported < len(bad):
                empty = pa.table({c: pa.array([], pa.string()) for c in self.columns})
                pending.append(self._chunk(empty, np.array([], np.int64), bad[reported:], guard))
            if pending:
                yield _concat(pending)
        except pa.ArrowInvalid as exc:
            raise InputError(f"{self.path}: cannot be read as delimited text ({exc}).") from None
        finally:
            stream.close()
            raw.close()

    def _chunk(self, table: pa.Table, rows: np.ndarray, bad: list[tuple[int, str]], guard: Utf8Guard) -> SourceChunk:
        """The rows read, without those the guard marked as invalid UTF-8; both kinds of bad rows as rejects."""
        rejects, rejected = [], len(bad)
        if bad:
            numbers = np.array([n for n, _ in bad], dtype=np.int64)
            detail = f"expected {len(self.columns)} fields separated by {self.delimiter!r}"
            texts = shown(pa.array([t for _, t in bad], pa.string()))
            rejects.append(rejects_table(numbers, "*", texts, RejectReason.WRONG_FIELD_COUNT, detail))
        if guard.replaced:  # the guard runs ahead of the reader, so it has seen every byte of this chunk
            table, rows, encoding_rejects, count = split_bad_encoding(table, rows)
            rejects.append(encoding_rejects)
            rejected += count
        if not rejects:
            return SourceChunk(table, rows)
        merged = pa.concat_tables(rejects).sort_by([("source_row", "ascending")])
        return SourceChunk(table, rows, merged, rejected)


def _after_banner(text: str, skip_rows: int, path: Path) -> str:
    """The text from the header line on (Arrow's reader counts lines the same way: \n, \r\n or \r)."""
    if not skip_rows:
        return text
    lines = _LINE_BREAK.split(text, maxsplit=skip_rows)
    if len(lines) <= skip_rows or not lines[skip_rows].strip():
        raise InputError(
            f"{path}: --skip-rows {skip_rows} leaves no header line after the skipped lines; give the number of "
            "banner lines above the header."
        )
    return lines[skip_rows]


def _concat(chunks: list[SourceChunk]) -> SourceChunk:
    if len(chunks) == 1:
        return chunks[0]
    return SourceChunk(
        pa.concat_tables([c.table for c in chunks]).combine_chunks(),
        np.concatenate([c.rows for c in chunks]),
        pa.concat_tables([c.rejects for c in chunks]),
        sum(c.rejected_rows for c in chunks),
    )


def _number_rows(first: int, count: int, skipped: list[int]) -> np.ndarray:
    """The ``count`` row numbers from ``first`` on that are not among ``skipped`` (rows the reader dropped)."""
    candidates = np.arange(first, first + count + len(skipped), dtype=np.int64)
    if skipped:
        candidates = candidates[~np.isin(candidates, skipped)]
    return candidates[:count]


class _NumberedBatches:
    """Sources whose records come as Arrow batches without rejects: rows are numbered 1, 2, 3, …"""

    column_lines: Mapping[str, int] = _NO_LINES
    layout: Mapping[str, object] = _NO_LINES

    _done = 0

    def _batches(self, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError

    def position(self) -> int:
        return self._done

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]:
        for batch in self._batches(chunk_rows):
            rows = np.arange(self._done + 1, self._done + 1 + batch.num_rows, dtype=np.int64)
            self._done += batch.num_rows
            table, marked = binary_as_text(pa.Table.from_batches([batch]))
            if marked:
                table, rows, rejects, rejected = split_bad_encoding(table, rows)
                yield SourceChunk(table, rows, rejects, rejected)
            else:
                yield SourceChunk(table, rows)


class ParquetSource(_NumberedBatches):
    def __init__(self, path: Path):
        self.path = path
        self.name = str(path)
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc}).") from None
        self.columns = _check_unique(self._file.schema_arrow.names, str(path))
        self.total = self._file.metadata.num_rows

    def fingerprint(self) -> str:
        return _file_digest(self.path)

    def _batches(self, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        return self._file.iter_batches(batch_size=chunk_rows)


class JsonLinesSource:
    """One JSON object per line; a line that is not a JSON object is rejected with its line number.

    The columns are the keys of all lines, in order of first appearance, with the line each first appears on
    (``column_lines``). They come from a first pass over the whole file, before anything is written: a key first
    seen on line 5,000 must get a column (and rows before it a null), and an unknown one must stop the ingest
    like an unknown column on line 1. Sampling the first lines cannot promise either. The same pass computes the
    fingerprint, so the file is still read twice, as before; parsing every line once more costs about a fifth of
    the ingest time (1.6 s of 7.3 s for 500,000 lines).
    """

    layout: Mapping[str, object] = _NO_LINES

    def __init__(self, path: Path):
        self.path = path
        self.name = str(path)
        self.total = path.stat().st_size
        self._pos = 0
        digest = hashlib.sha256()
        first_seen: dict[str, int] = {}
        with path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                digest.update(raw)
                obj = _parse_line(raw)
                if isinstance(obj, dict) and not obj.keys() <= first_seen.keys():
                    for key in obj:  # in the line's order, so the columns (and the fingerprint) are stable
                        first_seen.setdefault(key, number)
        if not first_seen:
            raise InputError(f"{path}: no JSON object found; expected one object per line.")
        self.columns = list(first_seen)
        self.column_lines: Mapping[str, int] = first_seen
        self._digest = digest.hexdigest()

    def fingerprint(self) -> str:
        return self._digest

    def position(self) -> int:
        return self._pos

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]:
        with self.path.open("rb") as f:
            number, records, rows, bad = 0, [], [], []
            for raw in f:
                number += 1
                self._pos += len(raw)
                if not raw.strip():
                    continue
                obj = _parse_line(raw)
                if isinstance(obj, dict):
                    self._check_known(obj, number)
                    records.append(obj)
                    rows.append(number)
                else:
                    bad.append((number, raw.decode("utf-8", "replace").strip(), *obj))
                if len(records) + len(bad) >= chunk_rows:  # bad lines count too: memory stays bounded
                    yield self._chunk(records, rows, bad)
                    records, rows, bad = [], [], []
            if records or bad:
                yield self._chunk(records, rows, bad)

    def _check_known(self, obj: dict, number: int) -> None:
        if not obj.keys() <= self.column_lines.keys():
            new_keys = ", ".join(sorted(obj.keys() - self.column_lines.keys()))
            raise InputError(
                f"{self.path}: line {number:,} has key(s) {new_keys} that were not there when the file was first "
                "read: the file changed during the ingest. Nothing was written; ingest it again once it is complete."
            )

    def _chunk(
        self, records: list[dict], rows: list[int], bad: list[tuple[int, str, RejectReason, str]]
    ) -> SourceChunk:
        table = pa.table({c: pa.array([value_text(r.get(c)) for r in records], pa.string()) for c in self.columns})
        return SourceChunk(table, np.array(rows, dtype=np.int64), _line_rejects(bad), len(bad))


def _parse_line(raw: bytes) -> dict | tuple[RejectReason, str]:
    """The JSON object on one line, or the reason and detail it is rejected with."""
    try:
        obj = loads_strict(raw.decode("utf-8-sig"))  # the BOM, if any, is on line 1
    except UnicodeDecodeError:
        return RejectReason.BAD_ENCODING, ""
    except JsonRejected as exc:
        return RejectReason.BAD_JSON, str(exc)
    return obj if isinstance(obj, dict) else (RejectReason.BAD_JSON, _NOT_AN_OBJECT)


def _line_rejects(bad: list[tuple[int, str, RejectReason, str]]) -> pa.Table:
    """Rejects of whole JSON lines, ``(line number, text, reason, detail)`` each, in line order."""
    if not bad:
        return REJECTS_SCHEMA.empty_table()
    numbers = np.array([n for n, _, _, _ in bad], dtype=np.int64)
    texts = pa.array([t for _, t, _, _ in bad], pa.string())
    return row_rejects(numbers, "*", texts, [(r, d) for _, _, r, d in bad])


class XlsxSource:
    """One worksheet of an Excel workbook (the first, or ``sheet``: a name, or a number from 1), read streaming.

    ``skip_rows`` banner rows come before the header row; rows are numbered as the spreadsheet shows them. A column
    whose cells Excel stores as dates (or numbers) comes as timestamps (or numbers): there is no text to parse, so
    ``--date-format`` (or ``--decimal``) does not apply to it; other columns come as text.
    """

    column_lines: Mapping[str, int] = _NO_LINES

    def __init__(
        self, path: Path, sheet: str | None = None, skip_rows: int = 0, formats: ValueFormats = DEFAULT_FORMATS
    ):
        import openpyxl

        self.path = path
        self.name = str(path)
        try:
            self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several unrelated types for a bad file
            raise InputError(f"{path}: not a readable XLSX workbook ({exc}).") from None
        self._sheet = self._book[_sheet_name(self._book.sheetnames, sheet, path)]
        self._header_row = skip_rows + 1
        self._formats = formats
        header = next(self._sheet.iter_rows(min_row=self._header_row, max_row=self._header_row, values_only=True), None)
        if not header or all(h is None for h in header):
            where = f"row {self._header_row} of sheet {self._sheet.title!r}" if skip_rows else "the sheet"
            raise InputError(f"{path}: {where} is empty; expected a header row with column names.")
        self.columns = _check_unique([str(h).strip() if h is not None else "" for h in header], str(path))
        self.total = self._sheet.max_row
        self.layout = {"skip_rows": skip_rows} if skip_rows else {}
        if self._sheet.title != self._book.sheetnames[0]:
            self.layout["sheet"] = self._sheet.title
        self._pos = 0

    def fingerprint(self) -> str:
        return _file_digest(self.path)

    def position(self) -> int:
        return self._pos

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]:
        records, rows = [], []
        first = self._header_row + 1
        for number, values in enumerate(self._sheet.iter_rows(min_row=first, values_only=True), start=first):
            self._pos = number
            if all(v is None for v in values):
                continue
            records.append(values)
            rows.append(number)
            if len(records) >= chunk_rows:
                yield self._chunk(records, rows)
                records, rows = [], []
        if records:
            yield self._chunk(records, rows)

    def _chunk(self, records: list[tuple], rows: list[int]) -> SourceChunk:
        cols = {
            c: _cells([r[i] if i < len(r) else None for r in records], self._formats)
            for i, c in enumerate(self.columns)
        }
        return SourceChunk(pa.table(cols), np.array(rows, dtype=np.int64))


def _sheet_name(names: list[str], sheet: str | None, path: Path) -> str:
    """``sheet`` as a name, else as a number counted from 1 (as the tabs are shown); the first sheet when None."""
    if sheet is None:
        return names[0]
    if sheet in names:
        return sheet
    if sheet.strip().isdigit() and 1 <= int(sheet) <= len(names):
        return names[int(sheet) - 1]
    listed = ", ".join(f"{i} {name!r}" for i, name in enumerate(names, start=1))
    raise InputError(f"{path}: no sheet {sheet!r}; give --sheet a name or number of: {listed}.")


def _cells(values: list[object], formats: ValueFormats) -> pa.Array:
    """A column of cells as Excel typed them: dates or numbers when every cell holding a value is one, else text.

    Typed cells need no parsing. In a column that mixes them with text, they are written in ``formats`` (the
    decimal separator, the date format) so that they read back as the values they are.
    """
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, datetime) for v in present):
        return pa.array(values, pa.timestamp("us"))
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.array(values, pa.int64() if all(isinstance(v, int) for v in present) else pa.float64())
    return pa.array([_cell(v, formats) for v in values], pa.string())


def _cell(value: object, formats: ValueFormats = DEFAULT_FORMATS) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float) and formats.decimal is DecimalSeparator.COMMA:
        return repr(value).replace(".", ",")
    if isinstance(value, datetime) and formats.date_format and not formats.has_offset:
        return value.strftime(formats.date_format)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class ArrowSource(_NumberedBatches):
    """An in-memory pandas DataFrame or Arrow table."""

    def __init__(self, table: pa.Table, name: str):
        self._table = table
        self.name = name
        self.columns = _check_unique(list(table.column_names), name)
        self.total = table.num_rows

    def fingerprint(self) -> str:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, self._table.schema) as writer:
            writer.write_table(self._table)
        return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()

    def _batches(self, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        return iter(self._table.to_batches(max_chunksize=chunk_rows))


_SUFFIXES = {
    ".csv": CsvSource,
    ".tsv": CsvSource,
    ".txt": CsvSource,
    ".parquet": ParquetSource,
    ".jsonl": JsonLinesSource,
    ".ndjson": JsonLinesSource,
    ".xlsx": XlsxSource,
}


SUPPORTED_SUFFIXES = tuple(sorted(_SUFFIXES))
"""File name suffixes a source is opened by."""
_READ_OPTIONS = {"--delimiter": "delimited text", "--sheet": "XLSX workbooks", "--skip-rows": "delimited text and XLSX"}


def open_source(
    source: str | Path | pd.DataFrame | pa.Table,
    *,
    delimiter: str | None = None,
    sheet: str | None = None,
    skip_rows: int = 0,
    formats: ValueFormats = DEFAULT_FORMATS,
) -> Source:
    """Open a path (by suffix), a pandas DataFrame or an Arrow table as a chunked source.

    ``delimiter`` forces the field separator of delimited text (otherwise taken from the header line); ``sheet``
    picks the worksheet of an XLSX file (name, or number from 1); ``skip_rows`` lines (CSV) or rows (XLSX) above
    the header are skipped. ``formats`` writes the typed cells of an XLSX column that mixes them with text.
    """
    given = {"--delimiter": delimiter is not None, "--sheet": sheet is not None, "--skip-rows": skip_rows != 0}
    if isinstance(source, pd.DataFrame | pa.Table):
        _refuse([o for o, on in given.items() if on], "in-memory tables")
        if isinstance(source, pd.DataFrame):
            return ArrowSource(pa.Table.from_pandas(source, preserve_index=False), "<DataFrame>")
        return ArrowSource(source, "<Arrow table>")
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{path}: no such file. Check the path (relative paths start from {Path.cwd()}).")
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"{path}: unknown file type {path.suffix!r}; supported: {', '.join(sorted(_SUFFIXES))}.")
    applicable = {CsvSource: ("--delimiter", "--skip-rows"), XlsxSource: ("--sheet", "--skip-rows")}.get(kind, ())
    _refuse([o for o, on in given.items() if on and o not in applicable], f"{path.suffix} files")
    if skip_rows < 0:
        raise InputError(f"--skip-rows {skip_rows}: expected the number of lines above the header (0 or more).")
    if kind is CsvSource:
        if delimiter is not None and len(delimiter) != 1:
            raise InputError(f"--delimiter must be one character, got {delimiter!r} (use a real tab, e.g. $'\\t').")
        return CsvSource(path, delimiter, skip_rows)
    if kind is XlsxSource:
        return XlsxSource(path, sheet, skip_rows, formats)
    return kind(path)


def _refuse(options: list[str], kind: str) -> None:
    """Reading options given where they mean nothing: a message rather than silently ignoring them."""
    if options:
        option = options[0]
        raise InputError(f"{option} applies to {_READ_OPTIONS[option]}, not to {kind}; leave it out.")
