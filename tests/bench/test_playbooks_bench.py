"""``retain bench playbooks`` on a tiny company: what it measures is what it claims to measure.

No timing is asserted. The invariants: every message due reaches the receiver exactly once (distinct keys ==
requests == delivered == M, for the worker and for the bare posts), the bare trigger queries fire exactly the
entries the run accounted for, the bare condition queries exclude exactly the customers the run refused for
their conditions, and the inserts baseline writes exactly the rows the run wrote.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from retain.bench.playbooks_bench import inserts_job, run_playbooks_bench, top_up_outbox
from retain.bench.playbooks_workspace import (
    PLAYBOOKS,
    clear_run_outputs,
    copy_state,
    open_playbooks_workspace,
    prepare_playbooks_workspace,
)
from retain.state.tables import outbox

CUSTOMERS = 3_000
MESSAGES = 500


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
    """Where the tiny company and its playbooks workspace are prepared, once for this module."""
    return tmp_path_factory.mktemp("bench-playbooks")


def test_the_bench_delivers_every_message_once_and_its_baselines_match_the_run(work_dir):
    result = run_playbooks_bench(
        CUSTOMERS, messages=MESSAGES, repeats=2, work_dir=work_dir, seed=7, model_customers=CUSTOMERS
    )
    assert sorted(p.name for p in result.playbooks) == sorted(PLAYBOOKS)
    assert len({p.trigger for p in result.playbooks}) == 8  # every trigger kind of the library
    for p in result.playbooks:
        assert p.error is None, p
        # A fresh state database: nobody is enrolled yet, so every fired entry ends in one of three outcomes.
        assert p.already_enrolled == 0
        assert p.fired == p.entered + p.conditions + p.reentry, p
        assert p.baseline_fired == p.fired, p
        assert p.baseline_not_meeting_conditions == p.conditions, p
        assert 0 <= p.held_out <= p.entered
    assert sum(p.entered for p in result.playbooks) == result.written["playbook_enrolments"]
    assert sum(p.enqueued for p in result.playbooks) == result.written["outbox"] == result.run_messages
    assert 0 < result.run_messages < MESSAGES  # the top-up is exercised
    assert any(p.conditions for p in result.playbooks)  # the condition baseline is exercised

    assert len(result.deliveries) == len(result.posts) == 2
    for check in (*result.deliveries, *result.posts):
        assert (check.messages, check.delivered, check.requests, check.distinct_keys) == (MESSAGES,) * 4
    assert set(result.jobs) == {"run", "triggers", "inserts", "deliver", "posts"}
    assert all(len(runs) == 2 for runs in result.runs.values())


def test_the_top_up_and_the_inserts_baseline_write_exactly_what_they_are_asked_to(work_dir, tmp_path):
    prepared = prepare_playbooks_workspace(CUSTOMERS, work_dir, seed=7, model_customers=CUSTOMERS)
    state = copy_state(prepared, tmp_path / "state.db")
    ws = open_playbooks_workspace(prepared, state, "http://127.0.0.1:9/hooks/retain")
    try:
        assert top_up_outbox(ws, 40) == 40
        assert top_up_outbox(ws, 25) == 0  # already more than asked for
        with ws.connect() as conn:
            rows = conn.execute(sa.select(outbox)).mappings().all()
        assert len(rows) == 40 and len({r["idempotency_key"] for r in rows}) == 40
        copies = [{k: v for k, v in r.items() if k != "id"} for r in rows]
        assert inserts_job(ws.state, {"outbox": copies}) == {"outbox": 40}
        # The scratch table has the outbox's unique keys (the inserts pay for them as the run's do) …
        with pytest.raises(sa.exc.IntegrityError):
            inserts_job(ws.state, {"outbox": [*copies, copies[0]]})
        # … and is dropped again, even after a failure; the real outbox is untouched.
        assert not sa.inspect(ws.state).has_table("bench_scratch_outbox")
        with ws.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one() == 40
    finally:
        ws.state.dispose()
        clear_run_outputs(prepared)
