"""Live and batch agree: a synthetic company posted fact by fact through ``accept_facts`` and flushed gives the
same lake tables and, after ``refresh``, every mart identical to the same company ingested from its CSV files.

The live side posts the facts the way an HTTP client would — typed JSON values (numbers, booleans, objects),
in several calls, with repeated posts. Both sides first receive an *earlier version* of the subscription periods
that ended (still running then): a file ingested first, or facts posted and flushed first. The final version comes
later and must replace it on both sides alike. The lake tables must be identical; the marts too, up to the last bits
of parallel float sums (see ``mart_compare``).
A fifth of the events carry no id on both sides, so their derived ids must agree too.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from mart_compare import assert_same_marts

from retain.clock import FixedClock
from retain.contract.tables import TABLES
from retain.services import current_snapshot, refresh
from retain.services.live_facts import accept_facts, flush_inbox
from retain.synth.generate import generate
from retain.workspace import Workspace

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 1, 2, 12, 1, tzinfo=UTC)
_NUMBERS = {"amount", "mrr"}
_INTEGERS = {"items", "billing_period_months", "score", "satisfaction"}
_BOOLEANS = {"is_complaint"}
_OBJECTS = {"attributes", "properties"}


def _typed(column: str, text: str) -> object:
    """The JSON value an API client would send for the CSV text of ``column``."""
    if text == "":
        return None
    if column in _NUMBERS:
        return float(text)
    if column in _INTEGERS:
        return int(text)
    if column in _BOOLEANS:
        return text == "true"
    if column in _OBJECTS:
        return json.loads(text)
    return text


def _company(folder: Path) -> dict[str, list[dict[str, str]]]:
    """A small synthetic subscription company as CSV files; a fifth of the event ids blanked (derived on ingest)."""
    generate(folder, customers=150, fmt="csv", months=8, seed=11)
    tables = {}
    for name in TABLES:
        path = folder / f"{name}.csv"
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        if name == "events":
            for i, row in enumerate(rows):
                if i % 5 == 0:
                    row["event_id"] = ""
            with path.open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        tables[name] = rows
    return tables


def _json(row: dict[str, str]) -> dict[str, object]:
    return {column: value for column, text in row.items() if (value := _typed(column, text)) is not None}


def _lake(ws: Workspace, name: str) -> pa.Table:
    spec = TABLES[name]
    table = ws.backend.to_pyarrow(ws.table(name))
    return table.sort_by([(k, "ascending") for k in spec.key])


@pytest.mark.slow
def test_facts_posted_live_and_ingested_from_files_give_identical_marts(tmp_path):
    tables = _company(tmp_path / "synth")
    assert all(tables[name] for name in ("customers", "subscriptions", "events", "tickets", "feedback"))

    ended = [row for row in tables["subscriptions"] if row["ended_at"]]
    assert len(ended) >= 10
    # The periods that ended were first reported while still running: both sides get that report first.
    earlier = [{**row, "status": "active", "ended_at": "", "churn_type": "", "cancel_reason": ""} for row in ended]
    first_report = tmp_path / "subscriptions-earlier.csv"
    with first_report.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(earlier[0]))
        writer.writeheader()
        writer.writerows(earlier)

    batch = Workspace.init(tmp_path / "batch", clock=FixedClock(NOW))
    assert batch.ingest("subscriptions", first_report).rows_accepted == len(earlier)
    batch.clock = FixedClock(LATER)  # the later report gets a later batch id, on both sides
    for name in TABLES:
        result = batch.ingest(name, tmp_path / "synth" / f"{name}.csv")
        assert result.rows_rejected == 0 and result.rows_accepted == len(tables[name])

    live = Workspace.init(tmp_path / "live", clock=FixedClock(NOW))
    first = accept_facts(live, "subscriptions", [_json(row) for row in earlier])
    assert (first.accepted, first.duplicates, first.rejected) == (len(earlier), 0, 0)
    assert flush_inbox(live).rows == len(earlier)
    live.clock = FixedClock(LATER)

    for name in TABLES:
        rows = [_json(row) for row in tables[name]]
        half = len(rows) // 2
        for part in (rows[:half], rows[half:]):
            if part:
                result = accept_facts(live, name, part)
                assert (result.accepted, result.rejected) == (len(part), 0), [f for f in result.facts if f.problems]
        again = accept_facts(live, name, rows[:10])  # a client retrying: nothing changes
        assert (again.accepted, again.duplicates) == (0, min(10, len(rows)))
    flushed = flush_inbox(live)
    assert {t.table: t.rows for t in flushed.tables} == {name: len(rows) for name, rows in tables.items() if rows}

    for name in TABLES:
        assert _lake(live, name).equals(_lake(batch, name)), name

    live_snapshot, batch_snapshot = refresh(live), refresh(batch)
    a, b = current_snapshot(live), current_snapshot(batch)
    assert a is not None and b is not None
    assert a.as_of == live_snapshot.as_of == batch_snapshot.as_of
    assert_same_marts(a, b, at_least=10)
