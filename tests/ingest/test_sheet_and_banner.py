"""--sheet picks a worksheet of an XLSX workbook (by name or number); --skip-rows skips banner lines above the
header, and rows keep the numbers the file or spreadsheet shows."""

from __future__ import annotations

from datetime import UTC, datetime

import openpyxl
import pandas as pd
import pytest

from retain.contract.formats import ValueFormats
from retain.errors import InputError
from retain.ingest import IngestOptions, IngestStatus, ingest


def _workbook(path, sheets: dict[str, list[list[object]]]):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def two_sheets(tmp_path):
    """A workbook whose first sheet is notes and whose second holds orders under two banner rows."""
    return _workbook(
        tmp_path / "book.xlsx",
        {
            "Notes": [["exported by the shop"], ["nothing else here"]],
            "Orders": [
                ["Orders export"],
                ["generated 2025-02-01"],
                ["order_id", "customer_id", "ordered_at", "amount", "status"],
                ["o1", "c1", datetime(2025, 1, 15, 12, 0), 10.5, "completed"],  # an Excel date cell
                ["o2", "c2", "16/01/2025 09:30", "7,25", "completed"],  # text cells, as some exports write them
                ["o3", "c3", "soon", 3, "completed"],
            ],
        },
    )


def _rows(result) -> list[tuple[int, str, str]]:
    frame = pd.read_csv(result.rejects_path, dtype={"source_row": int})
    return list(frame[["source_row", "column", "reason"]].itertuples(index=False, name=None))


@pytest.mark.parametrize("sheet", ["Orders", "2"])
def test_sheet_by_name_or_number_with_banner_rows(two_sheets, lake, lake_rows, sheet):
    formats = ValueFormats(date_format="%d/%m/%Y %H:%M", decimal=",", timezone="Europe/Berlin")
    result = ingest(lake, "orders", two_sheets, IngestOptions(sheet=sheet, skip_rows=2, formats=formats))

    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (3, 2, 1)
    got = lake_rows("orders").sort_by("order_id").to_pydict()
    assert got["order_id"] == ["o1", "o2"]
    # The date cell is a date already (no format to apply) but naive: Berlin winter time, +01:00.
    assert got["ordered_at"] == [datetime(2025, 1, 15, 11, tzinfo=UTC), datetime(2025, 1, 16, 8, 30, tzinfo=UTC)]
    assert got["amount"] == [10.5, 7.25]
    assert _rows(result) == [(6, "ordered_at", "bad_timestamp")]  # the spreadsheet's row 6


def test_the_first_sheet_is_the_default_and_an_unknown_sheet_lists_them(two_sheets, lake):
    with pytest.raises(InputError, match="does not fit table orders"):
        ingest(lake, "orders", two_sheets)  # the Notes sheet
    with pytest.raises(InputError, match=r"no sheet 'Order'; give --sheet a name or number of: 1 'Notes', 2 'Orders'"):
        ingest(lake, "orders", two_sheets, IngestOptions(sheet="Order"))
    with pytest.raises(InputError, match=r"no sheet '3'"):
        ingest(lake, "orders", two_sheets, IngestOptions(sheet="3"))


def test_sheet_and_banner_rows_are_part_of_the_fingerprint(tmp_path, lake):
    header = ["order_id", "customer_id", "ordered_at", "amount", "status"]
    path = _workbook(
        tmp_path / "two.xlsx",
        {
            "A": [header, ["o1", "c1", "2025-01-01", 1, "completed"]],
            "B": [header, ["o2", "c1", "2025-01-01", 2, "completed"]],
        },
    )
    first = ingest(lake, "orders", path)
    by_number = ingest(lake, "orders", path, IngestOptions(sheet="1"))  # the same sheet as the default
    second = ingest(lake, "orders", path, IngestOptions(sheet="B"))
    assert first.status is IngestStatus.COMMITTED
    assert by_number.status is IngestStatus.ALREADY_INGESTED
    assert second.status is IngestStatus.COMMITTED and second.fingerprint != first.fingerprint


def test_csv_banner_lines_keep_the_files_line_numbers(tmp_path, lake, lake_rows):
    path = tmp_path / "export.csv"
    path.write_text(
        "Shop export; all orders\n"
        "\n"  # an empty banner line counts too
        "order_id;customer_id;ordered_at;amount;status\n"
        "o1;c1;2025-01-01;1,5;completed\n"
        "o2;c1;2025-01-01;1,5\n"
        "o3;c1;yesterday;2;completed\n"
        "o4;c1;2025-01-02;2;completed\n"
    )
    result = ingest(lake, "orders", path, IngestOptions(skip_rows=2, formats=ValueFormats(decimal=",")))

    assert lake_rows("orders").sort_by("order_id").to_pydict()["amount"] == [1.5, 2.0]
    assert _rows(result) == [(5, "*", "wrong_field_count"), (6, "ordered_at", "bad_timestamp")]
    again = ingest(lake, "orders", path, IngestOptions(skip_rows=2, formats=ValueFormats(decimal=",")))
    assert again.status is IngestStatus.ALREADY_INGESTED


def test_skipping_every_line_and_options_for_other_kinds_of_file_are_refused(tmp_path, lake):
    path = tmp_path / "o.csv"
    path.write_text("banner\norder_id\n")
    with pytest.raises(InputError, match="--skip-rows 2 leaves no header line"):
        ingest(lake, "orders", path, IngestOptions(skip_rows=2))
    with pytest.raises(InputError, match=r"--sheet applies to XLSX workbooks, not to \.csv files"):
        ingest(lake, "orders", path, IngestOptions(sheet="1"))
    jsonl = tmp_path / "o.jsonl"
    jsonl.write_text('{"order_id": "o1"}\n')
    with pytest.raises(InputError, match=r"--skip-rows applies to delimited text and XLSX, not to \.jsonl files"):
        ingest(lake, "orders", jsonl, IngestOptions(skip_rows=1))
