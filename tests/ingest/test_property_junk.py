"""Property: any junk rows are each either accepted (and then valid) or rejected with a reason — none lost."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retain.contract.reasons import RejectReason
from retain.contract.tables import TABLES
from retain.ingest import ingest
from retain.lake import Lake

ORDERS = TABLES["orders"]
junk_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
plausible = {
    "order_id": st.one_of(junk_text, st.from_regex(r"o[0-9]{1,3}", fullmatch=True)),
    "customer_id": st.one_of(junk_text, st.sampled_from(["c1", "c2", " c3 "])),
    "ordered_at": st.one_of(
        junk_text,
        st.sampled_from(
            ["2025-01-01", "2025-02-30", "2025-01-01T10:00:00Z", "2025-01-01 10:00", "1899-12-31", "31/01/2025"]
        ),
    ),
    "amount": st.one_of(junk_text, st.sampled_from(["1", "-1", "1e3", "inf", "nan", "0.5", "1,5", ""])),
    "status": st.one_of(junk_text, st.sampled_from(["completed", "REFUNDED", "canceled", "shipped"])),
    "items": st.one_of(junk_text, st.sampled_from(["1", "0", "-2", "2.0", "2.5", ""])),
}
row = st.fixed_dictionaries(plausible)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=1, max_size=25))
def test_junk_rows_are_accepted_valid_or_rejected_with_a_reason(rows):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(plausible))
            writer.writeheader()
            writer.writerows(rows)
        lake = Lake(Path(tmp) / "data")
        result = ingest(lake, "orders", path)

        assert result.rows_read == len(rows)
        assert result.rows_accepted + result.rows_rejected == len(rows)
        accepted_rows: list[int] = []
        for batch in lake.batch_files("orders"):
            table = pd.read_parquet(batch)
            accepted_rows += table["_row"].tolist()
            for column in ORDERS.required_names:
                assert table[column].notna().all()
            assert table["status"].isin(["completed", "refunded", "canceled"]).all()
            assert ((table["amount"] >= 0) | (table["status"] == "refunded")).all()
            assert table["amount"].map(lambda v: v == v and abs(v) != float("inf")).all()
            assert (table["items"].dropna() >= 0).all()
            assert (table["order_id"].str.strip() == table["order_id"]).all()
        rejected_rows: set[int] = set()
        if result.rejects_path:
            rejects = pd.read_csv(result.rejects_path, keep_default_na=False)
            assert set(rejects["reason"]) <= {r.value for r in RejectReason}
            rejected_rows = set(rejects["source_row"])
        # Every input row (rows 2..n+1, the header is row 1) is in exactly one of the two places.
        assert sorted(accepted_rows + sorted(rejected_rows)) == list(range(2, len(rows) + 2))
        assert len(accepted_rows) == result.rows_accepted and len(rejected_rows) == result.rows_rejected


def test_timestamps_accepted_agree_with_an_independent_parser(tmp_path):
    values = [
        "2025-01-01",
        "2025-01-01T10:00:00Z",
        "2025-01-01 10:00",
        "2025-06-30T23:59:59.5+02:00",
        "2025-01-01T10:00:00-05:00",
        "20250101",
        "2025-1-1",
    ]
    path = tmp_path / "orders.csv"
    lines = ["order_id,customer_id,ordered_at,amount,status"]
    lines += [f"o{i},c1,{v},1,completed" for i, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")
    lake = Lake(tmp_path / "data")
    ingest(lake, "orders", path)
    table = pd.read_parquet(lake.batch_files("orders")[0]).set_index("order_id")
    assert len(table) == len(values)
    for i, value in enumerate(values):
        assert table.loc[f"o{i}", "ordered_at"] == pd.to_datetime(value, utc=True, format="ISO8601"), value
    assert table.loc["o3", "ordered_at"] == pd.Timestamp("2025-06-30T21:59:59.5Z")
