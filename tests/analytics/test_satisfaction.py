"""NPS, CSAT, survey responses and support load on hand-written feedback and tickets."""

from __future__ import annotations

from datetime import timedelta

import ibis
import pytest
from analytics_helpers import at, records, run
from builders_commerce import answer, feedback, ticket, tickets

from retain.analytics.periods import period_grid
from retain.analytics.satisfaction import (
    SATISFACTION_COLUMNS,
    SUPPORT_COLUMNS,
    repeated_unresolved_complaints,
    satisfaction_summary,
    support_summary,
    survey_responses,
)
from retain.errors import InputError

PERIODS = period_grid(at(2024, 1), at(2024, 4))

ANSWERS = [
    answer("n1", "c1", "nps", 10, at(2024, 1, 5)),
    answer("n2", "c2", "nps", 9, at(2024, 1, 6)),
    answer("n3", "c3", "nps", 8, at(2024, 1, 7)),
    answer("n4", "c4", "nps", 6, at(2024, 1, 8)),
    answer("n5", "c5", "nps", 0, at(2024, 1, 9)),
    answer("n6", "c6", "nps", None, at(2024, 1, 10)),  # opened the survey, gave no score
    answer("s1", "c1", "csat", 5, at(2024, 1, 11)),
    answer("s2", "c2", "csat", 4, at(2024, 1, 12)),
    answer("s3", "c3", "csat", 3, at(2024, 1, 13)),
    answer("x1", "c4", "exit", None, at(2024, 1, 31, 23)),
    answer("n7", "c1", "nps", 10, at(2024, 2, 3)),
    answer("n8", "c2", "nps", 10, at(2024, 2, 4)),
    answer("n9", "c3", "nps", 7, at(2024, 2, 1)),  # exactly at the February boundary
    answer("s4", "c4", "csat", 1, at(2024, 2, 20)),
]


def _rows(frame):
    return [tuple(None if isinstance(v, float) and v != v else v for v in row) for row in frame]


def test_nps_and_csat_per_month(backend, load):
    out = run(backend, satisfaction_summary(load(feedback(ANSWERS)), PERIODS))
    # Jan NPS: 2 promoters, 1 passive, 2 detractors of 5 scored answers -> 0; CSAT 2 of 3.
    # Feb NPS: 2 promoters, 1 passive -> 66.67; CSAT 0 of 1. March: no answers.
    assert _rows(records(out, list(SATISFACTION_COLUMNS))) == [
        (at(2024, 1), at(2024, 2), 5, 2, 1, 2, 0.0, 3, 2, 100.0 * 2 / 3),
        (at(2024, 2), at(2024, 3), 3, 2, 1, 0, 100.0 * 2 / 3, 1, 0, 0.0),
        (at(2024, 3), at(2024, 4), 0, 0, 0, 0, None, 0, 0, None),
    ]


def test_responses_per_survey(backend, load):
    out = run(backend, survey_responses(load(feedback(ANSWERS)), PERIODS))
    jan, feb, mar = (p.start for p in PERIODS)
    assert records(out, ["period_start", "survey", "responses"]) == [
        (jan, "csat", 3),
        (jan, "exit", 1),
        (jan, "nps", 6),
        (feb, "csat", 1),
        (feb, "exit", 0),
        (feb, "nps", 3),
        (mar, "csat", 0),
        (mar, "exit", 0),
        (mar, "nps", 0),
    ]


TICKETS = [
    ticket("t1", "c1", at(2024, 1, 2), at(2024, 1, 2, 6)),  # 6 h
    ticket("t2", "c1", at(2024, 1, 10), at(2024, 2, 3), complaint=True),  # 24 days = 576 h
    ticket("t3", "c2", at(2024, 1, 20), complaint=True),  # never resolved
    ticket("t4", "c2", at(2024, 2, 5), at(2024, 3, 10, 12), complaint=True),  # 34.5 days = 828 h
    ticket("t5", "c2", at(2024, 2, 28), complaint=True),
    ticket("t6", "c3", at(2024, 2, 1), at(2024, 2, 1) + timedelta(minutes=90)),  # 1.5 h
    ticket("t7", "c3", at(2024, 3, 1), at(2024, 3, 2), complaint=True),  # 24 h, opened at the boundary
    ticket("t8", "c4", at(2024, 1, 31, 23), complaint=True),
]


def test_support_load_per_month(backend, load):
    out = run(backend, support_summary(load(tickets(TICKETS)), PERIODS))
    # Open at Feb 1 00:00: t2 t3 t8 and t6 (opened at that very instant, resolved later).
    # Open at Mar 1: t3 t4 t5 t8 t7. Open at Apr 1: t3 t5 t8.
    # Resolved: Jan t1 (6 h); Feb t6 t2 (1.5 h, 576 h -> 288.75); Mar t7 t4 (24 h, 828 h -> 426).
    assert _rows(records(out, list(SUPPORT_COLUMNS))) == [
        (at(2024, 1), at(2024, 2), 4, 3, 1, 6.0, 4, 3),
        (at(2024, 2), at(2024, 3), 3, 2, 2, 288.75, 5, 5),
        (at(2024, 3), at(2024, 4), 1, 1, 2, 426.0, 3, 3),
    ]


def test_repeated_unresolved_complaints(backend, load):
    table = load(tickets(TICKETS))

    def complaints(as_of, **kwargs):
        out = run(backend, repeated_unresolved_complaints(table, as_of, **kwargs))
        return records(out, ["customer_id", "unresolved_complaints", "oldest_open_days"])

    # At Mar 1: c2 has t3 (41 days), t4 (24 days), t5 (2 days); c4 has t8; c3's t7 was opened at that instant.
    assert complaints(at(2024, 3, 1)) == [("c2", 3, 41.0)]
    assert complaints(at(2024, 3, 1), min_count=1) == [("c2", 3, 41.0), ("c4", 1, 29.0417), ("c3", 1, 0.0)]
    assert complaints(at(2024, 3, 1), min_days_open=30) == []
    assert complaints(at(2024, 3, 1), min_count=1, min_days_open=30) == [("c2", 1, 41.0)]
    # At Mar 15 t4 is resolved: c2 keeps t3 and t5.
    assert complaints(at(2024, 3, 15)) == [("c2", 2, 55.0)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"min_count": 0}, "min_count must be a whole number >= 1"), ({"min_days_open": -1}, "min_days_open")],
)
def test_complaint_thresholds_are_validated(kwargs, message):
    with pytest.raises(InputError, match=message):
        repeated_unresolved_complaints(ibis.memtable(tickets(TICKETS)), at(2024, 3, 1), **kwargs)
