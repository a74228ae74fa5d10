"""JSON values are strict (no NaN/Infinity) and bounded (32 levels): a hostile value rejects its row, not the file."""

from __future__ import annotations

import csv
import json

import pyarrow as pa
import pytest

from retain.contract.strict_json import MAX_JSON_DEPTH, JsonRejected, loads_strict
from retain.ingest import open_source
from retain.workspace import Workspace

BAD_JSON = (
    'not a JSON object such as {"plan": "pro"} (strict JSON: no NaN or Infinity, objects and arrays nested at most '
    "32 levels)"
)
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000
DEEP_ARRAY = '{"a": ' + "[" * 10_000 + "]" * 10_000 + "}"


def _nested(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def _rejects(result) -> list[tuple[str, str, str, str]]:
    with result.rejects_path.open(newline="", encoding="utf-8") as f:
        return [(r["source_row"], r["column"], r["reason"], r["message"]) for r in csv.DictReader(f)]


def _customers_csv(path, attributes: list[str]):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["customer_id", "created_at", "attributes"])
        for i, value in enumerate(attributes, start=1):
            writer.writerow([f"c{i}", "2025-01-01", value])
    return path


def test_nesting_limit_is_32_levels():
    assert MAX_JSON_DEPTH == 32
    assert loads_strict(_nested(32)) is not None
    with pytest.raises(JsonRejected, match=r"^nested deeper than 32 levels$"):
        loads_strict(_nested(33))
    # Brackets inside strings are text, not nesting.
    assert loads_strict(json.dumps({"s": "[" * 100})) == {"s": "[" * 100}


def test_deep_and_non_finite_json_reject_their_rows_and_the_rest_commits(tmp_path):
    values = [
        '{"plan": "pro"}',
        DEEP_OBJECT,
        DEEP_ARRAY,
        '{"score": NaN}',
        '{"score": Infinity}',
        '{"score": [-Infinity]}',
        _nested(MAX_JSON_DEPTH),
        _nested(MAX_JSON_DEPTH + 1),
        "",
    ]
    ws = Workspace.init(tmp_path / "ws")
    result = ws.ingest("customers", _customers_csv(tmp_path / "customers.csv", values))

    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (9, 3, 6)
    assert result.rejects_by_reason == {"bad_json": 6}
    assert _rejects(result) == [(str(row), "attributes", "bad_json", BAD_JSON) for row in (3, 4, 5, 6, 7, 9)]
    kept = ws.backend.to_pyarrow(ws.table("customers")).sort_by("customer_id")
    assert kept["customer_id"].to_pylist() == ["c1", "c7", "c9"]
    assert kept["attributes"].to_pylist() == ['{"plan": "pro"}', _nested(MAX_JSON_DEPTH), None]


def test_event_properties_from_an_arrow_table_are_checked_the_same_way(tmp_path):
    events = pa.table(
        {
            "customer_id": ["c1", "c1", "c1"],
            "event_type": ["login"] * 3,
            "occurred_at": ["2025-01-05T10:00:00Z", "2025-01-05T11:00:00Z", "2025-01-05T12:00:00Z"],
            "properties": ['{"feature": "reports"}', '{"ms": NaN}', DEEP_ARRAY],
        }
    )
    result = Workspace.init(tmp_path / "ws").ingest("events", events)
    assert (result.rows_accepted, result.rows_rejected) == (1, 2)
    assert _rejects(result) == [("2", "properties", "bad_json", BAD_JSON), ("3", "properties", "bad_json", BAD_JSON)]


def test_jsonl_deep_or_nan_lines_are_rejected_with_their_line_number_and_the_file_continues(tmp_path):
    line = {"customer_id": "c1", "event_type": "login", "occurred_at": "2025-01-05T10:00:00Z"}
    deep = json.dumps(line)[:-1] + ', "properties": ' + DEEP_OBJECT + "}"
    path = tmp_path / "events.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({**line, "event_id": "e1"}),
                deep,  # within the lines read for the column names
                json.dumps({**line, "event_id": "e3"}).replace('"e3"', '"e3", "ms": NaN'),
                json.dumps({**line, "event_id": "e4"}).replace('"e4"', '"e4", "ms": -Infinity'),
                json.dumps({**line, "event_id": "e5", "properties": json.loads(_nested(MAX_JSON_DEPTH - 1))}),
                json.dumps({**line, "event_id": "e6"}),
            ]
        )
        + "\n"
    )
    ws = Workspace.init(tmp_path / "ws")
    result = ws.ingest("events", path)

    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (6, 3, 3)
    assert _rejects(result) == [
        ("2", "*", "bad_json", f"{BAD_JSON} (nested deeper than 32 levels)"),
        ("3", "*", "bad_json", f"{BAD_JSON} (NaN is not JSON; write null or a number)"),
        ("4", "*", "bad_json", f"{BAD_JSON} (-Infinity is not JSON; write null or a number)"),
    ]
    kept = ws.backend.to_pyarrow(ws.table("events")).sort_by("event_id")
    assert kept["event_id"].to_pylist() == ["e1", "e5", "e6"]


def test_keep_extra_with_nan_text_packs_strict_json(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,created_at,score,balance\nc1,2025-01-01,nan,1.5\nc2,2025-01-01,inf,2\n")
    ws = Workspace.init(tmp_path / "ws")
    result = ws.ingest("customers", path, keep_extra=True)
    assert (result.rows_accepted, result.rows_rejected) == (2, 0)
    kept = ws.backend.to_pyarrow(ws.table("customers")).sort_by("customer_id")
    assert [json.loads(a) for a in kept["attributes"].to_pylist()] == [
        {"score": "nan", "balance": 1.5},
        {"score": "inf", "balance": 2.0},
    ]


def test_jsonl_bad_lines_count_towards_the_chunk_size(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"customer_id": "c1"}\n' + "".join(f'{{"n": {i}, "x": NaN}}\n' for i in range(25)))
    chunks = list(open_source(path).chunks(10))
    assert [(len(c.rows), c.rejected_rows) for c in chunks] == [(1, 9), (0, 10), (0, 6)]
    assert chunks[1].rejects.column("source_row").to_pylist() == list(range(11, 21))
