"""The runner on every trigger kind: each hand-written timeline of ``trigger_timelines`` enrols exactly
the entries the trigger is expected to fire (re-entry ``every_trigger``), each in the arm its stored hash
gives, and a second run at the same ``as_of`` enrols nobody new."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from runner_builders import WORKSPACE_ID, enrolments, run_at, settings, state_engine, steps, write_playbook
from trigger_timelines import CASES, Case, build_workspace, case_inputs

from retain.automation.arms import arm, arm_salt
from retain.automation.entries import RunInputs
from retain.automation.runner import run_playbooks
from retain.automation.triggers import TriggerKind
from retain.workspace import Workspace

# The playbook file refuses `from: none` (LifecycleTarget leaves out "none") although the evaluator takes it; the
# runner runs playbook files, so that timeline is not one it can meet.
RUNNABLE = [case for case in CASES if case.id != "lifecycle-from-none"]
CASE_IDS = [case.id for case in RUNNABLE]


@pytest.fixture(scope="module")
def workspace_of(tmp_path_factory) -> Callable[[dict[str, str]], Workspace]:
    built: dict[tuple[tuple[str, str], ...], Workspace] = {}

    def get(tables: dict[str, str]) -> Workspace:
        key = tuple(sorted(tables.items()))
        if key not in built:
            built[key] = build_workspace(tmp_path_factory.mktemp("timeline"), tables)
        return built[key]

    return get


def _inputs(case: Case, ws: Workspace, tmp_path) -> RunInputs:
    trigger = case_inputs(case, ws, ws.backend, tmp_path / "inputs")
    names = None if case.segments is None else frozenset(s for _, s in case.segments)
    previous = None if case.previous_segments is None else frozenset(s for _, s in case.previous_segments)
    return RunInputs(trigger, segments=names, previous_segments=previous)


@pytest.mark.parametrize("case", RUNNABLE, ids=CASE_IDS)
def test_the_runner_enrols_exactly_the_entries_the_trigger_fires(case: Case, workspace_of, tmp_path):
    ws = workspace_of(case.tables)
    engine = state_engine(tmp_path / "state")
    name = f"p_{case.kind}"
    trigger = {"kind": case.kind, **case.params}
    # every_trigger: each entry the trigger fires enters (the re-entry rules have tests of their own).
    playbook = write_playbook(tmp_path / "playbooks", name, trigger, holdout=0.3, reentry={"rule": "every_trigger"})
    inputs = _inputs(case, ws, tmp_path)

    first = run_playbooks(engine, [playbook], inputs, settings()).get(name)

    salt = arm_salt(WORKSPACE_ID, name)
    expected = {(name, c, key, str(arm(name, c, salt, 0.3))) for c, key in case.expected}
    assert enrolments(engine) == expected
    assert (first.fired, first.entered, first.already_enrolled) == (len(expected), len(expected), 0)
    assert first.entered_holdout == sum(1 for *_, a in expected if a == "holdout")
    # The one tag step ran at once: done for the treatment, held_out for the holdout.
    assert steps(engine) == {(name, c, 0, "done" if a == "treatment" else "held_out", None) for _, c, _, a in expected}

    again = run_playbooks(engine, [playbook], inputs, settings()).get(name)
    assert enrolments(engine) == expected
    assert (again.entered, again.already_enrolled, again.done, again.held_out) == (0, len(expected), 0, 0)


def test_every_trigger_kind_has_a_runner_timeline():
    assert {case.kind for case in RUNNABLE} == {kind.value for kind in TriggerKind}


def test_a_profile_trigger_without_a_profile_is_reported_and_the_other_playbooks_run(workspace_of, tmp_path):
    case = next(c for c in CASES if c.kind == "signup")
    ws = workspace_of(case.tables)
    engine = state_engine(tmp_path / "state")
    risky = write_playbook(tmp_path / "playbooks", "risky", {"kind": "risk", "min_p_churn": 0.2}, priority=90)
    welcome = write_playbook(tmp_path / "playbooks", "welcome", {"kind": "signup"})

    report = run_at(engine, [welcome, risky], ws, case.as_of)

    assert [r.name for r in report.playbooks] == ["risky", "welcome"]  # highest priority first
    assert "run `retain refresh` first" in report.get("risky").error
    assert report.get("welcome").entered == len(case.expected)
    assert {p for p, *_ in enrolments(engine)} == {"welcome"}
