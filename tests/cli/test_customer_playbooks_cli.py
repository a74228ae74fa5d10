"""``retain customer`` shows what the playbooks did: a real ``retain playbook run`` after the refresh, then the 360.

The tiny workspace of tests/marts/marts_builders.py: c1's login on 15 April 12:00 is the latest fact (the
snapshot's as_of is just after it). A playbook tags whoever logged in during the last day; run on 16 April, it
enrols c1 — a day after the snapshot's as_of, and still in c1's timeline, because the 360 shows what retain did
until now. c2 did not log in and has no playbook rows.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "marts"))
from marts_builders import build_tiny

from retain.automation.arms import arm, arm_salt
from retain.automation.loading import load_playbook
from retain.cli.main import app
from retain.workspace import Workspace

runner = CliRunner(env={"COLUMNS": "250"})
PLAYBOOK = {
    "name": "logged_in",
    "description": "Tag customers who logged in.",
    "enabled": True,
    "trigger": {"kind": "event", "event_type": "login", "within_days": 1},
    "steps": [{"action": "tag", "tag": "active_user"}],
    "holdout": 0.5,
    "goal": {"metric": "logins", "window_days": 30},
}


def _run(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_the_360_timeline_shows_the_enrolment_and_its_step(tmp_path):
    path = tmp_path / "ws"
    build_tiny(path)
    _run("refresh", "-w", str(path))
    (path / "playbooks" / "logged_in.yaml").write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    _run("playbook", "run", "-w", str(path), "--as-of", "2024-04-16")

    ws = Workspace.open(path)
    version = load_playbook(path / "playbooks" / "logged_in.yaml").version
    c1_arm = str(arm("logged_in", "c1", arm_salt(ws.id, "logged_in"), 0.5))  # this workspace's salt decides
    outcome = "done" if c1_arm == "treatment" else "held out, not sent"

    timeline = json.loads(_run("customer", "c1", "-w", str(path), "--format", "json").stdout)["timeline"]
    playbook_rows = [r for r in timeline if r["kind"] in ("playbook_enrolled", "message")]
    assert playbook_rows == [
        {
            "at": "2024-04-16 00:00:00+00:00",
            "kind": "playbook_enrolled",
            "summary": f"Enrolled in logged_in ({c1_arm} arm)",
            "amount": None,
            "details": f"trigger_key=event:login:2024-04-15T12:00:00Z, version={version}",
        },
        {
            "at": "2024-04-16 00:00:00+00:00",
            "kind": "message",
            "summary": f"logged_in step 0: tag {outcome}",
            "amount": None,
            "details": None,
        },
    ]
    assert timeline[-2:] == playbook_rows  # the latest rows: after the login of 15 April

    table = " ".join(_run("customer", "c1", "-w", str(path)).output.replace("│", " ").split())
    assert f"playbook_enrolled Enrolled in logged_in ({c1_arm} arm)" in table
    assert f"message logged_in step 0: tag {outcome}" in table
    c2 = json.loads(_run("customer", "c2", "-w", str(path), "--format", "json").stdout)["timeline"]
    assert [r for r in c2 if r["kind"] in ("playbook_enrolled", "message")] == []
