"""RFM scores on a hand-made shop of ten customers, the score map, and invariants against a pandas reference."""

from __future__ import annotations

from datetime import timedelta

import ibis
import pandas as pd
import pytest
from analytics_helpers import at, order, orders, records, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retain.analytics.rfm import RFM_COLUMNS, SEGMENT_MAP, RfmSegment, rfm_scores, rfm_segment
from retain.errors import InputError

AS_OF = at(2024, 4, 1)

ORDERS = [
    # c01: three recent orders; a canceled one and one after as_of are ignored.
    order("o01a", "c01", at(2024, 3, 31), 100.0),
    order("o01b", "c01", at(2024, 3, 15), 200.0),
    order("o01c", "c01", at(2024, 2, 1), 300.0),
    order("o01d", "c01", at(2024, 3, 20), 999.0, "canceled"),
    order("o01e", "c01", at(2024, 4, 2), 999.0),
    order("o02a", "c02", at(2024, 3, 30), 50.0),
    order("o02b", "c02", at(2024, 1, 10), 50.0),
    order("o03", "c03", at(2024, 3, 20), 1000.0),
    order("o04a", "c04", at(2024, 3, 1), 20.0),
    order("o04b", "c04", at(2024, 2, 1), 20.0),
    order("o04c", "c04", at(2024, 1, 1), 20.0),
    order("o04d", "c04", at(2023, 12, 1), 20.0),
    # c05: a refund (stored negative) lowers monetary but is not a purchase: recency is from Feb 15.
    order("o05a", "c05", at(2024, 2, 15), 500.0),
    order("o05b", "c05", at(2024, 2, 20), -100.0, "refunded"),
    # c06 ties c07 on recency (122 days) across a quintile boundary.
    order("o06a", "c06", at(2023, 12, 1), 40.0),
    order("o06b", "c06", at(2023, 11, 1), 40.0),
    *[order(f"o07{m}", "c07", at(2023, m, 1), 300.0) for m in (8, 9, 10, 11, 12)],
    order("o08", "c08", at(2023, 11, 15, 12), 15.0),  # 137.5 days before as_of: 137 whole days
    # c09: a refund stored as a positive amount is subtracted all the same.
    order("o09a", "c09", at(2023, 6, 1), 60.0),
    order("o09b", "c09", at(2023, 5, 1), 60.0),
    order("o09c", "c09", at(2023, 6, 10), 20.0, "refunded"),
    order("o10", "c10", at(2023, 1, 1), 5.0),
    # Not scored: only a canceled order, only a refund, only an order after as_of.
    order("o11", "c11", at(2024, 3, 1), 10.0, "canceled"),
    order("o12", "c12", at(2024, 3, 1), -10.0, "refunded"),
    order("o13", "c13", at(2024, 5, 1), 10.0),
]

# Hand computed. R ranks recency (worse = older), F and M rank upwards; score = 1 + floor(5 k / 10) where k is
# the number of customers with a strictly worse value. Ties: c06/c07 recency (k = 3 → both 2), c04/c06 monetary,
# c02/c09 monetary, the four one-order customers (F = 1), the three two-order customers (k = 4 → F = 3).
EXPECTED = [
    ("c01", 1, 3, 600.0, 5, 4, 4, "544", "Champions"),
    ("c02", 2, 2, 100.0, 5, 3, 3, "533", "Potential loyalist"),
    ("c03", 12, 1, 1000.0, 4, 1, 5, "415", "Potential loyalist"),
    ("c04", 31, 4, 80.0, 4, 5, 2, "452", "Loyal"),
    ("c05", 46, 1, 400.0, 3, 1, 4, "314", "Need attention"),
    ("c06", 122, 2, 80.0, 2, 3, 2, "232", "At risk"),
    ("c07", 122, 5, 1500.0, 2, 5, 5, "255", "Can't lose them"),
    ("c08", 137, 1, 15.0, 2, 1, 1, "211", "Hibernating"),
    ("c09", 305, 2, 100.0, 1, 3, 3, "133", "At risk"),
    ("c10", 456, 1, 5.0, 1, 1, 1, "111", "Lost"),
]


def test_rfm_scores_of_ten_customers(backend, load):
    out = run(backend, rfm_scores(load(orders(ORDERS)), as_of=AS_OF))
    assert list(out.columns) == list(RFM_COLUMNS)
    assert records(out, list(RFM_COLUMNS)) == EXPECTED


def test_rfm_scores_in_a_trailing_window(backend, load):
    # (Dec 23 2023, Apr 1 2024]: c04 loses its December order; c06..c10 drop out. n = 5, so score = k + 1.
    out = run(backend, rfm_scores(load(orders(ORDERS)), as_of=AS_OF, window_days=100))
    assert records(out, list(RFM_COLUMNS)) == [
        ("c01", 1, 3, 600.0, 5, 4, 4, "544", "Champions"),
        ("c02", 2, 2, 100.0, 4, 3, 2, "432", "Potential loyalist"),
        ("c03", 12, 1, 1000.0, 3, 1, 5, "315", "Need attention"),
        ("c04", 31, 3, 60.0, 2, 4, 1, "241", "At risk"),
        ("c05", 46, 1, 400.0, 1, 1, 3, "113", "Hibernating"),
    ]


def test_score_map_is_total_and_uses_every_name():
    assert set(SEGMENT_MAP) == {(r, fm) for r in range(1, 6) for fm in range(1, 6)}
    assert set(SEGMENT_MAP.values()) == set(RfmSegment)
    assert len(RfmSegment) == 11
    # Spot checks of the grid corners and of the F/M average rounding half up.
    assert rfm_segment(5, 5, 5) is RfmSegment.CHAMPIONS
    assert rfm_segment(5, 1, 1) is RfmSegment.NEW
    assert rfm_segment(1, 1, 1) is RfmSegment.LOST
    assert rfm_segment(1, 5, 5) is RfmSegment.CANT_LOSE_THEM
    assert rfm_segment(5, 1, 2) is RfmSegment.POTENTIAL_LOYALIST  # FM 1.5 → 2
    assert rfm_segment(3, 2, 3) is RfmSegment.NEED_ATTENTION  # FM 2.5 → 3


def test_segment_column_matches_python_map_for_every_row():
    out = run_duckdb(rfm_scores(ibis.memtable(orders(ORDERS)), as_of=AS_OF))
    for r, f, m, name in out[["r_score", "f_score", "m_score", "segment"]].itertuples(index=False):
        assert name == rfm_segment(int(r), int(f), int(m)).value


@pytest.mark.parametrize("window", [0, -1, 1.5, True])
def test_bad_window_is_rejected(window):
    with pytest.raises(InputError, match="window_days"):
        rfm_scores(ibis.memtable(orders(ORDERS)), as_of=AS_OF, window_days=window)


def test_rfm_of_no_orders_is_empty():
    out = run_duckdb(rfm_scores(ibis.memtable(orders(ORDERS)), as_of=at(2020, 1, 1)))
    assert out.empty and list(out.columns) == list(RFM_COLUMNS)


_DUCKDB = ibis.duckdb.connect()


def run_duckdb(expr) -> pd.DataFrame:
    return run(_DUCKDB, expr)


def _reference(rows: list[dict]) -> pd.DataFrame:
    """Independent pandas RFM: the documented rule written with DataFrame.rank(method='min')."""
    df = pd.DataFrame(rows)
    df = df[df.ordered_at <= AS_OF]
    df = df[df.status.isin(["completed", "refunded"])]
    df["net"] = df.amount.where(df.status == "completed", -df.amount.abs())
    comp = df[df.status == "completed"]
    g = pd.DataFrame(
        {
            "last": comp.groupby("customer_id").ordered_at.max(),
            "frequency": comp.groupby("customer_id").size(),
        }
    )
    g["monetary"] = df.groupby("customer_id").net.sum().round(2).reindex(g.index)
    g["recency_days"] = ((AS_OF - g["last"]).dt.total_seconds() // 86400).astype(int)
    n = len(g)
    # rank(method="min") is 1-based: k = rank − 1 customers are strictly worse.
    g["r_score"] = (5 * (g.recency_days.rank(method="min", ascending=False) - 1) // n + 1).astype(int)
    g["f_score"] = (5 * (g.frequency.rank(method="min") - 1) // n + 1).astype(int)
    g["m_score"] = (5 * (g.monetary.rank(method="min") - 1) // n + 1).astype(int)
    return g.sort_index()


_order_rows = st.lists(
    st.tuples(
        st.sampled_from([f"k{i}" for i in range(12)]),
        st.integers(min_value=0, max_value=400),  # days before as_of
        st.sampled_from([5.0, 10.0, 25.0, 100.0]),
        st.sampled_from(["completed", "completed", "completed", "refunded", "canceled"]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_order_rows)
def test_scores_match_a_pandas_reference_and_respect_bounds(rows):
    built = [
        order(f"o{i}", c, AS_OF - timedelta(days=d), -a if s == "refunded" else a, s)
        for i, (c, d, a, s) in enumerate(rows)
    ]
    out = run_duckdb(rfm_scores(ibis.memtable(orders(built)), as_of=AS_OF)).set_index("customer_id")
    ref = _reference(built)
    assert list(out.index) == list(ref.index)
    for col in ("recency_days", "frequency", "monetary", "r_score", "f_score", "m_score"):
        assert out[col].tolist() == ref[col].tolist(), col
    for col in ("r_score", "f_score", "m_score"):
        assert out[col].between(1, 5).all()
    # Monotone: strictly more recent never scores lower; equal values always score the same.
    for a in out.itertuples():
        for b in out.itertuples():
            if a.recency_days <= b.recency_days:
                assert a.r_score >= b.r_score
            if a.frequency <= b.frequency:
                assert a.f_score <= b.f_score
            if a.monetary <= b.monetary:
                assert a.m_score <= b.m_score
