"""Invalid UTF-8 anywhere in a file rejects only the rows that hold it (bad_encoding), with their row number."""

from __future__ import annotations

import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.errors import InputError
from retain.ingest.utf8_guard import MARKER, Utf8Guard
from retain.workspace import Workspace

HEADER = b"order_id,customer_id,ordered_at,amount,status"
BAD_ENCODING = (
    "not valid UTF-8 text (each bad byte is shown as \ufffd); save the file as UTF-8, e.g. "
    "`iconv -f latin1 -t utf-8 in.csv > out.csv`, and ingest it again"
)
ROWS = 100_000


def _rejects(result) -> list[tuple[str, str, str, str, str]]:
    with result.rejects_path.open(newline="", encoding="utf-8") as f:
        return [(r["source_row"], r["column"], r["value"], r["reason"], r["message"]) for r in csv.DictReader(f)]


def _orders_csv(path, replace: dict[int, bytes]):
    """``ROWS`` orders (rows 2 .. ROWS + 1); ``replace`` puts other bytes on some rows."""
    lines = [HEADER] + [f"o{row},c{row % 97},2025-01-05,10,completed".encode() for row in range(2, ROWS + 2)]
    for row, line in replace.items():
        lines[row - 1] = line
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_a_bad_byte_far_past_the_sniffed_start_rejects_only_its_row(tmp_path):
    path = _orders_csv(
        tmp_path / "orders.csv",
        {
            50_000: b"o50000,M\xfcller,2025-01-05,10,completed",
            80_000: b"o80000,c1,2025-01-05,10,compl\xe9t\xe9",
            90_000: b"o90000,c1,2025-01-05,10,completed,\xff",  # a field too many *and* a bad byte
        },
    )
    assert path.read_bytes().index(b"\xfc") > 1_700_000  # far past the 64 KiB the header is read from
    ws = Workspace.init(tmp_path / "ws")
    result = ws.ingest("orders", path)

    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (ROWS, ROWS - 3, 3)
    assert result.rejects_by_reason == {"bad_encoding": 2, "wrong_field_count": 1}
    assert _rejects(result) == [
        ("50000", "customer_id", "M\ufffdller", "bad_encoding", BAD_ENCODING),
        ("80000", "status", "compl\ufffdt\ufffd", "bad_encoding", BAD_ENCODING),
        (
            "90000",
            "*",
            "o90000,c1,2025-01-05,10,completed,\ufffd",
            "wrong_field_count",
            "the line has a different number of fields than the header (expected 5 fields separated by ',')",
        ),
    ]
    count = ws.backend.to_pyarrow(ws.table("orders").count()).as_py()
    assert count == ROWS - 3


def test_a_bad_byte_in_the_first_data_row_is_a_row_reject_too(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(HEADER + b"\no1,M\xfcller,2025-01-01,1,completed\no2,c2,2025-01-01,1,completed\n")
    result = Workspace.init(tmp_path / "ws").ingest("orders", path)
    assert (result.rows_accepted, result.rows_rejected) == (1, 1)
    assert _rejects(result) == [("2", "customer_id", "M\ufffdller", "bad_encoding", BAD_ENCODING)]


def test_a_header_that_is_not_utf8_stops_the_ingest(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(HEADER + b",Stra\xdfe\no1,c1,2025-01-01,1,completed,x\n")
    with pytest.raises(InputError) as info:
        Workspace.init(tmp_path / "ws").ingest("orders", path)
    assert str(info.value) == (
        f"{path}: the header line is not UTF-8 text (column(s) 'Stra\ufffde'). Save the file as UTF-8 "
        "(e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`) and ingest it again."
    )


def test_characters_split_across_read_blocks_are_not_mistaken_for_bad_bytes(tmp_path):
    # ~4 MiB of two- and four-byte characters: the 1 MiB read blocks end inside characters.
    lines = [f"o{row},Ünal-😀-{row},2025-01-05,10,completed".encode() for row in range(2, ROWS + 2)]
    path = tmp_path / "orders.csv"
    path.write_bytes(b"\n".join([HEADER, *lines]) + b"\n")
    result = Workspace.init(tmp_path / "ws").ingest("orders", path)
    assert (result.rows_accepted, result.rows_rejected) == (ROWS, 0)


def test_the_guard_passes_valid_utf8_through_and_marks_each_bad_byte():
    data = "Ünal 😀 ok".encode() + b" \xff\xfe end \xe2\x82"
    guard = Utf8Guard()
    out = b"".join(guard(pa.py_buffer(data[i : i + 3])) for i in range(0, len(data), 3)) + guard(pa.py_buffer(b""))
    assert out.decode() == f"Ünal 😀 ok {MARKER}{MARKER} end {MARKER}{MARKER}"
    assert guard.replaced == 4


def test_jsonl_with_a_bad_byte_rejects_that_line_and_continues(tmp_path):
    record = {"customer_id": "c1", "event_type": "login", "occurred_at": "2025-01-05T10:00:00Z"}
    lines = [json.dumps({**record, "event_id": f"e{n}"}).encode() for n in range(1, 6001)]
    lines[4] = lines[4].replace(b'"c1"', b'"M\xfcller"')  # line 5, read when the columns are sampled
    lines[4999] = lines[4999].replace(b'"login"', b'"log\xffin"')  # line 5,000
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = Workspace.init(tmp_path / "ws").ingest("events", path)

    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (6000, 5998, 2)
    rejects = _rejects(result)
    assert [(row, column, reason, message) for row, column, _, reason, message in rejects] == [
        ("5", "*", "bad_encoding", BAD_ENCODING),
        ("5000", "*", "bad_encoding", BAD_ENCODING),
    ]
    assert rejects[1][2] == lines[4999].decode("utf-8", "replace")


def test_jsonl_unpaired_surrogate_escape_is_rejected_not_a_traceback(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"customer_id": "c1", "event_type": "login", "occurred_at": "2025-01-05T10:00:00Z"}\n'
        '{"customer_id": "\\udc80", "event_type": "login", "occurred_at": "2025-01-05T10:00:00Z"}\n'
        '{"customer_id": "\\ud83d\\ude00", "event_type": "login", "occurred_at": "2025-01-05T10:00:00Z"}\n'
    )
    ws = Workspace.init(tmp_path / "ws")
    result = ws.ingest("events", path)
    assert (result.rows_accepted, result.rows_rejected) == (2, 1)
    [(row, column, _, reason, message)] = _rejects(result)
    assert (row, column, reason) == ("2", "*", "bad_json")
    assert message.endswith("(an escape such as \\udc80 is half of a character (an unpaired surrogate), not text)")
    assert sorted(ws.backend.to_pyarrow(ws.table("events"))["customer_id"].to_pylist()) == ["c1", "😀"]


def test_the_cli_reports_bad_encoding_and_commits_the_rest(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(HEADER + b"\no1,c1,2025-01-01,1,completed\no2,Caf\xe9,2025-01-01,1,completed\n")
    Workspace.init(tmp_path / "ws")
    result = CliRunner().invoke(app, ["ingest", "orders", str(path), "-w", str(tmp_path / "ws")])
    flat = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "read 2 rows, accepted 1, rejected 1" in flat and "bad_encoding │ 1" in flat


def test_binary_text_columns_of_parquet_and_arrow_inputs_are_checked_the_same_way(tmp_path):
    table = pa.table(
        {
            "order_id": pa.array([b"o1", b"o2", b"o3"], pa.binary()),
            "customer_id": pa.array([b"c1", b"M\xfcller", "Zoë".encode()], pa.binary()),
            "ordered_at": ["2025-01-05"] * 3,
            "amount": [10.0, 20.0, 30.0],
            "status": ["completed"] * 3,
        }
    )
    pq.write_table(table, tmp_path / "orders.parquet")
    for name, source in (("parquet", tmp_path / "orders.parquet"), ("arrow", table)):
        ws = Workspace.init(tmp_path / f"ws-{name}")
        result = ws.ingest("orders", source)
        assert (result.rows_accepted, result.rows_rejected) == (2, 1), name
        assert _rejects(result) == [("2", "customer_id", "M\ufffdller", "bad_encoding", BAD_ENCODING)], name
        customers = ws.backend.to_pyarrow(ws.table("orders"))["customer_id"].to_pylist()
        assert sorted(customers) == ["Zoë", "c1"], name
