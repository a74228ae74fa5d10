"""The 360's timeline runs as a query compiled once per snapshot; it must give exactly the Ibis expression's rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from retain.analytics.timeline import customer_timeline
from retain.facts import Facts
from retain.services import customer_360, require_snapshot
from retain.services._prepared_timeline import timeline_rows


def _reference(ws, customer_id):
    snapshot = require_snapshot(ws)
    facts = Facts(ws.backend, snapshot.lake_view(ws.lake.root))
    return facts.backend.to_pyarrow(customer_timeline(facts.tables, customer_id, as_of=snapshot.as_of)).to_pylist()


def _prepared(ws, customer_id):
    snapshot = require_snapshot(ws)
    facts = Facts(ws.backend, snapshot.lake_view(ws.lake.root))  # ws.backend: this thread's connection
    return timeline_rows(facts, snapshot.id, customer_id, as_of=snapshot.as_of)


def test_the_prepared_timeline_is_the_expressions_for_every_customer_and_thread(company):
    ws = company.ws
    with ws.connect() as connection:
        ids = [r[0] for r in connection.execute(sa.text("SELECT customer_id FROM customer_profiles ORDER BY 1"))]
    sample = ids[::20]
    expected = {c: _reference(ws, c) for c in sample}
    assert sum(len(rows) for rows in expected.values()) > 10 * len(sample)
    assert all(_prepared(ws, c) == expected[c] for c in sample)
    with ThreadPoolExecutor(4) as pool:  # each thread prepares on its own connection
        assert list(pool.map(lambda c: _prepared(ws, c), sample)) == [expected[c] for c in sample]
    # The 360 adds what playbooks did (the company ran them) after the customer's own facts at each instant.
    full = customer_360(ws, sample[0]).timeline
    assert [row for row in full if row["kind"] not in ("playbook_enrolled", "message")] == expected[sample[0]]


def test_the_customer_id_is_a_parameter_never_sql(company):
    ws = company.ws
    snapshot = require_snapshot(ws)
    facts = Facts(ws.backend, snapshot.lake_view(ws.lake.root))
    for hostile in ("x' OR '1'='1", "'; DROP TABLE x; --", "retain_timeline_customer_3f1c9a"):
        assert timeline_rows(facts, snapshot.id, hostile, as_of=snapshot.as_of) == []
