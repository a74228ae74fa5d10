"""``accept_facts`` and ``flush_inbox`` on hand-written facts: exact outcomes and reasons, duplicates, the same
verdicts and values as a file ingest, later versions winning, re-flushes that change no mart, and an event
playbook firing from the inbox without a refresh."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from mart_compare import assert_same_marts

from retain.clock import FixedClock
from retain.errors import InputError
from retain.services import current_snapshot, refresh
from retain.services.live_facts import (
    MAX_FACTS_PER_CALL,
    FactStatus,
    accept_facts,
    flush_and_fire,
    flush_inbox,
    pending_facts,
)
from retain.state.tables import fact_inbox, playbook_enrolments
from retain.workspace import Workspace

NOW = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)
ORDER = {
    "order_id": "o1",
    "customer_id": "c1",
    "ordered_at": "2025-03-01T10:00:00Z",
    "amount": 12.5,
    "status": "completed",
    "items": 2,
}
ORDERS = [
    ORDER,
    # The same fact written differently: same normalised values, so a duplicate.
    {**ORDER, "ordered_at": "2025-03-01 10:00", "amount": "12.50", "status": "Completed", "items": 2.0},
    # Five problems in one row.
    {"order_id": "o2", "customer_id": "c\t2", "ordered_at": "01/03/2025", "amount": -5, "status": "open", "items": 1.5},
    {**ORDER, "order_id": "o3", "colour": "red"},
    42,
    {"order_id": "o4"},
    # A new version of o1: refunded. Not a duplicate: it replaces o1 once flushed.
    {**ORDER, "status": "refunded", "amount": -12.5},
]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "shop", clock=FixedClock(NOW))


def _problems(outcome) -> list[tuple[str, str, str | None]]:
    return [(p.column, p.reason, p.found) for p in outcome.problems]


def test_each_fact_is_accepted_duplicate_or_rejected_with_every_reason(ws):
    result = accept_facts(ws, "orders", ORDERS)
    assert [f.status for f in result.facts] == [
        FactStatus.ACCEPTED,
        FactStatus.DUPLICATE,
        FactStatus.REJECTED,
        FactStatus.REJECTED,
        FactStatus.REJECTED,
        FactStatus.REJECTED,
        FactStatus.ACCEPTED,
    ]
    assert (result.accepted, result.duplicates, result.rejected) == (2, 1, 4)
    assert result.facts[0].key == result.facts[1].key == result.facts[6].key == {"order_id": "o1"}

    # Every problem of the row, in the contract's column order, then the rules across columns.
    assert _problems(result.facts[2]) == [
        ("customer_id", "control_character", "c\t2"),
        ("ordered_at", "bad_timestamp", "01/03/2025"),
        ("status", "not_allowed", "open"),
        ("items", "bad_integer", "1.5"),
        ("amount", "negative_amount", "-5"),
    ]
    status = next(p for p in result.facts[2].problems if p.column == "status")
    assert status.expected == "not one of the allowed values (expected one of completed, refunded, canceled)"

    (unknown,) = result.facts[3].problems
    assert (unknown.column, unknown.reason, unknown.found) == ("colour", "unknown_column", "red")
    assert "columns of orders: order_id, customer_id, ordered_at, amount, status, items, discount_code, channel" in (
        unknown.expected
    )
    assert "orders has no JSON column for other fields" in unknown.expected
    assert _problems(result.facts[4]) == [("*", "bad_json", "42")]
    assert sorted(_problems(result.facts[5])) == [
        ("amount", "missing_value", None),
        ("customer_id", "missing_value", None),
        ("ordered_at", "missing_value", None),
        ("status", "missing_value", None),
    ]
    assert pending_facts(ws) == {"orders": 2}

    again = accept_facts(ws, "orders", [ORDERS[6], ORDERS[0], ORDERS[1]])
    assert [f.status for f in again.facts] == [FactStatus.DUPLICATE] * 3
    assert pending_facts(ws) == {"orders": 2}


def test_unknown_keys_go_into_the_extras_column_where_the_table_has_one(ws):
    login = {"customer_id": "c1", "event_type": "login", "occurred_at": "2025-03-01T08:00:00Z"}
    result = accept_facts(
        ws,
        "events",
        [
            {**login, "feature": "reports", "seats": 3},
            {**login, "properties": {"a": 1}, "feature": "reports"},  # sets properties itself: cannot merge
        ],
    )
    assert [f.status for f in result.facts] == [FactStatus.ACCEPTED, FactStatus.REJECTED]
    (problem,) = result.facts[1].problems
    assert (problem.column, problem.reason) == ("feature", "unknown_column")
    assert "other fields go into properties only when the object does not set it itself" in problem.expected
    strict = accept_facts(ws, "events", [{**login, "feature": "x"}], keep_extra=False)
    assert strict.facts[0].status is FactStatus.REJECTED
    assert "put other fields into properties as a JSON object" in strict.facts[0].problems[0].expected

    flush_inbox(ws)
    (row,) = ws.backend.to_pyarrow(ws.table("events")).to_pylist()
    assert row["properties"] == '{"feature": "reports", "seats": 3}'
    assert row["event_id"] == result.facts[0].key["event_id"] and row["event_id"].startswith("h")


def test_live_and_file_ingest_give_the_same_verdicts_and_values(ws, tmp_path):
    """The facts as one JSON Lines file (line n = fact n-1): same rejects per row, same rows in the lake."""
    objects = [o for o in ORDERS if isinstance(o, dict) and "colour" not in o]  # a file refuses these whole
    objects = [
        *objects,
        {
            "order_id": "o5",
            "customer_id": 7,
            "ordered_at": "2025-03-01T11:00:00+02:00",
            "amount": 3,
            "status": "canceled",
            "channel": "app",
        },
    ]
    live = accept_facts(ws, "orders", objects)
    jsonl = tmp_path / "orders.jsonl"
    jsonl.write_text("".join(json.dumps(o) + "\n" for o in objects))
    other = Workspace.init(tmp_path / "files", clock=FixedClock(NOW))
    ingested = other.ingest("orders", jsonl)

    rejects = _read_rejects(ingested.rejects_path)
    live_rejects = {f.index + 1: sorted((p.column, p.reason) for p in f.problems) for f in live.facts if f.problems}
    assert live_rejects == rejects and sorted(rejects) == [3, 4]
    assert ingested.rows_accepted == live.accepted + live.duplicates == 4

    flush_inbox(ws)
    assert (
        ws.backend.to_pyarrow(ws.table("orders"))
        .sort_by("order_id")
        .equals(other.backend.to_pyarrow(other.table("orders")).sort_by("order_id"))
    )
    rows = {r["order_id"]: r for r in ws.backend.to_pyarrow(ws.table("orders")).to_pylist()}
    assert (rows["o1"]["status"], rows["o1"]["amount"]) == ("refunded", -12.5)  # the later version won
    assert rows["o5"]["customer_id"] == "7" and rows["o5"]["ordered_at"] == datetime(2025, 3, 1, 9, tzinfo=UTC)


def _read_rejects(path: Path | None) -> dict[int, list[tuple[str, str]]]:
    import csv

    found: dict[int, list[tuple[str, str]]] = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            found.setdefault(int(row["source_row"]), []).append((row["column"], row["reason"]))
    return {row: sorted(problems) for row, problems in found.items()}


def test_a_flush_is_one_run_and_one_batch_per_table_and_a_second_flush_writes_nothing(ws):
    accept_facts(ws, "orders", ORDERS)
    accept_facts(
        ws, "customers", [{"customer_id": "c1", "created_at": "2025-01-01", "plan_tier": "gold"}], source="stripe"
    )
    result = flush_inbox(ws)
    assert [(t.table, t.rows, t.source) for t in result.tables] == [
        ("customers", 1, "inbox:stripe"),
        ("orders", 2, "inbox:api"),
    ]
    runs = {r.table_name: r for r in ws.runs()}
    assert {name: (r.status, r.source, r.rows_accepted) for name, r in runs.items()} == {
        "customers": ("committed", "inbox:stripe", 1),
        "orders": ("committed", "inbox:api", 2),
    }
    assert [p.name for p in ws.lake.batch_files("orders")] == [Path(result.tables[1].batch_path).name]
    with ws.connect() as connection:
        marks = connection.execute(sa.select(fact_inbox.c.ingest_run_id, fact_inbox.c.flushed_at)).all()
    assert {run for run, _ in marks} == {runs["orders"].id, runs["customers"].id}
    assert {at for _, at in marks} == {NOW}
    (customer,) = ws.backend.to_pyarrow(ws.table("customers")).to_pylist()
    assert customer["attributes"] == '{"plan_tier": "gold"}'

    assert flush_inbox(ws).tables == () and pending_facts(ws) == {}


def test_flushing_the_same_facts_again_changes_no_mart(ws):
    accept_facts(ws, "customers", [{"customer_id": f"c{i}", "created_at": f"2025-01-{i:02d}"} for i in range(1, 9)])
    accept_facts(
        ws,
        "orders",
        [
            {
                "order_id": f"o{i}",
                "customer_id": f"c{i % 8 + 1}",
                "status": "completed",
                "ordered_at": f"2025-02-{i:02d}T10:00:00Z",
                "amount": 10 * i,
            }
            for i in range(1, 21)
        ],
    )
    accept_facts(
        ws,
        "orders",
        [
            {
                "order_id": "o3",
                "customer_id": "c4",
                "status": "refunded",
                "ordered_at": "2025-02-03T10:00:00Z",
                "amount": -30,
            }
        ],
    )
    flush_inbox(ws)
    refresh(ws)
    before = current_snapshot(ws)
    # As if the marks were lost: every fact pending again, flushed a second time into new batches.
    with ws.transaction() as connection:
        connection.execute(fact_inbox.update().values(flushed_at=None, ingest_run_id=None))
    ws.clock = FixedClock(datetime(2025, 3, 2, 12, 5, tzinfo=UTC))
    assert flush_inbox(ws).rows == 29
    assert len(ws.lake.batch_files("orders")) == 2
    refresh(ws)
    after = current_snapshot(ws)
    assert before is not None and after is not None and before.id != after.id
    assert_same_marts(before, after, at_least=7)
    orders = {r["order_id"]: r for r in ws.backend.to_pyarrow(ws.table("orders")).to_pylist()}
    assert len(orders) == 20 and (orders["o3"]["status"], orders["o3"]["amount"]) == ("refunded", -30.0)


def test_bad_calls_say_what_to_fix(ws):
    with pytest.raises(InputError, match=r"Unknown table 'order'\. Valid tables: customers, orders"):
        accept_facts(ws, "order", [ORDER])
    with pytest.raises(InputError, match="source 'Stripe!'"):
        accept_facts(ws, "orders", [ORDER], source="Stripe!")
    with pytest.raises(InputError, match=f"{MAX_FACTS_PER_CALL + 1:,} facts in one call; at most"):
        accept_facts(ws, "orders", [ORDER] * (MAX_FACTS_PER_CALL + 1))
    with pytest.raises(InputError, match="Unknown table 'nope'"):
        flush_inbox(ws, tables=["nope"])


PLAYBOOK = """name: card_failed
description: A person calls customers whose card was declined.
enabled: true
trigger: {kind: event, event_type: payment_failed, within_days: 1}
steps:
  - {action: task, title: "Call {{ customer.customer_id }} about the declined card"}
holdout: 0.1
goal: {metric: retained, window_days: 30}
"""


def test_a_posted_payment_failed_event_enrols_its_customer_after_the_flush_without_a_refresh(ws):
    (ws.path / "playbooks" / "card_failed.yaml").write_text(PLAYBOOK)
    accept_facts(ws, "customers", [{"customer_id": f"c{i}", "created_at": "2025-01-01"} for i in range(1, 7)])
    failed = [
        {
            "customer_id": f"c{i}",
            "event_type": "payment_failed",
            "occurred_at": "2025-03-02T11:30:00Z",
            "decline": "insufficient_funds",
        }
        for i in (2, 3, 5)
    ]
    logins = [{"customer_id": "c1", "event_type": "login", "occurred_at": "2025-03-02T11:00:00Z"}]
    assert accept_facts(ws, "events", failed + logins).accepted == 4
    assert current_snapshot(ws) is None  # never refreshed

    fired = flush_and_fire(ws)
    assert fired.names == ("card_failed",) and fired.flush.rows == 10
    run = fired.playbooks.get("card_failed")
    assert (run.fired, run.entered) == (3, 3)
    with ws.connect() as connection:
        enrolled = connection.execute(
            sa.select(playbook_enrolments.c.customer_id, playbook_enrolments.c.trigger_key).order_by(
                playbook_enrolments.c.customer_id
            )
        ).all()
    assert [tuple(r) for r in enrolled] == [(f"c{i}", "event:payment_failed:2025-03-02T11:30:00Z") for i in (2, 3, 5)]

    # Nothing new in the inbox: no flush, no playbook run.
    assert flush_and_fire(ws).playbooks is None
