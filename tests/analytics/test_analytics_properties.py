"""Invariants on random subscription histories (DuckDB), checked against a plain-Python reference.

The reference below re-implements the documented definitions row by row, independently of the Ibis code.
"""

from __future__ import annotations

from datetime import timedelta

import ibis
from analytics_helpers import at, records, run, sub, subscriptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retain.analytics import mrr_movements, mrr_summary, period_grid, retention_series

ORIGIN = at(2023, 12, 1)
PERIODS = period_grid(at(2024, 1, 1), at(2024, 7, 1), "month")


@st.composite
def histories(draw) -> list[dict]:
    rows = []
    for c in range(draw(st.integers(1, 6))):
        for k in range(draw(st.integers(1, 4))):
            start = ORIGIN + timedelta(days=draw(st.integers(0, 220)))
            length = draw(st.one_of(st.none(), st.integers(0, 120)))
            status = draw(st.sampled_from(["active", "paused", "canceled", "past_due"]))
            rows.append(
                sub(
                    f"c{c}",
                    draw(st.sampled_from([0, 10, 19, 49, 149])),
                    start,
                    None if length is None else start + timedelta(days=length),
                    status,
                    churn_type=draw(st.sampled_from([None, "voluntary", "involuntary"])),
                    reason=draw(st.sampled_from([None, "price", "payment_failed"])),
                    sid=f"c{c}-{k}",
                )
            )
    return rows


def _running(rows, customer, t):
    return [
        r
        for r in rows
        if r["customer_id"] == customer and r["started_at"] <= t and (r["ended_at"] is None or t < r["ended_at"])
    ]


def _state(rows, customer, t):
    """(active, paused-only, has a paused period, mrr) of a customer at instant t."""
    running = _running(rows, customer, t)
    paying = [r for r in running if r["status"] != "paused"]
    pausing = [r for r in running if r["status"] == "paused"]
    return bool(paying), not paying and bool(pausing), bool(pausing), sum(r["mrr"] for r in paying)


def _ran_before(rows, customer, t, paid):
    return any(
        r["customer_id"] == customer
        and r["status"] != "paused"
        and (r["ended_at"] is None or r["ended_at"] > r["started_at"])
        and r["started_at"] < t
        and (r["mrr"] > 0 or not paid)
        for r in rows
    )


def _involuntary(rows, customer, start, end):
    ends = [r for r in rows if r["customer_id"] == customer and r["ended_at"] and start < r["ended_at"] <= end]
    last = max(r["ended_at"] for r in ends)

    def invol(r):
        if r["churn_type"] is None:
            return r["cancel_reason"] == "payment_failed"
        return r["churn_type"] == "involuntary"

    return any(invol(r) for r in ends if r["ended_at"] == last)


def reference_movements(rows):
    out = []
    customers = sorted({r["customer_id"] for r in rows})
    for p in PERIODS:
        for c in customers:
            _, _, pause_s, s = _state(rows, c, p.start)
            _, _, pause_e, e = _state(rows, c, p.end)
            if s == 0 and e > 0:
                kind = "resumed" if pause_s else "reactivation" if _ran_before(rows, c, p.start, True) else "new"
            elif s > 0 and e > s:
                kind = "expansion"
            elif 0 < e < s:
                kind = "contraction"
            elif s > 0 and e == 0:
                kind = "paused" if pause_e else "churned"
            else:
                continue
            out.append((p.start, c, kind, float(s), float(e)))
    return out


def reference_series(rows):
    out = []
    customers = sorted({r["customer_id"] for r in rows})
    for p in PERIODS:
        n = dict.fromkeys(["S", "N", "E", "lost", "invol", "paused", "acquired", "reactivated", "resumed"], 0)
        for c in customers:
            act_s, paused_s, _, _ = _state(rows, c, p.start)
            act_e, paused_e, _, _ = _state(rows, c, p.end)
            n["S"] += act_s
            n["E"] += act_e
            if act_s and not act_e and not paused_e:
                n["lost"] += 1
                n["invol"] += _involuntary(rows, c, p.start, p.end)
            n["paused"] += act_s and paused_e
            if act_e and not act_s:
                n["N"] += 1
                if paused_s:
                    n["resumed"] += 1
                elif _ran_before(rows, c, p.start, False):
                    n["reactivated"] += 1
                else:
                    n["acquired"] += 1
        counts = ["S", "N", "E", "lost", "voluntary", "invol", "paused", "acquired", "reactivated", "resumed"]
        n["voluntary"] = n["lost"] - n["invol"]
        out.append(tuple(n[k] for k in counts))
    return out


SLOW_OK = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW_OK
@given(rows=histories())
def test_mrr_movements_match_reference_and_the_identity_holds(duckdb_backend, rows):
    table = ibis.memtable(subscriptions(rows))
    movements = run(duckdb_backend, mrr_movements(table, PERIODS))
    got = records(movements, ["period_start", "customer_id", "movement", "mrr_start", "mrr_end"])
    assert got == reference_movements(rows)

    summary = run(duckdb_backend, mrr_summary(table, PERIODS))
    for row in summary.itertuples():
        gained = row.new_mrr + row.expansion_mrr + row.reactivation_mrr + row.resumed_mrr
        lost = row.contraction_mrr + row.churned_mrr + row.paused_mrr
        assert row.starting_mrr + gained - lost == row.ending_mrr
    # Consecutive periods chain: what a period ends with, the next starts with.
    assert summary["ending_mrr"].tolist()[:-1] == summary["starting_mrr"].tolist()[1:]
    # NRR is the end MRR of the customers who paid at the start, over their start MRR.
    for p, nrr in zip(PERIODS, summary["nrr"], strict=True):
        start_total = sum(_state(rows, c, p.start)[3] for c in {r["customer_id"] for r in rows})
        if start_total == 0:
            assert nrr != nrr  # NaN: undefined without starting MRR
            continue
        kept = sum(
            _state(rows, c, p.end)[3] for c in {r["customer_id"] for r in rows} if _state(rows, c, p.start)[3] > 0
        )
        assert abs(nrr - 100.0 * kept / start_total) < 1e-9


@SLOW_OK
@given(rows=histories())
def test_retention_series_matches_reference_and_identities(duckdb_backend, rows):
    out = run(duckdb_backend, retention_series(ibis.memtable(subscriptions(rows)), PERIODS))
    columns = [
        "start_customers",
        "new_customers",
        "end_customers",
        "lost",
        "lost_voluntary",
        "lost_involuntary",
        "paused",
        "acquired",
        "reactivated",
        "resumed",
    ]
    assert records(out, columns) == reference_series(rows)
    for r in out.itertuples():
        assert r.end_customers == r.start_customers - r.lost - r.paused + r.new_customers
        assert r.retained == r.end_customers - r.new_customers
        if r.start_customers:
            assert abs(r.retention_rate + r.churn_rate + r.pause_rate - 100.0) < 1e-9
    assert out["end_customers"].tolist()[:-1] == out["start_customers"].tolist()[1:]
