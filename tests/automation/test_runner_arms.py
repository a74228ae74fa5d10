"""Arms: a deterministic hash, stable across playbook edits, splitting 10,000 customers as configured."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from runner_builders import WORKSPACE_ID, make_workspace, playbook_text, run_at, state_engine

from retain.automation.arms import arm, arm_salt, arm_value
from retain.automation.loading import load_playbook
from retain.automation.uplift import check_sample_ratio
from retain.errors import InputError
from retain.state.tables import Arm, playbook_enrolments

IDS = [f"cust-{i:05d}" for i in range(10_000)]


def _reference_value(salt: str, playbook: str, customer: str) -> float:
    """The documented hash, written out: SHA-256 of the JSON list [salt, playbook, customer], first 64 bits / 2**64."""
    digest = hashlib.sha256(json.dumps([salt, playbook, customer]).encode()).hexdigest()
    return int(digest[:16], 16) / 2**64


def test_the_arm_is_the_documented_hash():
    salt = arm_salt(WORKSPACE_ID, "wake_up")
    assert salt == hashlib.sha256(json.dumps(["retain-arm-salt", WORKSPACE_ID, "wake_up"]).encode()).hexdigest()[:32]
    for customer in IDS[:200]:
        value = arm_value("wake_up", customer, salt)
        assert value == _reference_value(salt, "wake_up", customer)
        assert arm("wake_up", customer, salt, 0.1) is (Arm.HOLDOUT if value < 0.1 else Arm.TREATMENT)
    assert arm("wake_up", "c1", salt, 0.0) is Arm.TREATMENT
    assert arm("wake_up", "c1", salt, 1.0) is Arm.HOLDOUT
    with pytest.raises(InputError, match=r"holdout share must be between 0 and 1, got 1\.5"):
        arm("wake_up", "c1", salt, 1.5)


def test_the_salt_depends_on_the_workspace_and_the_playbook_name_only():
    assert arm_salt(WORKSPACE_ID, "a") == arm_salt(WORKSPACE_ID, "a")
    assert len({arm_salt(WORKSPACE_ID, "a"), arm_salt(WORKSPACE_ID, "b"), arm_salt("another-workspace", "a")}) == 3


@pytest.mark.parametrize("share", [0.1, 0.25, 0.5])
def test_10000_customers_split_within_binomial_bounds_and_pass_the_srm_check(share):
    salt = arm_salt(WORKSPACE_ID, "split")
    held = sum(1 for c in IDS if arm("split", c, salt, share) is Arm.HOLDOUT)
    n = len(IDS)
    sd = math.sqrt(n * share * (1 - share))
    assert abs(held - n * share) <= 4 * sd, (held, n * share, sd)
    check = check_sample_ratio(n - held, held, holdout_share=share)
    assert not check.srm and check.p_value > 0.001


def test_two_playbooks_draw_independent_arms():
    a, b = arm_salt(WORKSPACE_ID, "a"), arm_salt(WORKSPACE_ID, "b")
    both = sum(1 for c in IDS if arm("a", c, a, 0.5) is Arm.HOLDOUT and arm("b", c, b, 0.5) is Arm.HOLDOUT)
    sd = math.sqrt(len(IDS) * 0.25 * 0.75)
    assert abs(both - len(IDS) * 0.25) <= 4 * sd


def test_editing_a_playbook_keeps_every_customer_in_their_arm(tmp_path):
    customers = [f"c{i:03d}" for i in range(60)]
    events = "event_id,customer_id,event_type,occurred_at\n" + "".join(
        f"e{d}{c},{c},visit,2024-03-0{d}T10:00:00Z\n" for c in customers for d in (1, 2)
    )
    ws = make_workspace(tmp_path, {"events": events})
    engine = state_engine(tmp_path / "state")
    path = tmp_path / "playbooks" / "visits.yaml"
    path.parent.mkdir()
    trigger = {"kind": "event", "event_type": "visit"}
    path.write_text(playbook_text("visits", trigger, holdout=0.5, reentry={"rule": "every_trigger"}))
    v1 = load_playbook(path)
    day1 = datetime(2024, 3, 1, 12, tzinfo=UTC)
    run_at(engine, [v1], ws, day1)
    path.write_text(playbook_text("visits", trigger, holdout=0.5, reentry={"rule": "every_trigger"}, priority=60))
    v2 = load_playbook(path)
    assert v2.version != v1.version
    run_at(engine, [v2], ws, day1 + timedelta(days=1))

    e = playbook_enrolments
    with engine.connect() as conn:
        stored = conn.execute(sa.select(e.c.customer_id, e.c.playbook_version, e.c.arm, e.c.salt)).all()
    assert len(stored) == 120
    by_customer: dict[str, set[str]] = {}
    for customer, _version, arm_, salt in stored:
        assert salt == arm_salt(WORKSPACE_ID, "visits")
        by_customer.setdefault(customer, set()).add(arm_)
    assert all(len(arms) == 1 for arms in by_customer.values())  # one arm per customer over both versions
    assert {v for _, v, _, _ in stored} == {v1.version, v2.version}
    assert 0 < sum(1 for arms in by_customer.values() if arms == {"holdout"}) < 60
