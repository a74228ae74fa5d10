"""Every generated table meets the data contract (names, order, types, required, enums, ranges, row rules)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pytest

from retain.contract.tables import CHURN_REASONS, TABLES, TableName
from retain.synth import generate

WINDOW_START = datetime(2024, 1, 1, tzinfo=UTC)
WINDOW_END = datetime(2026, 1, 1, tzinfo=UTC)
ID_PATTERNS = {
    "customer_id": r"^C\d{7}$",
    "subscription_id": r"^S\d{7}$",
    "event_id": r"^E\d{10}$",
    "ticket_id": r"^T\d{8}$",
    "order_id": r"^O\d{8}$",
    "response_id": r"^R\d{8}$",
}


def check_contract(name: str, table: pa.Table) -> None:
    """An independent check of the contract rules of ``TABLES[name]`` on a whole table."""
    spec = TABLES[TableName(name)]
    assert table.column_names == spec.column_names
    assert table.schema.equals(spec.arrow_schema), f"{name}: {table.schema} != {spec.arrow_schema}"
    assert table.num_rows > 0
    for col in spec.columns:
        values = table[col.name]
        present = values.drop_null()
        if col.required:
            assert values.null_count == 0, f"{name}.{col.name} has nulls"
        if col.allowed:
            assert set(pc.unique(present).to_pylist()) <= set(col.allowed), f"{name}.{col.name}"
        if col.min_value is not None and len(present):
            assert pc.min(present).as_py() >= col.min_value, f"{name}.{col.name}"
        if col.max_value is not None and len(present):
            assert pc.max(present).as_py() <= col.max_value, f"{name}.{col.name}"
        if col.pattern:
            assert pc.all(pc.match_substring_regex(present, col.pattern)).as_py(), f"{name}.{col.name}"
        if col.name in ID_PATTERNS:
            assert pc.all(pc.match_substring_regex(present, ID_PATTERNS[col.name])).as_py()
        if col.type == "json":
            for text in pc.unique(present).to_pylist():
                assert isinstance(json.loads(text), dict), text
        if col.type == "timestamp" and len(present):
            assert pc.min(present).as_py() >= WINDOW_START, f"{name}.{col.name}"
            assert pc.max(present).as_py() < WINDOW_END, f"{name}.{col.name}"
        if col.type == "float":
            cents = np.asarray(present) * 100
            assert np.abs(cents - np.round(cents)).max() < 1e-6, f"{name}.{col.name} not rounded to cents"
    key = spec.key
    keys = table.select(list(key)).group_by(list(key)).aggregate([]).num_rows
    assert keys == table.num_rows, f"{name}: duplicate key {key}"


@pytest.mark.parametrize("name", ["customers", "events", "tickets", "feedback", "orders", "subscriptions"])
def test_subscription_tables_meet_the_contract(subscription_data, name):
    check_contract(name, subscription_data.table(name))


@pytest.mark.parametrize("name", ["customers", "events", "tickets", "feedback", "orders"])
def test_commerce_tables_meet_the_contract(commerce_data, name):
    check_contract(name, commerce_data.table(name))


def test_row_rules(dataset):
    d = dataset
    assert d.sql("SELECT count(*) FROM tickets WHERE resolved_at < opened_at") == [(0,)]
    assert d.sql("SELECT count(*) FROM orders WHERE amount < 0 AND status <> 'refunded'") == [(0,)]
    assert d.sql("SELECT count(*) FROM orders WHERE status = 'refunded' AND amount >= 0") == [(0,)]
    nps = d.sql("SELECT min(score), max(score), count(*) FROM feedback WHERE survey = 'nps'")[0]
    csat = d.sql("SELECT min(score), max(score), count(*) FROM feedback WHERE survey = 'csat'")[0]
    assert nps[0] >= 0 and nps[1] <= 10 and nps[2] > 1000
    assert csat[0] >= 1 and csat[1] <= 5 and csat[2] > 300
    assert d.sql("SELECT min(satisfaction), max(satisfaction) FROM tickets") == [(1, 5)]
    # Facts only name customers that the customers table describes, after they signed up.
    orphans = """SELECT count(*) FROM {t} f LEFT JOIN customers c USING (customer_id)
                 WHERE c.customer_id IS NULL OR f.{col} < c.created_at"""
    for t, col in [("events", "occurred_at"), ("tickets", "opened_at"), ("feedback", "responded_at")]:
        assert d.sql(orphans.format(t=t, col=col)) == [(0,)], t


def test_subscription_periods_chain(subscription_data):
    d = subscription_data
    assert d.sql("SELECT count(*) FROM subscriptions WHERE ended_at < started_at") == [(0,)]
    # Periods of one subscription follow each other without gaps; only the last may be open.
    gaps = d.sql(
        """SELECT count(*) FROM (
             SELECT ended_at, lead(started_at) OVER w AS next_start, lead(started_at) OVER w IS NULL AS last
             FROM subscriptions WINDOW w AS (PARTITION BY subscription_id ORDER BY started_at))
           WHERE (NOT last AND (ended_at IS NULL OR ended_at <> next_start))"""
    )
    assert gaps == [(0,)]
    # canceled <=> has a churn type and a reason; involuntary <=> payment_failed; paused periods are free.
    assert d.sql(
        """SELECT count(*) FROM subscriptions WHERE (status = 'canceled') <> (churn_type IS NOT NULL)
           OR (status = 'canceled') <> (cancel_reason IS NOT NULL) OR (status = 'canceled' AND ended_at IS NULL)
           OR (churn_type = 'involuntary') <> (cancel_reason = 'payment_failed')
           OR (status = 'paused' AND mrr <> 0) OR (status = 'active' AND mrr = 0)"""
    ) == [(0,)]
    mrr = {row[0] for row in d.sql("SELECT DISTINCT mrr FROM subscriptions")}
    assert mrr == {0.0, 19.0, 49.0, 149.0, 15.83, 40.83, 124.17}  # monthly, annual (10/12) and paused
    kinds = dict(d.sql("SELECT status, count(*) FROM subscriptions GROUP BY 1"))
    assert kinds.keys() == {"active", "paused", "canceled"}
    changes = d.sql(
        "SELECT count(*) FROM (SELECT subscription_id FROM subscriptions GROUP BY 1 HAVING count(DISTINCT plan) > 1)"
    )[0][0]
    assert changes > 200
    reasons = {r for (r,) in d.sql("SELECT DISTINCT cancel_reason FROM subscriptions WHERE cancel_reason IS NOT NULL")}
    assert reasons == set(CHURN_REASONS)
    exits = d.sql("SELECT count(*), count(DISTINCT reason) FROM feedback WHERE survey = 'exit' AND reason IS NOT NULL")
    assert exits[0][0] > 300 and exits[0][1] == 8  # every code but payment_failed (involuntary churners don't answer)


def test_csv_output_has_iso_timestamps_and_same_content_as_parquet(tmp_path):
    a, b = tmp_path / "csv", tmp_path / "parquet"
    generate(a, customers=700, model="subscription", seed=3, fmt="csv", chunk_customers=300)
    generate(b, customers=700, model="subscription", seed=3, fmt="parquet", chunk_customers=300)
    import pyarrow.parquet as pq

    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    for name in ["customers", "subscriptions", "events", "tickets", "feedback", "orders"]:
        spec = TABLES[TableName(name)]
        text = pcsv.read_csv(
            a / f"{name}.csv",
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in spec.column_names}, strings_can_be_null=True
            ),
        )
        assert text.column_names == spec.column_names
        for col in spec.columns:
            if col.type == "timestamp":
                values = text[col.name].drop_null().to_pylist()
                assert values and all(iso.match(v) for v in values[:2000]), name
        parsed = pcsv.read_csv(
            a / f"{name}.csv",
            convert_options=pcsv.ConvertOptions(column_types=spec.arrow_schema, strings_can_be_null=True),
        )
        assert parsed.cast(spec.arrow_schema).equals(pq.read_table(b / f"{name}.parquet")), name


def test_short_window_ending_mid_month(tmp_path):
    from datetime import date

    import pyarrow.parquet as pq

    s = generate(tmp_path, customers=2_000, model="subscription", seed=4, end=date(2025, 6, 15), months=3)
    assert (s.start, s.end) == (date(2025, 4, 1), date(2025, 6, 15))
    lo, hi = datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 6, 16, tzinfo=UTC)
    for name in ["customers", "subscriptions", "events", "tickets", "feedback", "orders"]:
        table = pq.read_table(tmp_path / f"{name}.parquet")
        for col in TABLES[TableName(name)].columns:
            if col.type == "timestamp":
                values = table[col.name].drop_null()
                if len(values):
                    assert pc.min(values).as_py() >= lo and pc.max(values).as_py() < hi, (name, col.name)
    months = set(pq.read_table(tmp_path / "ground_truth" / "churn_probability.parquet")["month"].to_pylist())
    assert months == {date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1)}
