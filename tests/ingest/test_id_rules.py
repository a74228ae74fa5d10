"""Ids are bounded (255 characters, the state DB's VARCHAR) and free of control characters; no text holds NUL."""

from __future__ import annotations

import csv

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.contract.tables import TABLES
from retain.workspace import Workspace

HEADER = b"order_id,customer_id,ordered_at,amount,status,discount_code\n"
GOOD = b"o1,c1,2025-01-05,10,completed,\n"
TOO_LONG = "longer than the column allows (ids have at most 255 characters) ({column} has at most 255 characters)"
ID_CONTROL = (
    "contains a control character the column cannot hold (ids: none at all, no NUL, tab or line break; other "
    "text: no NUL); remove it in the source ({column} may contain no character U+0000-U+001F or U+007F-U+009F)"
)
TEXT_NUL = (
    "contains a control character the column cannot hold (ids: none at all, no NUL, tab or line break; other "
    "text: no NUL); remove it in the source (discount_code may not contain NUL (U+0000))"
)


def _rejects(result) -> list[tuple[str, str, str, str, str]]:
    with result.rejects_path.open(newline="", encoding="utf-8") as f:
        return [(r["source_row"], r["column"], r["value"], r["reason"], r["message"]) for r in csv.DictReader(f)]


def _ids(ws: Workspace, table: str, column: str) -> list[str]:
    return sorted(ws.backend.to_pyarrow(ws.table(table))[column].to_pylist())


def test_every_id_column_of_every_table_is_bounded_and_clean():
    ids = {c.name: c for spec in TABLES.values() for c in spec.columns if c.name.endswith("_id")}
    assert sorted(ids) == ["customer_id", "event_id", "order_id", "response_id", "subscription_id", "ticket_id"]
    for spec in TABLES.values():
        for column in spec.columns:
            if column.name.endswith("_id"):
                assert (column.max_length, column.no_control_characters) == (255, True), (spec.name, column.name)
                assert column.rules[-2:] == ["at most 255 characters", "no control characters"]


CASES = [
    # (bad line, column, value in the rejects file, reason, message)
    (b"o" * 256 + b",c1,2025-01-05,10,completed,\n", "order_id", "o" * 200, "too_long", TOO_LONG),
    (b"o2,c\x001,2025-01-05,10,completed,\n", "customer_id", "c\u24001", "control_character", ID_CONTROL),
    (b"o2,c\t1,2025-01-05,10,completed,\n", "customer_id", "c\t1", "control_character", ID_CONTROL),
    (b'o2,"c\n1",2025-01-05,10,completed,\n', "customer_id", "c\n1", "control_character", ID_CONTROL),
    (b"o\x1b2,c1,2025-01-05,10,completed,\n", "order_id", "o\x1b2", "control_character", ID_CONTROL),
    (b"o2\x7f,c1,2025-01-05,10,completed,\n", "order_id", "o2\x7f", "control_character", ID_CONTROL),
    ("o2\u0080x,c1,2025-01-05,10,completed,\n".encode(), "order_id", "o2\x80x", "control_character", ID_CONTROL),
    (b"o2,c1,2025-01-05,10,completed,WELCOME\x0010\n", "discount_code", "WELCOME\u240010", "control_character",
     TEXT_NUL),
]  # fmt: skip


@pytest.mark.parametrize(("line", "column", "value", "reason", "message"), CASES)
def test_a_bad_id_or_a_nul_rejects_the_row_and_the_good_rows_commit(tmp_path, line, column, value, reason, message):
    path = tmp_path / "orders.csv"
    path.write_bytes(HEADER + GOOD + line + b"o3,c3,2025-01-06,5,completed,\n")
    ws = Workspace.init(tmp_path / "ws")
    result = ws.ingest("orders", path)

    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (3, 2, 1)
    assert result.rejects_by_reason == {reason: 1}
    assert _rejects(result) == [("3", column, value, reason, message.format(column=column))]
    assert _ids(ws, "orders", "order_id") == ["o1", "o3"]


def test_limits_count_characters_and_allow_what_ids_may_hold(tmp_path):
    # 255 characters of two bytes each fit (VARCHAR counts characters); surrounding whitespace is trimmed first;
    # tabs and line breaks are fine in ordinary text.
    longest = "ü" * 255
    path = tmp_path / "orders.csv"
    path.write_bytes(
        HEADER + f"{longest},c1,2025-01-05,10,completed,\n".encode() + b'\to2 ,c1,2025-01-05,10,completed,"A\tB\nC"\n'
    )
    ws = Workspace.init(tmp_path / "ws")
    result = ws.ingest("orders", path)
    assert (result.rows_accepted, result.rows_rejected, result.rejects_path) == (2, 0, None)
    rows = ws.backend.to_pyarrow(ws.table("orders")).select(["order_id", "discount_code"]).to_pylist()
    assert sorted(rows, key=lambda r: r["order_id"]) == [
        {"order_id": "o2", "discount_code": "A\tB\nC"},
        {"order_id": longest, "discount_code": None},
    ]


def test_in_memory_tables_meet_the_same_rules(tmp_path):
    events = pa.table(
        {
            "event_id": ["e1", "e\x002", None, "x" * 256],
            "customer_id": ["c1", "c1", "c\n2", "c1"],
            "event_type": ["login"] * 4,
            "occurred_at": ["2025-01-05T10:00:00Z"] * 4,
        }
    )
    ws = Workspace.init(tmp_path / "ws")
    result = ws.ingest("events", events)
    assert (result.rows_accepted, result.rows_rejected) == (1, 3)
    assert [(row, column, reason) for row, column, _, reason, _ in _rejects(result)] == [
        ("2", "event_id", "control_character"),
        ("3", "customer_id", "control_character"),
        ("4", "event_id", "too_long"),
    ]
    assert _ids(ws, "events", "event_id") == ["e1"]


def test_the_cli_counts_the_rejects_by_their_new_reasons(tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_bytes(
        b"ticket_id,customer_id,opened_at,is_complaint\nt1,c1,2025-01-05,no\n"
        + b"t" * 300
        + b",c1,2025-01-05,no\nt3,c\x003,2025-01-05,yes\n"
    )
    Workspace.init(tmp_path / "ws")
    result = CliRunner().invoke(app, ["ingest", "tickets", str(path), "-w", str(tmp_path / "ws")])
    flat = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "read 3 rows, accepted 1, rejected 2" in flat
    assert "control_character │ 1" in flat and "too_long │ 1" in flat
