"""``run_playbooks`` on a workspace: treated customers get outbox rows with rendered, signed messages; holdout
customers get ``held_out`` step rows and never an outbox row; the signing secret is generated once."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

import pytest
from runner_builders import (
    BASE_URL,
    EMAIL,
    SECRET,
    TOML,
    counts,
    enrolments,
    make_workspace,
    outbox_rows,
    playbook_text,
    steps,
)

from retain.automation.arms import arm, arm_salt
from retain.automation.loading import load_playbook
from retain.automation.outbox import message_key
from retain.automation.recipients import contacts
from retain.automation.signing import verify_link
from retain.contract.system_tables import SystemTableName
from retain.errors import ConfigError, InputError, NotFoundError
from retain.services import refresh
from retain.services.playbook_run import SECRET_FILE, run_inputs, run_playbooks, signing_secret

AS_OF = datetime(2024, 3, 31, 12, tzinfo=UTC)
IDS = [f"c{i:02d}" for i in range(1, 13)]
CUSTOMERS = "customer_id,created_at,email,name,attributes\n" + "".join(
    f'{c},2024-01-01T00:00:00Z,{c}@example.com,Name {c},"{{""timezone"": ""Europe/Berlin""}}"\n' for c in IDS
)
# Every customer's last activity was a login on 1 March: 30 days of silence at AS_OF.
EVENTS = "event_id,customer_id,event_type,occurred_at\n" + "".join(
    f"e{c},{c},login,2024-03-01T10:00:00Z\n" for c in IDS
)
TABLES = {"customers": CUSTOMERS, "events": EVENTS}
TRIGGER = {"kind": "inactive", "days": 30}


def _workspace(tmp_path, *, toml: str = TOML, **playbook):
    ws = make_workspace(tmp_path, TABLES, toml=toml)
    folder = ws.path / "playbooks"
    (folder / "templates").mkdir(parents=True)
    for part, text in {
        "hello.subject.j2": "Hello {{ customer.name }}",
        "hello.txt.j2": "Hi {{ customer.id }}, silent for {{ trigger.days_inactive }} days.\n{{ unsubscribe_url }}\n",
        "hello.html.j2": "<p>Hi {{ customer.name }}</p>",
    }.items():
        (folder / "templates" / part).write_text(text)
    (folder / "wake.yaml").write_text(playbook_text("wake", TRIGGER, **playbook))
    return ws


def _arms(ws, name: str, share: float) -> dict[str, str]:
    salt = arm_salt(ws.id, name)
    return {c: str(arm(name, c, salt, share)) for c in IDS}


def test_treated_customers_get_a_signed_email_and_holdouts_only_a_held_out_step(tmp_path):
    ws = _workspace(tmp_path, steps=EMAIL, holdout=0.5)
    arms = _arms(ws, "wake", 0.5)
    treated = sorted(c for c, a in arms.items() if a == "treatment")
    held = sorted(c for c, a in arms.items() if a == "holdout")
    assert treated and held  # this workspace's salt splits the twelve

    report = run_playbooks(ws, as_of=AS_OF).get("wake")

    assert enrolments(ws.state) == {("wake", c, "inactive:2024-03-01", arms[c]) for c in IDS}
    assert (report.fired, report.entered, report.entered_holdout) == (12, 12, len(held))
    assert (report.enqueued, report.held_out, report.suppressed) == (len(treated), len(held), {})
    assert steps(ws.state) == {("wake", c, 0, "enqueued" if c in treated else "held_out", None) for c in IDS}
    version = load_playbook(ws.path / "playbooks" / "wake.yaml").version
    messages = outbox_rows(ws.state)
    assert [m["customer_id"] for m in messages] == treated  # no outbox row for a holdout customer
    for m in messages:
        c = m["customer_id"]
        assert m["idempotency_key"] == message_key("wake", version, 0, c, "inactive:2024-03-01")
        assert (m["channel"], m["kind"], m["status"], m["due_at"]) == ("email", "email", "pending", AS_OF)
        payload = m["payload"]
        assert (payload["to"], payload["subject"], payload["html"]) == (
            f"{c}@example.com",
            f"Hello Name {c}",
            f"<p>Hi Name {c}</p>",
        )
        url = payload["unsubscribe_url"]
        assert url.startswith(f"{BASE_URL}/unsubscribe/")
        assert payload["text"] == f"Hi {c}, silent for 30 days.\n{url}"
        link = verify_link(SECRET.encode(), url.rsplit("/", 1)[1], purpose="unsubscribe", now=AS_OF)
        assert link.customer_id == c
        assert link.expires == datetime(2025, 3, 31, 12, tzinfo=UTC)  # link_days = 365 after it goes out


def test_a_second_run_at_the_same_as_of_writes_nothing(tmp_path):
    ws = _workspace(tmp_path, steps=EMAIL, holdout=0.5)
    run_playbooks(ws, as_of=AS_OF)
    before = counts(ws.state)
    report = run_playbooks(ws, as_of=AS_OF).get("wake")
    assert (
        counts(ws.state)
        == before
        == {
            "playbook_enrolments": 12,
            "playbook_steps": 12,
            "outbox": sum(1 for a in _arms(ws, "wake", 0.5).values() if a == "treatment"),
            "tasks": 0,
            "customer_tags": 0,
            "coupons": 0,
        }
    )
    assert (report.fired, report.entered, report.already_enrolled, report.enqueued) == (12, 0, 12, 0)


def test_the_run_copies_its_enrolments_into_the_lake_once(tmp_path):
    ws = _workspace(tmp_path, steps=EMAIL, holdout=0.5)
    run_playbooks(ws, as_of=AS_OF)
    run_playbooks(ws, as_of=AS_OF)  # nothing new: nothing written twice

    def lake() -> list[tuple]:
        table = ws.facts().system_table(SystemTableName.PLAYBOOK_ENROLMENTS)
        frame = ws.backend.to_pandas(table).sort_values("customer_id")
        columns = ["playbook", "customer_id", "trigger_key", "arm", "goal_metric", "goal_window_days", "holdout_share"]
        return [tuple(row) for row in frame[columns].itertuples(index=False)]

    arms = _arms(ws, "wake", 0.5)
    goal = load_playbook(ws.path / "playbooks" / "wake.yaml").spec.goal
    expected = [("wake", c, "inactive:2024-03-01", arms[c], str(goal.metric), goal.window_days, 0.5) for c in IDS]
    assert lake() == sorted(expected, key=lambda row: row[1])
    assert len(ws.lake.batch_files(SystemTableName.PLAYBOOK_ENROLMENTS)) == 1
    # Every step's outcome too, keyed like the outbox: enqueued for the treated, held_out for the holdout.
    steps_in_lake = ws.backend.to_pandas(ws.facts().system_table(SystemTableName.PLAYBOOK_MESSAGES))
    assert sorted(zip(steps_in_lake.customer_id, steps_in_lake.status, strict=True)) == sorted(
        (c, "enqueued" if arms[c] == "treatment" else "held_out") for c in IDS
    )
    version = load_playbook(ws.path / "playbooks" / "wake.yaml").version
    assert set(steps_in_lake.message_key) == {message_key("wake", version, 0, c, "inactive:2024-03-01") for c in IDS}
    assert len(ws.lake.batch_files(SystemTableName.PLAYBOOK_MESSAGES)) == 1


def test_without_a_configured_secret_one_is_generated_once_with_mode_0600(tmp_path):
    toml = TOML.replace(f'signing_secret = "{SECRET}"\n', "")
    ws = _workspace(tmp_path, toml=toml, steps=EMAIL, holdout=0.1)
    assert signing_secret(ws, create=False) is None
    run_playbooks(ws, as_of=AS_OF)
    path = ws.path / SECRET_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    secret = bytes.fromhex(path.read_text())
    assert len(secret) == 32 and signing_secret(ws) == secret  # kept, not generated again
    message = outbox_rows(ws.state)[0]
    token = message["payload"]["unsubscribe_url"].rsplit("/", 1)[1]
    assert verify_link(secret, token, purpose="unsubscribe", now=AS_OF).customer_id == message["customer_id"]


def test_disabled_playbooks_do_not_run_and_a_named_disabled_one_is_refused(tmp_path):
    ws = _workspace(tmp_path, steps=EMAIL, enabled=False)
    assert run_playbooks(ws, as_of=AS_OF).playbooks == []
    with pytest.raises(InputError, match=r"Playbook\(s\) wake are disabled; set enabled: true"):
        run_playbooks(ws, as_of=AS_OF, names=["wake"])
    with pytest.raises(NotFoundError, match=r"No playbook named 'nope' in .*playbooks\. Playbooks: wake\."):
        run_playbooks(ws, as_of=AS_OF, names=["nope"])
    assert counts(ws.state)["playbook_enrolments"] == 0


def test_a_step_whose_channel_is_not_configured_stops_the_run_before_anything_is_written(tmp_path):
    ws = _workspace(tmp_path, steps=[{"action": "webhook", "channel": "crm2"}, {"action": "file", "channel": "crm"}])
    with pytest.raises(ConfigError) as caught:
        run_playbooks(ws, as_of=AS_OF)
    assert str(caught.value) == (
        "Cannot run the playbooks: playbook wake, step 0 (webhook) sends through channel 'crm2', which retain.toml "
        'does not define; add a [channels.crm2] table with kind = "webhook"; playbook wake, step 1 (file) needs a '
        'file channel, but [channels.crm] has kind = "webhook".'
    )
    assert counts(ws.state)["playbook_enrolments"] == 0


def test_contacts_and_time_zones_come_from_the_customers_table_as_known_at_as_of(tmp_path):
    customers = (
        "customer_id,created_at,email,name,attributes\n"
        'z1,2024-01-01T00:00:00Z,z1@example.com,Zed,"{""timezone"": ""Asia/Kolkata"", ""tier"": ""gold""}"\n'
        'z2,2024-01-01T00:00:00Z,,Zoe,"{""tier"": ""silver""}"\n'
        "z3,2024-01-01T00:00:00Z,z3@example.com,,\n"
    )
    ws = make_workspace(tmp_path, {"customers": customers})
    inputs = run_inputs(ws, ws.facts(), AS_OF)
    assert contacts(inputs, {"z1", "z2", "z3", "unknown"}) == {
        "z1": {"email": "z1@example.com", "name": "Zed", "timezone": "Asia/Kolkata"},
        "z2": {"email": None, "name": "Zoe", "timezone": None},
        "z3": {"email": "z3@example.com", "name": None, "timezone": None},
        "unknown": {"email": None, "name": None, "timezone": None},
    }


def test_profile_triggers_and_conditions_read_the_current_and_previous_snapshots(tmp_path):
    toml = TOML + '\n[segments]\nregulars = "orders >= 2"\n'
    customers = "customer_id,created_at,email\nr1,2024-01-01T00:00:00Z,r1@example.com\nr2,2024-01-01T00:00:00Z,\n"
    first_orders = (
        "order_id,customer_id,ordered_at,amount,status\n"
        "o1,r1,2024-02-01T00:00:00Z,10,completed\n"
        "o2,r2,2024-02-01T00:00:00Z,30,completed\n"
    )
    ws = make_workspace(tmp_path, {"customers": customers, "orders": first_orders}, toml=toml)
    folder = ws.path / "playbooks"
    (folder / "templates").mkdir(parents=True)
    trigger = {"kind": "segment_entry", "segment": "regulars"}
    (folder / "regulars.yaml").write_text(
        playbook_text("regulars", trigger, conditions="total_revenue >= 30", holdout=0.01, reentry=None)
    )
    refresh(ws, as_of=datetime(2024, 2, 15, tzinfo=UTC))
    # Nothing fires on the first snapshot: it is the baseline.
    assert run_playbooks(ws, as_of=datetime(2024, 2, 15, tzinfo=UTC)).get("regulars").fired == 0

    later = tmp_path / "later_orders.csv"
    later.write_text(
        "order_id,customer_id,ordered_at,amount,status\n"
        "o3,r1,2024-03-01T00:00:00Z,15,completed\n"
        "o4,r2,2024-03-01T00:00:00Z,5,completed\n"
    )
    assert ws.ingest("orders", later).rows_rejected == 0
    refresh(ws, as_of=datetime(2024, 3, 15, tzinfo=UTC))
    report = run_playbooks(ws, as_of=datetime(2024, 3, 15, tzinfo=UTC)).get("regulars")

    # Both have two orders now and entered the segment; r1's revenue is 25, r2's 35: only r2 meets the conditions.
    assert (report.fired, report.entered, report.not_eligible["conditions"]) == (2, 1, 1)
    assert {(c, k) for _, c, k, _ in enrolments(ws.state)} == {("r2", "segment:regulars:2024-03-15")}
