"""MRR movements on a hand-written timeline: upgrade, downgrade, pause, resume, reactivation, churn."""

from __future__ import annotations

import ibis
from analytics_helpers import at, records, run, sub, subscriptions

from retain.analytics import customer_mrr, mrr_at, mrr_movements, mrr_summary, period_grid

TIMELINE = [
    # alice upgrades mid-January: one subscription, two price periods
    sub("alice", 19, at(2023, 10, 1), at(2024, 1, 15), plan="basic"),
    sub("alice", 49, at(2024, 1, 15), plan="pro"),
    # bob downgrades mid-February
    sub("bob", 49, at(2023, 11, 1), at(2024, 2, 10), plan="pro"),
    sub("bob", 19, at(2024, 2, 10), plan="basic"),
    # carol pauses in January (the paused row's mrr must not count even if filled in) and resumes in February
    sub("carol", 19, at(2023, 11, 1), at(2024, 1, 20)),
    sub("carol", 19, at(2024, 1, 20), at(2024, 2, 20), "paused"),
    sub("carol", 19, at(2024, 2, 20)),
    # dave churned in December and comes back in February: reactivation
    sub("dave", 49, at(2023, 6, 1), at(2023, 12, 15), "canceled", churn_type="voluntary", sid="dave-1"),
    sub("dave", 19, at(2024, 2, 5), sid="dave-2"),
    sub("erin", 149, at(2024, 1, 10), plan="business"),  # new in January
    sub("frank", 49, at(2023, 12, 1), at(2024, 3, 5), "canceled", churn_type="involuntary"),  # churns in March
    sub("gina", 19, at(2024, 1, 5), at(2024, 1, 25), "canceled"),  # in and out within January: invisible
    # hank adds a second subscription (an add-on) in March: expansion
    sub("hank", 19, at(2023, 12, 1), sid="hank-main"),
    sub("hank", 10, at(2024, 3, 10), sid="hank-addon", plan="addon"),
    # ivan is on a free plan, then pays from mid-February: new MRR (he never had MRR before)
    sub("ivan", 0, at(2023, 12, 1), at(2024, 2, 15), plan="free"),
    sub("ivan", 49, at(2024, 2, 15), plan="pro"),
]

PERIODS = period_grid(at(2024, 1, 1), at(2024, 4, 1), "month")


def test_movement_table_is_classified_exactly_once(backend, load):
    out = run(backend, mrr_movements(load(subscriptions(TIMELINE)), PERIODS))
    jan, feb, mar = (p.start for p in PERIODS)
    assert records(out, ["period_start", "customer_id", "movement", "mrr_start", "mrr_end", "mrr_change"]) == [
        (jan, "alice", "expansion", 19.0, 49.0, 30.0),
        (jan, "carol", "paused", 19.0, 0.0, -19.0),
        (jan, "erin", "new", 0.0, 149.0, 149.0),
        (feb, "bob", "contraction", 49.0, 19.0, -30.0),
        (feb, "carol", "resumed", 0.0, 19.0, 19.0),
        (feb, "dave", "reactivation", 0.0, 19.0, 19.0),
        (feb, "ivan", "new", 0.0, 49.0, 49.0),
        (mar, "frank", "churned", 49.0, 0.0, -49.0),
        (mar, "hank", "expansion", 19.0, 29.0, 10.0),
    ]


def test_summary_totals_grr_nrr_arpa(backend, load):
    out = run(backend, mrr_summary(load(subscriptions(TIMELINE)), PERIODS))
    mrr_columns = [
        "starting_mrr",
        "new_mrr",
        "expansion_mrr",
        "reactivation_mrr",
        "resumed_mrr",
        "contraction_mrr",
        "churned_mrr",
        "paused_mrr",
        "ending_mrr",
        "net_mrr_change",
    ]
    # MRR at Jan 1: alice 19 bob 49 carol 19 frank 49 hank 19 = 155; Feb 1: 315; Mar 1: 372; Apr 1: 333.
    assert records(out, mrr_columns) == [
        (155.0, 149.0, 30.0, 0.0, 0.0, 0.0, 0.0, 19.0, 315.0, 160.0),
        (315.0, 49.0, 0.0, 19.0, 19.0, 30.0, 0.0, 0.0, 372.0, 57.0),
        (372.0, 0.0, 10.0, 0.0, 0.0, 0.0, 49.0, 0.0, 333.0, -39.0),
    ]
    count_columns = [
        "starting_customers",
        "ending_customers",
        "new_customers",
        "expansion_customers",
        "reactivated_customers",
        "resumed_customers",
        "contraction_customers",
        "churned_customers",
        "paused_customers",
    ]
    assert records(out, count_columns) == [
        (5, 5, 1, 1, 0, 0, 0, 0, 1),
        (5, 8, 1, 0, 1, 1, 1, 0, 0),
        (8, 7, 0, 1, 0, 0, 0, 1, 0),
    ]
    # GRR = (start − contraction − churn − paused) / start; NRR adds expansion (pauses count as lost revenue).
    assert out["grr"].tolist() == [100.0 * 136 / 155, 100.0 * 285 / 315, 100.0 * 323 / 372]
    assert out["nrr"].tolist() == [100.0 * 166 / 155, 100.0 * 285 / 315, 100.0 * 333 / 372]
    assert out["revenue_churn_rate"].tolist() == [100.0 * 19 / 155, 100.0 * 30 / 315, 100.0 * 49 / 372]
    assert out["arpa"].tolist() == [315.0 / 5, 372.0 / 8, 333.0 / 7]


def test_mrr_at_an_instant(backend, load):
    table = load(subscriptions(TIMELINE))
    assert run(backend, mrr_at(table, at(2024, 3, 1))) == 372.0
    out = run(backend, customer_mrr(table, at(2024, 2, 1)))
    # carol is paused (no row), ivan is on the free plan (a row with 0).
    assert records(out, ["customer_id", "mrr"]) == [
        ("alice", 49.0),
        ("bob", 49.0),
        ("erin", 149.0),
        ("frank", 49.0),
        ("hank", 19.0),
        ("ivan", 0.0),
    ]


def test_mrr_is_zero_when_nobody_pays(duckdb_backend):
    assert run(duckdb_backend, mrr_at(ibis.memtable(subscriptions(TIMELINE)), at(2020, 1, 1))) == 0.0


def test_summary_of_a_period_without_revenue(duckdb_backend):
    out = run(duckdb_backend, mrr_summary(ibis.memtable(subscriptions(TIMELINE)), [(at(2019, 1), at(2019, 2))]))
    assert out["starting_mrr"].tolist() == [0.0] and out["ending_customers"].tolist() == [0]
    assert out[["grr", "nrr", "revenue_churn_rate", "arpa"]].isna().all(axis=None)


def test_float_noise_from_several_periods_is_not_a_movement(duckdb_backend):
    # 0.1 + 0.2 != 0.3 in floating point; the customer's MRR did not move.
    rows = [
        sub("x", 0.1, at(2023, 1, 1), at(2024, 1, 15), sid="x1"),
        sub("x", 0.2, at(2023, 1, 1), at(2024, 1, 15), sid="x2"),
        sub("x", 0.3, at(2024, 1, 15), sid="x3"),
    ]
    out = run(duckdb_backend, mrr_movements(ibis.memtable(subscriptions(rows)), [(at(2024, 1), at(2024, 2))]))
    assert len(out) == 0
