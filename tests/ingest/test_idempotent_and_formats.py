"""Re-ingest adds nothing, newer versions win, and every input format gives the same rows."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retain.errors import SchemaMismatchError
from retain.ingest import IngestOptions, IngestStatus, ingest
from retain.lake import batch_metadata

ROWS = [
    ("o1", "c1", "2025-01-05T10:00:00Z", "10.5", "completed"),
    ("o2", "c2", "2025-01-06T11:30:00Z", "20", "completed"),
    ("o3", "c1", "2025-02-01T09:15:00Z", "-4.25", "refunded"),
]
HEADER = ("order_id", "customer_id", "ordered_at", "amount", "status")


def _csv(path, delimiter=",", bom=False, rows=ROWS):
    text = "\n".join(delimiter.join(r) for r in [HEADER, *rows]) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def _expected() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "customer_id": ["c1", "c2", "c1"],
            "ordered_at": pd.to_datetime([r[2] for r in ROWS], utc=True).as_unit("us"),
            "amount": [10.5, 20.0, -4.25],
            "status": ["completed", "completed", "refunded"],
        }
    )


def _orders(lake_rows) -> pd.DataFrame:
    got = lake_rows("orders").to_pandas().sort_values("order_id").reset_index(drop=True)
    return got[list(HEADER)]


def test_same_file_twice_adds_nothing(tmp_path, lake, lake_rows):
    path = _csv(tmp_path / "o.csv")
    first = ingest(lake, "orders", path)
    again = ingest(lake, "orders", path)
    assert first.status is IngestStatus.COMMITTED and first.rows_accepted == 3
    assert again.status is IngestStatus.ALREADY_INGESTED and again.batch_id == first.batch_id
    assert len(lake.batch_files("orders")) == 1
    assert len(_orders(lake_rows)) == 3
    meta = batch_metadata(first.batch_path)
    assert meta["rows_accepted"] == 3 and meta["fingerprint"] == first.fingerprint


def test_newer_version_of_a_key_replaces_the_older_for_readers(tmp_path, lake, lake_rows):
    ingest(lake, "orders", _csv(tmp_path / "a.csv"))
    changed = [
        ("o2", "c2", "2025-01-06T11:30:00Z", "25", "canceled"),
        ("o4", "c3", "2025-03-01T00:00:00Z", "1", "completed"),
    ]
    ingest(lake, "orders", _csv(tmp_path / "b.csv", rows=changed))
    got = _orders(lake_rows).set_index("order_id")
    assert list(got.index) == ["o1", "o2", "o3", "o4"]
    assert got.loc["o2", "amount"] == 25 and got.loc["o2", "status"] == "canceled"


def test_within_one_file_the_last_row_of_a_key_wins(tmp_path, lake, lake_rows):
    rows = [*ROWS, ("o1", "c1", "2025-01-05T10:00:00Z", "11", "completed")]
    ingest(lake, "orders", _csv(tmp_path / "a.csv", rows=rows))
    got = _orders(lake_rows).set_index("order_id")
    assert got.loc["o1", "amount"] == 11 and len(got) == 3


@pytest.mark.parametrize(("delimiter", "bom"), [(",", False), (";", True), ("\t", False), ("|", True)])
def test_csv_any_delimiter_with_or_without_bom(tmp_path, lake, lake_rows, delimiter, bom):
    result = ingest(lake, "orders", _csv(tmp_path / "o.csv", delimiter, bom))
    assert result.rows_accepted == 3 and result.rows_rejected == 0
    pd.testing.assert_frame_equal(_orders(lake_rows), _expected())


def test_parquet_jsonl_xlsx_dataframe_and_arrow_give_the_same_rows(tmp_path, lake_rows, lake):
    frame = pd.DataFrame(ROWS, columns=HEADER)
    typed = _expected()
    parquet = tmp_path / "o.parquet"
    pq.write_table(pa.Table.from_pandas(typed, preserve_index=False), parquet)
    jsonl = tmp_path / "o.jsonl"
    jsonl.write_text("\n".join(json.dumps(dict(zip(HEADER, r, strict=True))) for r in ROWS) + "\n")
    xlsx = tmp_path / "o.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for r in ROWS:
        sheet.append([*r[:3], float(r[3]), r[4]])
    book.save(xlsx)
    for source in (parquet, jsonl, xlsx, frame, pa.Table.from_pandas(typed, preserve_index=False)):
        lake.root = tmp_path / f"lake-{id(source)}"
        result = ingest(lake, "orders", source)
        assert (result.rows_accepted, result.rows_rejected) == (3, 0), source
        pd.testing.assert_frame_equal(_orders(lake_rows), typed, obj=str(source))


def test_jsonl_line_that_is_not_an_object_is_rejected_with_its_line(tmp_path, lake):
    path = tmp_path / "o.jsonl"
    good = json.dumps(dict(zip(HEADER, ROWS[0], strict=True)))
    path.write_text(good + "\n[1, 2]\n{broken\n")
    result = ingest(lake, "orders", path)
    assert (result.rows_accepted, result.rows_rejected) == (1, 2)
    rejects = pd.read_csv(result.rejects_path)
    assert rejects["source_row"].tolist() == [2, 3] and set(rejects["reason"]) == {"bad_json"}


def test_explicit_delimiter_is_used_instead_of_detection(tmp_path, lake):
    path = _csv(tmp_path / "o.csv")
    with pytest.raises(SchemaMismatchError) as info:
        ingest(lake, "orders", path, IngestOptions(delimiter=";"))
    assert info.value.unknown == [",".join(HEADER)]
    assert ingest(lake, "orders", path, IngestOptions(delimiter=",")).rows_accepted == 3


def test_single_batch_with_distinct_keys_is_read_without_the_latest_version_window(tmp_path, lake, duck, lake_rows):
    from retain.lake import read_table

    first = ingest(lake, "orders", _csv(tmp_path / "a.csv"))
    expr = read_table(duck, lake, "orders")
    assert "row_number" not in str(duck.compile(expr)).lower()
    cache = first.batch_path.with_name(first.batch_path.name + ".keys.json")
    assert json.loads(cache.read_text()) == {"unique": True, "rows": 3, "keys": 3}

    rows = [*ROWS, ("o1", "c1", "2025-01-05T10:00:00Z", "11", "completed")]
    lake.root = tmp_path / "dupes"
    ingest(lake, "orders", _csv(tmp_path / "b.csv", rows=rows))
    assert "row_number" in str(duck.compile(read_table(duck, lake, "orders"))).lower()
    assert lake_rows("orders").num_rows == 3
