"""``retain playbook run|preview|backtest`` as a user runs them in an 80-column terminal, and two ``retain playbook
run`` processes at once on one workspace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from terminal80 import flat, run, too_long

from retain.automation.arms import arm, arm_salt
from retain.state.tables import Arm, metadata, outbox, playbook_enrolments
from retain.workspace import Workspace

SRC = Path(__file__).resolve().parents[2] / "src"
TOML = """
[channels.email]
kind = "smtp"
sender = "Shop <care@example.com>"

[channels.crm]
kind = "webhook"
url = "http://127.0.0.1:9/hook"
secret = "webhook-secret-0123456789abcdef"

[automation]
signing_secret = "cli-test-secret-0123456789abcdef"
base_url = "https://shop.example.com"
quiet_start = "00:00"
quiet_end = "00:00"
"""
CUSTOMERS = """customer_id,created_at,email,name
a,2024-01-01T00:00:00Z,a@example.com,Ada
b,2024-01-01T00:00:00Z,b@example.com,Bo
c,2024-01-01T00:00:00Z,c@example.com,Cy
"""
VISITS = """event_id,customer_id,event_type,occurred_at
v1,a,visit,2024-03-04T10:00:00Z
v2,a,visit,2024-03-06T10:00:00Z
v3,a,visit,2024-03-13T10:00:00Z
v4,b,visit,2024-03-05T10:00:00Z
v5,b,visit,2024-03-19T10:00:00Z
v6,c,visit,2024-03-20T10:00:00Z
"""
PLAYBOOK = """name: visits
description: Say hello after a visit.
enabled: {enabled}
trigger: {{kind: event, event_type: visit, within_days: 7}}
steps:
  - {{action: email, template: hello}}
  - {{action: webhook, channel: crm, delay: 2d}}
holdout: 0.3
reentry: {{rule: after_days, days: 7}}
goal: {{metric: retained, window_days: 30}}
"""
TEMPLATES = {
    "hello.subject.j2": "Hello {{ customer.name }}",
    "hello.txt.j2": "Hi {{ customer.name }}, thanks for the visit.\n",
}


def _workspace(
    root: Path, name: str = "shop", *, customers: str = CUSTOMERS, visits: str = VISITS, toml: str = TOML
) -> Workspace:
    Workspace.init(root / name)
    (root / name / "retain.toml").write_text(toml)
    ws = Workspace.open(root / name)
    for table, text in (("customers", customers), ("events", visits)):
        path = root / f"{table}.csv"
        path.write_text(text)
        assert ws.ingest(table, path).rows_rejected == 0
    folder = ws.path / "playbooks"
    (folder / "templates").mkdir(parents=True)
    for file, text in TEMPLATES.items():
        (folder / "templates" / file).write_text(text)
    (folder / "visits.yaml").write_text(PLAYBOOK.format(enabled="true"))
    return ws


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.chdir(tmp_path)  # a short relative path keeps messages on one line
    ws = _workspace(Path("."))
    return ws


def _ok(*args: str) -> str:
    """What the command printed on stdout (progress goes to stderr); every line of both fits 80 columns."""
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert too_long(result.output) == [], "\n" + "\n".join(too_long(result.output))
    return result.stdout


def _table_row(output: str, name: str) -> list[str]:
    (line,) = [line for line in output.splitlines() if line.startswith(name + " ")]
    return line.split()[1:]


def _counts(ws: Workspace) -> dict[str, int]:
    with ws.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables
        }


def _arm(ws: Workspace, customer: str) -> Arm:
    return arm("visits", customer, arm_salt(ws.id, "visits"), 0.3)


def test_run_prints_a_summary_in_80_columns_and_a_second_run_enrols_nobody(shop, console_80):
    # At 7 March 00:00 the week back holds a's visits of the 4th and 6th and b's of the 5th: a enters once (the
    # 6th is refused by re-entry), b once.
    result = run("playbook", "run", "-w", "shop", "--as-of", "2024-03-07")
    assert result.exit_code == 0 and too_long(result.output) == []
    out = result.stdout
    treated = sum(1 for c in "ab" if _arm(shop, c) is Arm.TREATMENT)
    lines = out.splitlines()
    assert lines[0] == "Playbooks run at 2024-03-07 00:00 UTC:"
    header = ["playbook", "entered", "already", "not", "eligible", "held", "out", "queued", "done", "suppressed"]
    assert lines[1].split() == header
    assert _table_row(out, "visits") == ["2", "0", "1", str(2 - treated), str(treated), "0", "0"]
    assert "visits: not eligible: 0 by the conditions, 1 by re-entry" in out
    assert result.stderr.splitlines() == ["visits: trigger and enrolment", "steps due, round 1", "steps due, round 2"]

    again = _ok("playbook", "run", "-w", "shop", "--as-of", "2024-03-07")
    assert _table_row(again, "visits") == ["0", "2", "1", "0", "0", "0", "0"]
    with shop.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(playbook_enrolments)).scalar_one() == 2


def test_run_errors_are_one_line(shop, console_80):
    result = run("playbook", "run", "-w", "shop", "--name", "nope")
    assert result.exit_code == 2
    assert flat(result.output) == "error: No playbook named 'nope' in shop/playbooks. Playbooks: visits."
    (shop.path / "playbooks" / "visits.yaml").write_text(PLAYBOOK.format(enabled="false"))
    result = run("playbook", "run", "-w", "shop", "--name", "visits")
    assert result.exit_code == 2
    assert flat(result.output).startswith("error: Playbook(s) visits are disabled; set enabled: true in the file")
    assert flat(_ok("playbook", "run", "-w", "shop")) == (
        "No enabled playbook in shop/playbooks: set enabled: true in one (`retain playbook list -w shop` shows them)."
    )


def test_preview_shows_who_would_enter_and_their_messages_and_writes_nothing(shop, console_80):
    before = _counts(shop)
    out = _ok("playbook", "preview", "visits", "-w", "shop", "--as-of", "2024-03-07", "--show", "1")
    assert _counts(shop) == before
    text = flat(out)
    assert text.startswith(
        "visits (enabled, trigger event visit) at 2024-03-07 00:00 UTC: Would enter: 2 "
        f"({sum(1 for c in 'ab' if _arm(shop, c) is Arm.TREATMENT)} treated, "
        f"{sum(1 for c in 'ab' if _arm(shop, c) is Arm.HOLDOUT)} held out) of 3 fired; already enrolled 0; not "
        "eligible: 0 by the conditions, 1 by re-entry."
    )
    first = next(c for c in "ab" if _arm(shop, c) is Arm.TREATMENT)
    name = {"a": "Ada", "b": "Bo"}[first]
    assert f"── {first}: step 0, email, after 0d ──" in out
    assert f"To: {first}@example.com Subject: Hello {name} Hi {name}, thanks for the visit." in text
    assert f"── {first}: step 1, webhook, after 2d ──" in out
    assert '"trigger_key": "event:visit:' in out
    assert "note: the frequency cap, quiet hours and the other playbooks' priorities apply only in a run" in text


def test_backtest_reports_entries_per_week_and_messages_per_customer(shop, console_80):
    before = _counts(shop)
    out = _ok("playbook", "backtest", "visits", "-w", "shop", "--since", "2024-03-04", "--until", "2024-03-24")
    assert _counts(shop) == before
    text = flat(out)
    assert "visits from 2024-03-04 to 2024-03-24, every day (21 replays):" in text
    weeks = {line.split()[0]: line.split()[1] for line in out.splitlines() if line[:4] == "2024"}
    # A replay sees a visit for 7 days. a enters on the 5th (visit of the 4th), again on the 12th (7 days later, the
    # visit of the 6th still in sight) and on the 19th (visit of the 13th); b on the 6th and the 20th; c on the 21st.
    assert weeks == {"2024-03-04": "2", "2024-03-11": "1", "2024-03-18": "3"}
    assert "Messages per treated customer:" in text

    result = run("playbook", "backtest", "visits", "-w", "shop", "--since", "2024-03-04", "--every", "month")
    assert result.exit_code == 2
    assert "'month' is not one of 'day', 'week'" in flat(result.output)


def test_two_run_processes_at_once_enrol_everybody_exactly_once(tmp_path, database_url):
    # SQLite (a file lock) and PostgreSQL (an advisory lock): the second run waits for the first.
    ids = [f"c{i:04d}" for i in range(400)]
    customers = "customer_id,created_at,email,name\n" + "".join(
        f"{c},2024-01-01T00:00:00Z,{c}@example.com,N {c}\n" for c in ids
    )
    visits = "event_id,customer_id,event_type,occurred_at\n" + "".join(
        f"v{c},{c},visit,2024-03-06T10:00:00Z\n" for c in ids
    )
    ws = _workspace(tmp_path, customers=customers, visits=visits, toml=f'database_url = "{database_url}"\n' + TOML)
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "80"}
    command = [sys.executable, "-m", "retain", "playbook", "run", "-w", str(ws.path), "--as-of", "2024-03-07"]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    entered = sorted(int(_table_row(out, "visits")[0]) for out, _ in outputs)
    assert entered == [0, 400]  # one run enrolled everybody; the other waited for it, then found them enrolled
    e = playbook_enrolments
    with ws.connect() as conn:
        pairs = conn.execute(sa.select(e.c.customer_id, e.c.trigger_key)).all()
        messages = conn.execute(sa.select(outbox.c.customer_id)).scalars().all()
    assert sorted(c for c, _ in pairs) == ids
    treated = [c for c in ids if _arm(ws, c) is Arm.TREATMENT]
    assert sorted(messages) == treated  # one email each, none twice
