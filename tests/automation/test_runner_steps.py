"""Steps over time: delays, re-checked conditions (a customer who stops qualifying is skipped and exits), and
what each action writes — tasks, tags, coupons quoted by a later email — or why it failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from runner_builders import (
    WORKSPACE_ID,
    make_workspace,
    outbox_rows,
    profile_table,
    rows,
    run_at,
    state_engine,
    steps,
    write_playbook,
)

from retain.automation.actions import coupon_code
from retain.automation.arms import arm, arm_salt
from retain.automation.enrolments import Enrolment
from retain.state.tables import Arm, EnrolmentStatus, coupons, customer_tags, playbook_enrolments, tasks

D0 = datetime(2024, 3, 31, 12, tzinfo=UTC)
CUSTOMERS = """customer_id,created_at,email,name
a,2024-03-31T08:00:00Z,a@example.com,Ada
b,2024-03-31T09:00:00Z,b@example.com,Bo
"""
SIGNUP = {"kind": "signup"}


def _all_treated(name: str, share: float, ids=("a", "b")) -> None:
    salt = arm_salt(WORKSPACE_ID, name)
    assert all(arm(name, c, salt, share) is Arm.TREATMENT for c in ids), "choose ids in the treatment arm"


def _enrolment_state(engine) -> dict[str, tuple[str, int | None, datetime | None]]:
    e = playbook_enrolments
    return {c: (s, n, d) for c, s, n, d in rows(engine, e, "customer_id", "status", "next_step", "next_step_due_at")}


def test_a_delayed_step_waits_and_a_customer_who_stops_qualifying_is_skipped_and_exits(tmp_path, engine):
    # ``engine``: a migrated state database, SQLite then PostgreSQL.
    ws = make_workspace(tmp_path, {"customers": CUSTOMERS})
    playbook = write_playbook(
        tmp_path / "playbooks",
        "onboard",
        SIGNUP,
        conditions="p_churn >= 0.5",
        holdout=0.01,
        steps=[
            {"action": "webhook", "channel": "crm"},
            {"action": "task", "title": "Call {{ customer.name }} ({{ customer.p_churn }})", "delay": "3d"},
        ],
    )
    _all_treated("onboard", 0.01)
    both_risky = profile_table([{"customer_id": "a", "p_churn": 0.6}, {"customer_id": "b", "p_churn": 0.6}])
    b_recovered = profile_table([{"customer_id": "a", "p_churn": 0.7}, {"customer_id": "b", "p_churn": 0.2}])

    first = run_at(engine, [playbook], ws, D0, profile=both_risky).get("onboard")
    assert (first.entered, first.enqueued, first.done) == (2, 2, 0)
    assert steps(engine) == {("onboard", "a", 0, "enqueued", None), ("onboard", "b", 0, "enqueued", None)}
    assert _enrolment_state(engine) == {c: ("active", 1, D0 + timedelta(days=3)) for c in ("a", "b")}

    # One day later the task (3 days after enrolment) is not due yet: nothing happens.
    second = run_at(engine, [playbook], ws, D0 + timedelta(days=1), profile=both_risky).get("onboard")
    assert (second.fired, second.enqueued, second.done, second.skipped) == (0, 0, 0, 0)
    assert len(steps(engine)) == 2

    # Three days later it is: a still qualifies and gets the task; b no longer does and exits.
    d2 = D0 + timedelta(days=3)
    third = run_at(engine, [playbook], ws, d2, profile=b_recovered).get("onboard")
    assert (third.done, third.skipped) == (1, 1)
    assert steps(engine) == {
        ("onboard", "a", 0, "enqueued", None),
        ("onboard", "b", 0, "enqueued", None),
        ("onboard", "a", 1, "done", None),
        ("onboard", "b", 1, "skipped", "the playbook's conditions no longer hold"),
    }
    assert _enrolment_state(engine) == {"a": ("completed", None, None), "b": ("exited", None, None)}
    assert rows(engine, tasks, "customer_id", "playbook", "step", "title", "status", "due_at", "created_at") == [
        ("a", "onboard", 1, "Call Ada (0.7)", "open", d2 + timedelta(days=3), d2)
    ]
    webhooks = outbox_rows(engine)
    assert [(m["customer_id"], m["kind"], m["channel"]) for m in webhooks] == [
        ("a", "webhook", "crm"),
        ("b", "webhook", "crm"),
    ]
    assert webhooks[0]["payload"] == {
        "event": "onboard",
        "playbook": "onboard",
        "version": playbook.version,
        "step": 0,
        "customer": {"id": "a", "email": "a@example.com", "name": "Ada"},
        "trigger_key": "signup:2024-03-31",
        "fired_at": "2024-03-31T08:00:00+00:00",  # the signup trigger fires at created_at
        "detail": {"created_at": "2024-03-31T08:00:00Z"},
    }


def test_a_recheck_false_step_runs_whatever_the_profile_says(tmp_path):
    ws = make_workspace(tmp_path, {"customers": CUSTOMERS})
    engine = state_engine(tmp_path / "state")
    playbook = write_playbook(
        tmp_path / "playbooks",
        "onboard",
        SIGNUP,
        conditions="p_churn >= 0.5",
        holdout=0.01,
        steps=[{"action": "tag", "tag": "new"}, {"action": "tag", "tag": "later", "delay": "1d", "recheck": False}],
    )
    run_at(engine, [playbook], ws, D0, profile=profile_table([{"customer_id": "a", "p_churn": 0.6}]))
    later = profile_table([{"customer_id": "a", "p_churn": 0.1}])
    report = run_at(engine, [playbook], ws, D0 + timedelta(days=1), profile=later).get("onboard")
    assert (report.done, report.skipped) == (1, 0)
    assert rows(engine, customer_tags, "customer_id", "tag", "playbook") == [
        ("a", "later", "onboard"),
        ("a", "new", "onboard"),
    ]


def test_a_coupon_is_issued_once_and_quoted_by_the_email_after_it(tmp_path, engine):
    ws = make_workspace(tmp_path, {"customers": CUSTOMERS})
    playbook = write_playbook(
        tmp_path / "playbooks",
        "deal",
        SIGNUP,
        holdout=0.01,
        steps=[
            {"action": "coupon", "prefix": "STAY", "percent_off": 20, "expires_days": 10},
            {"action": "email", "template": "deal"},
        ],
    )
    report = run_at(engine, [playbook], ws, D0).get("deal")
    assert (report.entered, report.done, report.enqueued) == (2, 2, 2)
    e = playbook_enrolments
    with engine.connect() as conn:
        stored = {r.customer_id: Enrolment._from_row(r) for r in conn.execute(sa.select(e))}
    codes = {c: coupon_code(b"runner-test-secret-0123456789abcdef", "STAY", stored[c], 0) for c in ("a", "b")}
    assert all(code.startswith("STAY-") and len(code) == 15 for code in codes.values())
    assert rows(engine, coupons, "customer_id", "code", "percent_off", "amount_off", "expires_at", "redeemed_at") == [
        (c, codes[c], 20.0, None, D0 + timedelta(days=10), None) for c in ("a", "b")
    ]
    assert [m["payload"]["text"] for m in outbox_rows(engine)] == [f"Code {codes[c]}: 20.0 % off" for c in ("a", "b")]
    assert {s[3] for s in steps(engine)} == {"done", "enqueued"}
    assert {r.status for r in stored.values()} == {EnrolmentStatus.COMPLETED}


def test_a_step_that_cannot_be_carried_out_fails_with_the_reason_and_the_enrolment_moves_on(tmp_path):
    ws = make_workspace(tmp_path, {"customers": CUSTOMERS})
    engine = state_engine(tmp_path / "state")
    playbook = write_playbook(
        tmp_path / "playbooks",
        "broken",
        SIGNUP,
        holdout=0.01,
        steps=[{"action": "task", "title": "Call about {{ trigger.nope }}"}, {"action": "tag", "tag": "after"}],
    )
    report = run_at(engine, [playbook], ws, D0).get("broken")
    assert (report.failed, report.done) == (2, 2)
    assert report.failures[0].startswith("a, step 0: step 0 title")
    assert "nope" in report.failures[0]
    failed = {s for s in steps(engine) if s[3] == "failed"}
    assert {(s[1], s[2]) for s in failed} == {("a", 0), ("b", 0)}
    assert rows(engine, tasks) == []
    assert rows(engine, customer_tags, "customer_id", "tag") == [("a", "after"), ("b", "after")]
