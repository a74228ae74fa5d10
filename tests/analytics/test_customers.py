"""The customer dimension (union of every table, first seen) and the point-in-time view of the facts."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest
from analytics_helpers import run
from builders_profile import AS_OF, customer, event, order, plain, table, ts, world

from retain.analytics.customers import DIMENSION_COLUMNS, customer_dimension, facts_at
from retain.contract import TableName
from retain.errors import InputError

NAMES = [str(n) for n in TableName]


def test_dimension_is_the_union_of_all_tables(backend, load):
    # fay and the later facts are in this world too: the dimension itself knows nothing of as_of.
    tables = world(future=True)
    out = run(backend, customer_dimension(*(load(tables[n]) for n in NAMES)))
    assert list(out.columns) == list(DIMENSION_COLUMNS)
    assert plain(out) == [
        ("ana", ts(2023, 1, 10), "ana@example.com", "Ana", "DE", "ads"),
        ("ben", ts(2023, 5, 5), None, "Ben", None, None),
        ("cara", ts(2022, 11, 1), "cara@example.com", "Cara", "FR", "organic"),
        # no customers row: first seen through the page view, a day before the first order
        ("dan", ts(2024, 2, 9, 8), None, None, None, None),
        ("eve", ts(2024, 3, 25, 10), "eve@example.com", None, "US", "referral"),
        ("fay", ts(2024, 4, 15), None, "Fay", None, None),
    ]


def test_the_customers_row_wins_over_earlier_facts_and_missing_tables_count_as_empty(duckdb_backend):
    customers = table("customers", [customer("kim", ts(2024, 5, 1), name="Kim")])
    orders = table("orders", [order("X1", "kim", ts(2024, 1, 1), 5.0), order("X2", "lee", ts(2024, 2, 2), 5.0)])
    events = table("events", [event("v1", "lee", "login", ts(2024, 2, 1, 23))])
    out = run(
        duckdb_backend,
        customer_dimension(ibis.memtable(customers), ibis.memtable(orders), events=ibis.memtable(events)),
    )
    # kim's row says 1 May although she ordered in January (imported later): the row is the record.
    assert plain(out, ["customer_id", "created_at", "name"]) == [
        ("kim", ts(2024, 5, 1), "Kim"),
        ("lee", ts(2024, 2, 1, 23), None),
    ]
    only_orders = run(duckdb_backend, customer_dimension(orders=ibis.memtable(orders)))
    assert plain(only_orders, ["customer_id", "created_at"]) == [("kim", ts(2024, 1, 1)), ("lee", ts(2024, 2, 2))]


def test_facts_at_drops_later_rows_and_reopens_what_closed_later(duckdb_backend):
    tables = {name: ibis.memtable(t) for name, t in world(future=True).items()}
    facts = facts_at(tables, AS_OF)
    assert set(facts) == set(TableName)

    def rows(name, columns, key):
        return sorted(plain(run(duckdb_backend, facts[name]), columns), key=key)

    subs = rows(TableName.SUBSCRIPTIONS, ["customer_id", "started_at", "ended_at", "churn_type"], lambda r: r[:2])
    # ben's pause ended on 10 April and his resumed period started then: at AS_OF the pause still runs.
    assert subs == [
        ("ana", ts(2023, 2, 1), ts(2024, 1, 1), None),
        ("ana", ts(2024, 1, 1), None, None),
        ("ben", ts(2023, 6, 1), ts(2024, 3, 1), None),
        ("ben", ts(2024, 3, 1), None, None),
        ("cara", ts(2023, 1, 1), ts(2023, 12, 15), "voluntary"),
    ]
    tickets = rows(TableName.TICKETS, ["ticket_id", "resolved_at", "satisfaction"], lambda r: r[0])
    assert tickets == [("T1", ts(2024, 3, 12, 9), 4), ("T2", None, None), ("T3", None, None)]
    # the event exactly at AS_OF is kept, the one a second later is not
    events = rows(TableName.EVENTS, ["event_id"], lambda r: int(r[0][1:]))
    assert [e[0] for e in events] == [f"e{i}" for i in range(1, 11)]
    assert sorted(r[0] for r in plain(run(duckdb_backend, facts[TableName.CUSTOMERS]), ["customer_id"])) == [
        "ana",
        "ben",
        "cara",
        "eve",
    ]
    assert run(duckdb_backend, facts[TableName.ORDERS].count()) == 8
    assert run(duckdb_backend, facts[TableName.FEEDBACK].count()) == 8
    assert facts_at({"orders": tables["orders"]}, AS_OF)[TableName.EVENTS] is None


def test_bad_inputs_are_refused_with_clear_errors():
    with pytest.raises(InputError, match="needs at least one table"):
        customer_dimension()
    with pytest.raises(InputError, match=r"Unknown table 'event' in tables\. Valid tables: customers, orders"):
        facts_at({"event": ibis.memtable(world()["events"])}, AS_OF)
    with pytest.raises(InputError, match="Expected a mapping"):
        facts_at([ibis.memtable(world()["events"])], AS_OF)
    as_text = ibis.memtable(pa.table({"customer_id": ["a"], "created_at": ["2024-01-01"]}))
    with pytest.raises(InputError, match=r"customers\.created_at has type string, expected a UTC timestamp"):
        customer_dimension(as_text)
    with pytest.raises(InputError, match="lacks column"):
        customer_dimension(orders=ibis.memtable(pa.table({"customer_id": ["a"]})))
