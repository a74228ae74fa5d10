"""Rejects files are opened in spreadsheets: a value that starts like a formula is written as text (OWASP)."""

from __future__ import annotations

import csv

import pyarrow as pa

from retain.contract.csv_safe import neutralise, neutralise_table, neutralise_value
from retain.workspace import Workspace

HEADER = "order_id,customer_id,ordered_at,amount,status\n"


def _rejects(path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_formula_in_a_rejected_value_is_written_as_text(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + 'o1,c1,2025-01-05,10,completed\no2,c1,2025-01-05,10,"=HYPERLINK(""http://x"")"\n'
        "o3,c1,2025-01-05,-12.50,completed\no4,c1,2025-01-05,10,@SUM(A1)\no5,c1,2025-01-05,+1,+cmd\n"
    )
    result = Workspace.init(tmp_path / "ws").ingest("orders", path)

    assert (result.rows_accepted, result.rows_rejected) == (1, 4)
    rows = [(r["source_row"], r["column"], r["value"], r["reason"]) for r in _rejects(result.rejects_path)]
    assert rows == [
        ("3", "status", '\'=HYPERLINK("http://x")', "not_allowed"),
        ("4", "amount", "'-12.50", "negative_amount"),
        ("5", "status", "'@SUM(A1)", "not_allowed"),
        ("6", "status", "'+cmd", "not_allowed"),
    ]
    assert '"\'=HYPERLINK(""http://x"")"' in result.rejects_path.read_text()


def test_neutralise_prefixes_exactly_the_owasp_formula_starts():
    values = ["=1+1", "+1", "-12.50", "@A1", "\tx", "\rx", "ok", "a=b", " =x", "'=x", "", None]
    expected = ["'=1+1", "'+1", "'-12.50", "'@A1", "'\tx", "'\rx", "ok", "a=b", " =x", "'=x", "", None]
    assert neutralise(pa.array(values)).to_pylist() == expected
    assert [neutralise_value(v) for v in values] == expected
    assert neutralise(pa.chunked_array([values[:3], values[3:]])).to_pylist() == expected


def test_neutralise_table_leaves_numbers_alone():
    table = pa.table({"source_row": [2], "value": ["=x"]})
    assert neutralise_table(table).to_pylist() == [{"source_row": 2, "value": "'=x"}]
    assert neutralise(pa.array([-1, 2])).to_pylist() == [-1, 2]
