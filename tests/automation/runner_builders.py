"""Workspaces, playbook files and state-database reads for the runner tests.

Import with ``from runner_builders import ...`` (pytest puts tests/automation on sys.path for its tests).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import sqlalchemy as sa
import yaml

from retain.automation.actions import LinkSigner
from retain.automation.entries import RunInputs
from retain.automation.loading import load_playbook
from retain.automation.pressure import PressureSettings
from retain.automation.runner import RunReport, RunSettings, run_playbooks
from retain.automation.triggers import TriggerInputs
from retain.clock import FixedClock
from retain.contract.profile import PROFILE
from retain.state import make_engine, upgrade
from retain.state.tables import coupons, customer_tags, outbox, playbook_enrolments, playbook_steps, tasks
from retain.workspace import Workspace

SECRET = "runner-test-secret-0123456789abcdef"
BASE_URL = "https://shop.example.com"
WORKSPACE_ID = "00000000-0000-4000-8000-000000000001"
NOW = datetime(2024, 5, 1, tzinfo=UTC)

TOML = f"""
[channels.email]
kind = "smtp"
sender = "Shop <care@example.com>"

[channels.crm]
kind = "webhook"
url = "http://127.0.0.1:9/hook"
secret = "webhook-secret-0123456789abcdef"

[channels.export]
kind = "file"
path = "outbox.jsonl"

[automation]
signing_secret = "{SECRET}"
base_url = "{BASE_URL}"
"""

TEMPLATES = {
    "hello.subject.j2": "Hello {{ customer.name or customer.id }}",
    "hello.txt.j2": "Hi {{ customer.id }}, {{ trigger | tojson }}\nUnsubscribe: {{ unsubscribe_url }}\n",
    "hello.html.j2": '<p>Hi {{ customer.id }}</p><a href="{{ unsubscribe_url }}">unsubscribe</a>',
    "deal.subject.j2": "A deal for you",
    "deal.txt.j2": "{% if coupon is defined %}Code {{ coupon.code }}: {{ coupon.percent_off }} % off{% endif %}\n",
}

TAG = [{"action": "tag", "tag": "seen"}]
EMAIL = [{"action": "email", "template": "hello"}]
WEBHOOK = [{"action": "webhook", "channel": "crm"}]


def playbook_text(
    name: str,
    trigger: dict[str, Any],
    *,
    steps: list[dict[str, Any]] | None = None,
    conditions: str | None = None,
    holdout: float = 0.1,
    reentry: dict[str, Any] | None = None,
    priority: int = 50,
    enabled: bool = True,
) -> str:
    """The YAML of a playbook (goal: retained over 30 days)."""
    doc: dict[str, Any] = {
        "name": name,
        "description": f"Test playbook {name}.",
        "enabled": enabled,
        "priority": priority,
        "trigger": trigger,
        "steps": steps or TAG,
        "holdout": holdout,
        "goal": {"metric": "retained", "window_days": 30},
    }
    if conditions is not None:
        doc["conditions"] = conditions
    if reentry is not None:
        doc["reentry"] = reentry
    return yaml.safe_dump(doc, sort_keys=False)


def write_playbook(folder: Path, name: str, trigger: dict[str, Any], **options: Any):
    """Write ``<folder>/<name>.yaml`` (and the test templates) and load it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "templates").mkdir(exist_ok=True)
    for file, text in TEMPLATES.items():
        (folder / "templates" / file).write_text(text)
    path = folder / f"{name}.yaml"
    path.write_text(playbook_text(name, trigger, **options))
    return load_playbook(path)


def make_workspace(root: Path, tables: dict[str, str], *, clock_at: datetime = NOW, toml: str = TOML) -> Workspace:
    """A workspace with the test channels and signing secret, holding ``tables`` (name → CSV text)."""
    folder = root / "ws"
    Workspace.init(folder, clock=FixedClock(clock_at))
    (folder / "retain.toml").write_text(toml)
    ws = Workspace.open(folder, clock=FixedClock(clock_at))
    for name, text in tables.items():
        path = root / f"{name}.csv"
        path.write_text(text)
        outcome = ws.ingest(name, path)
        assert outcome.rows_rejected == 0, (name, outcome)
    return ws


def state_engine(folder: Path) -> sa.Engine:
    """A fresh, migrated SQLite state database in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{(folder / 'state.db').as_posix()}"
    upgrade(url)
    return make_engine(url)


def profile_table(rows: list[dict[str, Any]]) -> ibis.Table:
    """A profile as a memtable: the given columns typed as the profile spec types them."""
    columns = list(rows[0])
    schema = pa.schema([pa.field(c, PROFILE[c].type.arrow) for c in columns])
    return ibis.memtable(pa.Table.from_pylist(rows, schema=schema))


def settings(*, max_messages: int = 3, per_days: int = 7) -> RunSettings:
    """Run settings without quiet hours (start == end), the test secret and base URL."""
    pressure = PressureSettings(max_messages=max_messages, per_days=per_days, quiet_start=time(0), quiet_end=time(0))
    return RunSettings(WORKSPACE_ID, pressure, LinkSigner(SECRET.encode(), BASE_URL), NOW)


def run_at(
    engine: sa.Engine,
    playbooks: list,
    ws: Workspace,
    as_of: datetime,
    *,
    profile: ibis.Table | None = None,
    run_settings: RunSettings | None = None,
    **trigger: Any,
) -> RunReport:
    """The domain runner at ``as_of`` on ``ws``'s facts, with an optional hand-made profile."""
    inputs = RunInputs(TriggerInputs(facts=ws.facts(), as_of=as_of, profile=profile, **trigger))
    return run_playbooks(engine, playbooks, inputs, run_settings or settings())


def rows(engine: sa.Engine, table: sa.Table, *columns: str) -> list[tuple]:
    """The rows of ``table`` (the given columns), sorted."""
    with engine.connect() as conn:
        picked = [table.c[c] for c in columns] if columns else list(table.c)
        return sorted(tuple(r) for r in conn.execute(sa.select(*picked)))


def enrolments(engine: sa.Engine) -> set[tuple[str, str, str, str]]:
    """(playbook, customer, trigger key, arm) of every enrolment."""
    return set(rows(engine, playbook_enrolments, "playbook", "customer_id", "trigger_key", "arm"))


def steps(engine: sa.Engine) -> set[tuple[str, str, int, str, str | None]]:
    """(playbook, customer, step, status, reason) of every step row."""
    e, s = playbook_enrolments, playbook_steps
    with engine.connect() as conn:
        query = sa.select(e.c.playbook, e.c.customer_id, s.c.step, s.c.status, s.c.reason).select_from(
            s.join(e, s.c.enrolment_id == e.c.id)
        )
        return {tuple(r) for r in conn.execute(query)}


def outbox_rows(engine: sa.Engine) -> list[dict[str, Any]]:
    """Every outbox row, payload parsed, sorted by playbook, customer and step."""
    with engine.connect() as conn:
        found = [dict(r._mapping) for r in conn.execute(sa.select(outbox))]
    for row in found:
        row["payload"] = json.loads(row["payload"])
    return sorted(found, key=lambda r: (r["playbook"], r["customer_id"], r["step"]))


def counts(engine: sa.Engine) -> dict[str, int]:
    """Rows of every playbook table."""
    with engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (playbook_enrolments, playbook_steps, outbox, tasks, customer_tags, coupons)
        }
