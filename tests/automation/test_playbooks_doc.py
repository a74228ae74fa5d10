"""The examples of docs/playbooks.md work as written: the settings load and the playbook file validates."""

from __future__ import annotations

import re
from pathlib import Path

from retain.automation.loading import check_playbooks
from retain.workspace import Workspace

DOC = (Path(__file__).resolve().parents[2] / "docs" / "playbooks.md").read_text()


def _block(language: str) -> str:
    return re.search(rf"```{language}\n(.*?)```", DOC, re.S).group(1)


def test_the_channel_settings_of_the_doc_load(tmp_path):
    Workspace.init(tmp_path / "ws")
    secret = "0123456789abcdef0123456789abcdef"  # the doc's "…" stands for a secret of the reader's own
    (tmp_path / "ws" / "retain.toml").write_text(_block("toml").replace('"…"', f'"{secret}"'))
    settings = Workspace.open(tmp_path / "ws").settings
    assert {name: str(c.kind) for name, c in settings.channels.items()} == {
        "email": "smtp",
        "crm": "webhook",
        "export": "file",
    }
    assert (settings.delivery.max_attempts, settings.delivery.lease_seconds) == (8, 120)


def test_the_playbook_of_the_doc_is_valid_once_its_templates_exist(tmp_path):
    folder = tmp_path / "playbooks"
    (folder / "templates").mkdir(parents=True)
    (folder / "wake_up.yaml").write_text(_block("yaml"))
    for part, text in (("subject", "We miss you"), ("txt", "Hello {{ customer.name }} {{ unsubscribe_url }}")):
        (folder / "templates" / f"wake_up.{part}.j2").write_text(text)
    check = check_playbooks([folder / "wake_up.yaml"], relative_to=tmp_path)
    assert check.problems == []
    (spec,) = [p.spec for p in check.playbooks]
    assert (spec.priority, spec.holdout, str(spec.goal.metric), spec.goal.window_days) == (30, 0.1, "retained", 30)
    assert [str(step.action) for step in spec.steps] == ["email", "task"]
