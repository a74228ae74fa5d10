"""Re-entry rules over several runs, priority conflicts between playbooks, the suppression list and the cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from runner_builders import (
    WEBHOOK,
    WORKSPACE_ID,
    enrolments,
    make_workspace,
    outbox_rows,
    run_at,
    settings,
    state_engine,
    steps,
    write_playbook,
)

from retain.automation.arms import arm, arm_salt
from retain.automation.suppression import listed, suppress
from retain.state.tables import Arm, ListedReason

DAY1 = datetime(2024, 3, 1, 12, tzinfo=UTC)
CUSTOMERS = """customer_id,created_at,email
x,2024-01-01T00:00:00Z,x@example.com
y,2024-01-01T00:00:00Z,y@example.com
u,2024-01-01T00:00:00Z,u@example.com
"""
# x visits on days 1, 2 and 5; y twice on day 1.
VISITS = """event_id,customer_id,event_type,occurred_at
v1,x,visit,2024-03-01T10:00:00Z
v2,x,visit,2024-03-02T10:00:00Z
v3,x,visit,2024-03-05T10:00:00Z
v4,y,visit,2024-03-01T09:00:00Z
v5,y,visit,2024-03-01T10:00:00Z
"""
VISIT = {"kind": "event", "event_type": "visit"}


def _key(day: int, hour: int = 10) -> str:
    return f"event:visit:2024-03-{day:02d}T{hour:02d}:00:00Z"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return make_workspace(tmp_path_factory.mktemp("rules"), {"customers": CUSTOMERS, "events": VISITS})


@pytest.mark.parametrize(
    ("reentry", "expected", "refused"),
    [
        ({"rule": "once"}, {("x", _key(1)), ("y", _key(1, 9))}, {1: 1, 2: 1, 5: 1}),
        # after 3 days: x's visit on day 2 is one day after its entry, the one on day 5 four days after.
        ({"rule": "after_days", "days": 3}, {("x", _key(1)), ("x", _key(5)), ("y", _key(1, 9))}, {1: 1, 2: 1}),
        (
            {"rule": "every_trigger"},
            {("x", _key(1)), ("x", _key(2)), ("x", _key(5)), ("y", _key(1, 9)), ("y", _key(1))},
            {},
        ),
    ],
    ids=["once", "after_days", "every_trigger"],
)
def test_reentry_rules_over_daily_runs(ws, tmp_path, reentry, expected, refused):
    engine = state_engine(tmp_path / "state")
    playbook = write_playbook(tmp_path / "playbooks", "visits", VISIT, reentry=reentry)
    salt = arm_salt(WORKSPACE_ID, "visits")
    seen = {}
    for day in range(1, 7):
        report = run_at(engine, [playbook], ws, DAY1 + timedelta(days=day - 1)).get("visits")
        seen[day] = report.not_eligible["reentry"]
    assert enrolments(engine) == {("visits", c, k, str(arm("visits", c, salt, 0.1))) for c, k in expected}
    assert {day: n for day, n in seen.items() if n} == refused


def test_the_higher_priority_playbook_wins_a_customer_both_want_in_one_run(ws, tmp_path, engine):
    folder = tmp_path / "playbooks"
    high = write_playbook(folder, "high", VISIT, priority=80, steps=WEBHOOK, holdout=0.5)
    low = write_playbook(folder, "low", VISIT, priority=20, steps=WEBHOOK, holdout=0.5)

    report = run_at(engine, [low, high], ws, DAY1)

    # Both enrol x and y; only high's steps go (or are held out); low's are suppressed in either arm.
    assert {(p, c) for p, c, *_ in enrolments(engine)} == {(p, c) for p in ("high", "low") for c in ("x", "y")}
    assert report.get("low").suppressed == {"lower_priority": 2}
    assert report.get("high").suppressed == {}
    assert report.get("high").enqueued + report.get("high").held_out == 2
    assert {(p, c, status, reason) for p, c, _, status, reason in steps(engine) if p == "low"} == {
        ("low", "x", "suppressed", "lower_priority"),
        ("low", "y", "suppressed", "lower_priority"),
    }
    salt = arm_salt(WORKSPACE_ID, "high")
    treated = sorted(c for c in ("x", "y") if arm("high", c, salt, 0.5) is Arm.TREATMENT)
    assert [(m["playbook"], m["customer_id"]) for m in outbox_rows(engine)] == [("high", c) for c in treated]


def test_an_unsubscribed_customer_gets_no_message_but_a_task_and_the_reason_is_recorded(ws, tmp_path, engine):
    at = DAY1 - timedelta(days=10)
    with engine.begin() as conn:
        assert suppress(conn, "x", "unsubscribed", at=at) is ListedReason.UNSUBSCRIBED
        assert suppress(conn, "x", "bounced", at=at) is ListedReason.UNSUBSCRIBED  # the first reason stays
        assert listed(conn) == {"x": ListedReason.UNSUBSCRIBED}
    steps_ = [*WEBHOOK, {"action": "task", "title": "Call {{ customer.id }}"}]
    playbook = write_playbook(tmp_path / "playbooks", "care", VISIT, steps=steps_, holdout=0.01)
    salt = arm_salt(WORKSPACE_ID, "care")
    assert arm("care", "x", salt, 0.01) is Arm.TREATMENT and arm("care", "y", salt, 0.01) is Arm.TREATMENT

    report = run_at(engine, [playbook], ws, DAY1).get("care")

    assert report.suppressed == {"unsubscribed": 1}
    assert {(c, step, status, reason) for _, c, step, status, reason in steps(engine)} == {
        ("x", 0, "suppressed", "unsubscribed"),
        ("x", 1, "done", None),  # a task reaches a person, who may still call
        ("y", 0, "enqueued", None),
        ("y", 1, "done", None),
    }
    assert [m["customer_id"] for m in outbox_rows(engine)] == ["y"]


def test_erasure_replaces_any_other_listing(tmp_path):
    engine = state_engine(tmp_path)
    at = DAY1
    with engine.begin() as conn:
        suppress(conn, "x", ListedReason.BOUNCED, at=at)
        assert suppress(conn, "x", ListedReason.ERASED, at=at + timedelta(days=1)) is ListedReason.ERASED
        assert suppress(conn, "x", ListedReason.UNSUBSCRIBED, at=at + timedelta(days=2)) is ListedReason.ERASED
        assert listed(conn, ["x", "nobody"]) == {"x": ListedReason.ERASED}


def test_the_frequency_cap_counts_earlier_sends_of_every_playbook(ws, tmp_path):
    engine = state_engine(tmp_path / "state")
    folder = tmp_path / "playbooks"
    two = write_playbook(folder, "two", VISIT, steps=[*WEBHOOK, *WEBHOOK], holdout=0.01)
    salt = arm_salt(WORKSPACE_ID, "two")
    assert arm("two", "x", salt, 0.01) is Arm.TREATMENT

    # At most one message per 7 days: x's first webhook goes, the second (due at once) is capped.
    report = run_at(engine, [two], ws, DAY1, run_settings=settings(max_messages=1)).get("two")
    assert report.suppressed == {"frequency_cap": 2}
    assert {(c, step, status) for _, c, step, status, _ in steps(engine)} == {
        ("x", 0, "enqueued"),
        ("x", 1, "suppressed"),
        ("y", 0, "enqueued"),
        ("y", 1, "suppressed"),
    }
    # A day later another playbook's message to x is capped by what "two" sent.
    other = write_playbook(folder, "other", VISIT, steps=WEBHOOK, holdout=0.01, reentry={"rule": "every_trigger"})
    later = run_at(engine, [other], ws, DAY1 + timedelta(days=1), run_settings=settings(max_messages=1)).get("other")
    assert (later.entered, later.suppressed) == (1, {"frequency_cap": 1})
