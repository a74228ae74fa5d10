"""Playbook results from the enrolments in the lake: outcomes on a hand-written timeline, then the effect.

Enrolments are written into the ``playbook_enrolments`` system table as the runner writes them (through the
lake's validated batch writer); each goal metric is checked against outcomes worked out by hand below, on DuckDB
and on PySpark.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from retain.automation.outcomes import outcomes
from retain.contract.system_tables import SystemTableName
from retain.errors import InputError, NotFoundError
from retain.facts import Facts
from retain.services.playbook_results import playbook_results
from retain.workspace import Workspace

AS_OF = datetime(2024, 5, 1, tzinfo=UTC)
MARCH = datetime(2024, 3, 1, tzinfo=UTC)  # every measured enrolment; its 30-day window ends 2024-03-31 00:00

SUBSCRIPTIONS = """subscription_id,customer_id,plan,mrr,started_at,ended_at,status
s1,c1,pro,49,2024-01-01,,active
s2,c2,pro,49,2024-01-01,2024-03-10,canceled
s3a,c3,pro,49,2024-01-01,2024-02-15,canceled
s3b,c3,pro,49,2024-03-20,,active
s4,c4,pro,49,2024-01-01,,paused
s5,c5,pro,49,2024-01-01,,active
s6,c6,pro,49,2024-01-01,,active
"""
# c1: 7 before (pre), 10 in the window and a 4 refund in it (net revenue 6), 100 after the window.
# c2: one order exactly at the enrolment instant (before: pre) and one exactly at the window's end (in it).
ORDERS = """order_id,customer_id,ordered_at,amount,status
o1,c1,2024-02-20,7,completed
o2,c1,2024-03-05,10,completed
o3,c1,2024-03-20,-4,refunded
o4,c1,2024-04-05,100,completed
o5,c2,2024-03-01T00:00:00,20,completed
o6,c2,2024-03-31T00:00:00,30,completed
o7,c6,2024-03-10,5,canceled
"""
EVENTS = """event_id,customer_id,event_type,occurred_at
e1,c1,login,2024-03-02
e2,c1,login,2024-03-03
e3,c1,page_view,2024-03-04
e4,c3,login,2024-02-25
"""


def _enrolments(rows: list[tuple[str, str, datetime]], *, metric: str = "retained", share: float = 0.5) -> pa.Table:
    return pa.table(
        {
            "playbook": ["wake_up"] * len(rows),
            "playbook_version": ["0123456789ab"] * len(rows),
            "customer_id": [c for c, _, _ in rows],
            "trigger_key": ["inactive:2024-01-30"] * len(rows),
            "arm": [a for _, a, _ in rows],
            "enrolled_at": pa.array([t for _, _, t in rows], pa.timestamp("us", tz="UTC")),
            "goal_metric": [metric] * len(rows),
            "goal_window_days": [30] * len(rows),
            "holdout_share": [share] * len(rows),
        }
    )


ENROLLED = [
    ("c1", "treatment", MARCH),
    ("c2", "holdout", MARCH),
    ("c3", "treatment", MARCH),
    ("c4", "holdout", MARCH),
    ("c6", "holdout", MARCH),
    ("c5", "treatment", datetime(2024, 4, 20, tzinfo=UTC)),  # its window ends 2024-05-20: not measured yet
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    root = tmp_path_factory.mktemp("results")
    ws = Workspace.init(root / "ws")
    for name, text in (("subscriptions", SUBSCRIPTIONS), ("orders", ORDERS), ("events", EVENTS)):
        path = root / f"{name}.csv"
        path.write_text(text)
        assert ws.ingest(name, path).rows_rejected == 0
    assert ws.ingest(SystemTableName.PLAYBOOK_ENROLMENTS, _enrolments(ENROLLED)).rows_rejected == 0
    return ws


def _measured(ws: Workspace, backend, metric: str) -> dict[str, tuple[str, float, float]]:
    facts = Facts(backend, ws.lake.view())
    enrolments = facts.system_table(SystemTableName.PLAYBOOK_ENROLMENTS)
    frame = backend.to_pandas(outcomes(facts, enrolments, metric=metric, window_days=30, as_of=AS_OF))
    return {row.customer_id: (row.arm, float(row.y), float(row.pre)) for row in frame.itertuples()}


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("pyspark", marks=pytest.mark.spark)])
def test_outcomes_of_every_goal_metric_on_both_engines(workspace, engine, request):
    backend = workspace.backend if engine == "duckdb" else request.getfixturevalue("spark_backend")
    # Retained = a running, unpaused subscription at the window's end (pre: at enrolment). c3 came back after a
    # churn, c2 left in the window, c4 is paused; c5 is still in its window.
    assert _measured(workspace, backend, "retained") == {
        "c1": ("treatment", 1.0, 1.0),
        "c2": ("holdout", 0.0, 1.0),
        "c3": ("treatment", 1.0, 0.0),
        "c4": ("holdout", 0.0, 0.0),  # paused all along: not retained, before or after
        "c6": ("holdout", 1.0, 1.0),
    }
    orders = _measured(workspace, backend, "orders")
    assert {c: v[1:] for c, v in orders.items()} == {
        "c1": (1.0, 1.0),  # o2 in the window (the refund is no order), o1 before
        "c2": (1.0, 1.0),  # o6 at the window's end counts in it, o5 at the enrolment instant before it
        "c3": (0.0, 0.0),
        "c4": (0.0, 0.0),
        "c6": (0.0, 0.0),  # a canceled order is no order
    }
    revenue = _measured(workspace, backend, "revenue")
    assert {c: v[1:] for c, v in revenue.items() if v[1] or v[2]} == {"c1": (6.0, 7.0), "c2": (30.0, 20.0)}
    logins = _measured(workspace, backend, "logins")
    assert {c: v[1:] for c, v in logins.items() if v[1] or v[2]} == {"c1": (2.0, 0.0), "c3": (0.0, 1.0)}


def test_the_service_measures_the_ended_windows_and_compares_the_arms(workspace):
    (result,) = playbook_results(workspace, "wake_up", as_of=AS_OF)
    assert (result.metric, result.window_days, result.holdout_share) == ("retained", 30, 0.5)
    assert (result.enrolled, result.measured) == (6, 5)
    u = result.uplift
    assert (u.treatment.customers, u.holdout.customers) == (2, 3)
    # treatment retained 2 of 2, holdout 1 of 3: +2/3
    assert u.effect == pytest.approx(1 - 1 / 3)
    # Two treated vs three held out at a 50 % share: 2.5 expected in each arm, no mismatch.
    assert u.sample_ratio.expected_holdout == pytest.approx(2.5) and not u.srm
    assert result.to_dict()["uplift"]["effect"] == u.raw.to_dict()


def test_unknown_playbook_and_metric_are_explained(workspace):
    with pytest.raises(NotFoundError, match=r"'nope' has no enrolments. Playbooks with enrolments: wake_up"):
        playbook_results(workspace, "nope")
    facts = workspace.facts()
    enrolments = facts.system_table(SystemTableName.PLAYBOOK_ENROLMENTS)
    with pytest.raises(InputError, match="Valid metrics: retained, orders, revenue, logins"):
        outcomes(facts, enrolments, metric="nps", window_days=30, as_of=AS_OF)


def test_a_workspace_without_enrolments_has_no_results(tmp_path):
    ws = Workspace.init(tmp_path / "ws")
    (tmp_path / "orders.csv").write_text(ORDERS)
    ws.ingest("orders", tmp_path / "orders.csv")
    assert playbook_results(ws) == []
    with pytest.raises(NotFoundError, match="none yet"):
        playbook_results(ws, "wake_up")
