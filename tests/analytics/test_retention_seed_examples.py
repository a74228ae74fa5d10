"""DESIGN.md section 4 seed examples, through the formulas and from event-level subscription data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from analytics_helpers import at, records, run, sub, subscriptions

from retain.analytics import churn_rate, retention_rate, retention_series, to_periods
from retain.errors import InputError


@pytest.mark.parametrize(
    ("start", "new", "end", "expected"),
    [(10_000, 5_500, 13_000, 75.0), (200, 50, 220, 85.0), (1_000, 200, 900, 70.0)],
)
def test_retention_rate_formula_reproduces_seed_examples(start, new, end, expected):
    assert retention_rate(start, end, new) == expected


def test_churn_rate_formula_reproduces_seed_examples():
    assert churn_rate(30, 120) == 25.0
    assert churn_rate(300, 1_000) == 30.0
    assert retention_rate(1_000, 900, 200) + churn_rate(300, 1_000) == 100.0


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: retention_rate(0, 5, 5), "S > 0"),
        (lambda: retention_rate(100, 50, 60), "between 0 and S"),
        (lambda: retention_rate(100, 250, 50), "between 0 and S"),
        (lambda: retention_rate(100, -1, 0), ">= 0"),
        (lambda: churn_rate(130, 120), "cannot exceed"),
        (lambda: churn_rate(1, 0), "S > 0"),
    ],
)
def test_formulas_reject_counts_that_cannot_happen(call, fragment):
    with pytest.raises(InputError, match=fragment):
        call()


# Four populations, one per period, far apart so that nobody of one is active in another's period.
# (label, period start, S, N, lost voluntary, lost involuntary)
ERAS = [
    ("A", at(2021, 1), 10_000, 5_500, 2_500, 0),
    ("B", at(2021, 6), 200, 50, 30, 0),
    ("C", at(2021, 11), 1_000, 200, 300, 0),
    ("D", at(2022, 4), 120, 0, 20, 10),
]


def _era_rows(label, start, s, n, lost_vol, lost_invol):
    end = start + timedelta(days=31)
    after = end + timedelta(days=30)  # everyone still there at the end leaves before the next era
    rows = []
    for i in range(s):
        cid = f"{label}-s{i}"
        if i < lost_vol:
            rows.append(
                sub(
                    cid,
                    19,
                    start - timedelta(days=60),
                    start + timedelta(days=10),
                    "canceled",
                    churn_type="voluntary",
                    reason="price",
                )
            )
        elif i < lost_vol + lost_invol:
            rows.append(
                sub(
                    cid,
                    19,
                    start - timedelta(days=60),
                    start + timedelta(days=12),
                    "canceled",
                    churn_type="involuntary",
                    reason="payment_failed",
                )
            )
        else:
            rows.append(sub(cid, 19, start - timedelta(days=60), after, "canceled", churn_type="voluntary"))
    for i in range(n):
        rows.append(sub(f"{label}-n{i}", 49, start + timedelta(days=5), after, "canceled", churn_type="voluntary"))
    # Noise that must not count: a customer who came and went inside the period (not in N), and one who
    # churned before the period (not in S).
    rows.append(sub(f"{label}-blip", 19, start + timedelta(days=3), start + timedelta(days=20), "canceled"))
    rows.append(sub(f"{label}-gone", 19, start - timedelta(days=100), start - timedelta(days=50), "canceled"))
    return rows, (start, end)


def test_series_reproduces_seed_examples_from_subscription_rows(backend, load):
    rows, periods = [], []
    for era in ERAS:
        era_rows, period = _era_rows(*era)
        rows += era_rows
        periods.append(period)
    table = subscriptions(rows)
    periods = to_periods(periods)  # explicit, non-adjacent 31-day periods
    out = run(backend, retention_series(load(table), periods))

    columns = ["start_customers", "new_customers", "end_customers", "lost", "lost_voluntary", "lost_involuntary"]
    assert records(out, columns) == [
        (10_000, 5_500, 13_000, 2_500, 2_500, 0),
        (200, 50, 220, 30, 30, 0),
        (1_000, 200, 900, 300, 300, 0),
        (120, 0, 90, 30, 20, 10),
    ]
    assert out["retention_rate"].tolist() == [75.0, 85.0, 70.0, 75.0]
    assert out["churn_rate"].tolist() == [25.0, 15.0, 30.0, 25.0]
    assert out["voluntary_churn_rate"].tolist() == [25.0, 15.0, 30.0, 100.0 * 20 / 120]
    assert out["involuntary_churn_rate"].tolist() == [0.0, 0.0, 0.0, 100.0 * 10 / 120]
    assert out["paused"].tolist() == [0, 0, 0, 0]
    assert out["acquired"].tolist() == [5_500, 50, 200, 0]
    assert [p.start for p in periods] == [s for (s,) in records(out, ["period_start"])]
