"""JSON Lines keys first seen late in the file (line 5,000) are neither dropped nor let past the column check."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from retain.cli.main import app
from retain.errors import InputError, SchemaMismatchError
from retain.ingest import open_source
from retain.workspace import Workspace

LINES = 6_000
LATE = 5_000


def _orders_jsonl(path, late: dict[str, object], *, drop_before: str | None = None):
    """Orders o1..o6000 on lines 1..6000; from line 5,000 on each line also has the ``late`` keys."""
    with path.open("w") as f:
        for n in range(1, LINES + 1):
            record = {"order_id": f"o{n}", "customer_id": "c1", "ordered_at": "2025-01-05T10:00:00Z", "amount": 10}
            record["status"] = "completed"
            if drop_before and n < LATE:
                del record[drop_before]
            if n >= LATE:
                record.update(late)
            f.write(json.dumps(record) + "\n")
    return path


def _by_order(ws: Workspace, table: str, column: str) -> dict[int, object]:
    rows = ws.backend.to_pyarrow(ws.table(table)).to_pylist()
    key = "order_id" if table == "orders" else "customer_id"
    return {int(r[key][1:]): r[column] for r in rows}


def test_a_canonical_key_first_seen_on_line_5000_is_kept_from_there_on(tmp_path):
    path = _orders_jsonl(tmp_path / "orders.jsonl", {"discount_code": "WELCOME10"})
    ws = Workspace.init(tmp_path / "ws")
    result = ws.ingest("orders", path)
    assert (result.rows_accepted, result.rows_rejected) == (LINES, 0)
    codes = _by_order(ws, "orders", "discount_code")
    assert {codes[n] for n in range(1, LATE)} == {None}
    assert {codes[n] for n in range(LATE, LINES + 1)} == {"WELCOME10"}


def test_a_mapped_key_first_seen_late_is_found_by_the_mapping(tmp_path):
    path = _orders_jsonl(tmp_path / "orders.jsonl", {"coupon": "SPRING"})
    ws = Workspace.init(tmp_path / "ws")
    result = ws.ingest("orders", path, mapping={"discount_code": "coupon"})
    assert result.rows_accepted == LINES
    codes = _by_order(ws, "orders", "discount_code")
    assert (codes[LATE - 1], codes[LATE], codes[LINES]) == (None, "SPRING", "SPRING")


def test_an_unknown_key_first_seen_late_stops_the_ingest_naming_key_and_line(tmp_path):
    path = _orders_jsonl(tmp_path / "orders.jsonl", {"colour": "red"})
    ws = Workspace.init(tmp_path / "ws")
    with pytest.raises(SchemaMismatchError) as info:
        ws.ingest("orders", path)
    assert info.value.unknown == ["colour"] and info.value.missing == []
    assert str(info.value) == (
        f"{path} does not fit table orders: unknown column(s): colour (first seen on line 5,000). Expected "
        "columns: order_id, customer_id, ordered_at, amount, status, items, discount_code, channel (required: "
        "order_id, customer_id, ordered_at, amount, status). Rename them with --map TARGET=SOURCE, fill a constant "
        "with --set COLUMN=VALUE. Nothing was written."
    )
    assert not [p for p in ws.lake.root.rglob("*") if p.is_file()]
    assert ws.runs(table="orders") == []


def test_the_cli_exits_2_for_a_late_unknown_key(tmp_path):
    path = _orders_jsonl(tmp_path / "orders.jsonl", {"colour": "red"})
    Workspace.init(tmp_path / "ws")
    result = CliRunner().invoke(app, ["ingest", "orders", str(path), "-w", str(tmp_path / "ws")])
    assert result.exit_code == 2
    assert "unknown column(s): colour (first seen on line 5,000)" in " ".join(result.output.split())


def test_keep_extra_packs_a_late_unknown_key_into_attributes(tmp_path):
    path = tmp_path / "customers.jsonl"
    with path.open("w") as f:
        for n in range(1, LINES + 1):
            record = {"customer_id": f"c{n}", "created_at": "2025-01-01"}
            if n >= LATE:
                record["colour"] = "red"
            f.write(json.dumps(record) + "\n")
    ws = Workspace.init(tmp_path / "ws")
    result = ws.ingest("customers", path, keep_extra=True)
    assert (result.rows_accepted, result.rows_rejected) == (LINES, 0)
    attributes = _by_order(ws, "customers", "attributes")
    assert (attributes[1], attributes[LATE - 1]) == ("{}", "{}")
    assert {attributes[n] for n in range(LATE, LINES + 1)} == {'{"colour": "red"}'}


def test_a_required_key_missing_from_the_early_lines_rejects_those_rows_not_the_file(tmp_path):
    path = _orders_jsonl(tmp_path / "orders.jsonl", {}, drop_before="amount")
    ws = Workspace.init(tmp_path / "ws")
    result = ws.ingest("orders", path)
    assert (result.rows_accepted, result.rows_rejected) == (LINES - LATE + 1, LATE - 1)
    assert result.rejects_by_reason == {"missing_value": LATE - 1}


def test_a_key_added_while_the_file_is_ingested_stops_it(tmp_path):
    path = _orders_jsonl(tmp_path / "orders.jsonl", {})
    source = open_source(path)  # the first pass has read the keys
    with path.open("a") as f:
        f.write(json.dumps({"order_id": "o9", "customer_id": "c1", "late": 1}) + "\n")
    with pytest.raises(InputError) as info:
        list(source.chunks(1_000))
    assert str(info.value) == (
        f"{path}: line 6,001 has key(s) late that were not there when the file was first read: the file changed "
        "during the ingest. Nothing was written; ingest it again once it is complete."
    )
