"""The delivery worker in one process: passes over real receivers, retries with the configured back-off,
dead letters, configuration mistakes, a graceful stop, the service and ``retain worker``."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from outbox_builders import email_message, webhook_message, workspace_toml
from receivers import FAIL, REJECT, WEBHOOK_SECRET, HttpReceiver
from typer.testing import CliRunner

import retain
from retain.automation.backoff import RetryPolicy
from retain.automation.channels import Delivery
from retain.automation.outbox import MessageKind, OutboxMessage, OutboxStatus, enqueue
from retain.automation.worker import OutboxWorker
from retain.clock import FixedClock
from retain.services.delivery import deliver_once, outbox_counts, run_worker
from retain.state.tables import outbox
from retain.workspace import Workspace

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _workspace(tmp_path: Path, **toml) -> Workspace:
    path = tmp_path / "ws"
    path.mkdir()
    (path / "retain.toml").write_text(workspace_toml(secret=WEBHOOK_SECRET, **toml))
    return Workspace.init(path, clock=FixedClock(T0))


def _enqueue(ws: Workspace, messages: list[OutboxMessage]) -> None:
    with ws.transaction() as conn:
        assert enqueue(conn, messages, now=T0) == len(messages)


def _rows(ws: Workspace) -> list[sa.Row]:
    with ws.connect() as conn:
        return conn.execute(sa.select(outbox).order_by(outbox.c.id)).all()


def test_a_pass_delivers_every_due_message_through_its_channel(tmp_path, smtp_receiver, http_receiver):
    ws = _workspace(tmp_path, smtp_port=smtp_receiver.port, webhook_url=http_receiver.url, export_path="out.jsonl")
    emails = [email_message(f"C{i}", T0) for i in range(3)]
    hooks = [webhook_message(f"C{i}", T0 - timedelta(hours=1)) for i in range(3)]
    files = [webhook_message(f"F{i}", T0, channel="export") for i in range(2)]
    files = [OutboxMessage(**{**m.__dict__, "kind": MessageKind.FILE}) for m in files]
    later = email_message("LATER", T0 + timedelta(minutes=1))
    _enqueue(ws, [*emails, *hooks, *files, later])

    report = deliver_once(ws, worker_id="w1")
    assert (report.claimed, report.delivered, report.retried, report.dead, report.lost) == (8, 8, 0, 0, 0)
    assert sorted(smtp_receiver.keys) == sorted(m.idempotency_key for m in emails)
    assert http_receiver.keys == [m.idempotency_key for m in hooks]  # the oldest due first
    lines = (ws.path / "out.jsonl").read_text().splitlines()
    assert [line.split('"idempotency_key":"')[1][:64] for line in lines] == [m.idempotency_key for m in files]
    assert outbox_counts(ws)[OutboxStatus.DELIVERED] == 8 and outbox_counts(ws)[OutboxStatus.PENDING] == 1
    delivered = [r for r in _rows(ws) if r.status == "delivered"]
    assert {(r.attempts, r.delivered_at, r.claimed_by, r.lease_until) for r in delivered} == {(1, T0, "w1", None)}

    assert deliver_once(ws, worker_id="w1").claimed == 0  # nothing due any more
    assert deliver_once(ws, worker_id="w1", now=T0 + timedelta(minutes=1)).delivered == 1
    assert smtp_receiver.keys[-1] == later.idempotency_key


def test_failures_retry_on_the_configured_schedule_and_dead_letter_after_max_attempts(tmp_path, http_receiver):
    ws = _workspace(tmp_path, webhook_url=http_receiver.url, max_attempts=3, backoff_base_seconds=10,
                    backoff_cap_seconds=25)  # fmt: skip
    message = webhook_message("C1", T0)
    _enqueue(ws, [message])
    http_receiver.mode = FAIL
    rng = random.Random(7)
    reference = random.Random(7)
    now, waits = T0, []
    for _ in range(2):
        report = deliver_once(ws, worker_id="w1", now=now, rng=rng)
        assert (report.retried, report.dead) == (1, 0)
        assert "answered HTTP 503 Service Unavailable (Retry-After 0 s)" in report.failures[0].error
        (row,) = _rows(ws)
        waits.append((row.next_attempt_at - now).total_seconds())
        assert deliver_once(ws, worker_id="w1", now=row.next_attempt_at - timedelta(seconds=1)).claimed == 0
        now = row.next_attempt_at
    # min(cap, 10·2^(n-1)) halved plus a jitter share: 10 then 20, each from one draw of Random(7).
    assert waits == pytest.approx([5 + reference.random() * 5, 10 + reference.random() * 10], abs=1e-6)
    report = deliver_once(ws, worker_id="w1", now=now, rng=rng)
    assert (report.retried, report.dead, report.failures[0].status) == (0, 1, OutboxStatus.DEAD)
    (row,) = _rows(ws)
    assert (row.status, row.attempts) == ("dead", 3)
    assert deliver_once(ws, worker_id="w1", now=now + timedelta(days=1)).claimed == 0
    assert http_receiver.arrivals == [] and http_receiver.requests == 3


def test_a_permanent_refusal_is_dead_at_once(tmp_path, http_receiver):
    ws = _workspace(tmp_path, webhook_url=http_receiver.url)
    _enqueue(ws, [webhook_message("C1", T0)])
    http_receiver.mode = REJECT
    report = deliver_once(ws, worker_id="w1")
    assert (report.dead, report.retried, http_receiver.requests) == (1, 0, 1)
    assert "answered HTTP 400 Bad Request" in _rows(ws)[0].last_error


def test_a_missing_or_mismatched_channel_keeps_the_message_waiting(tmp_path, http_receiver):
    ws = _workspace(tmp_path, webhook_url=http_receiver.url)
    _enqueue(ws, [email_message("C1", T0), email_message("C2", T0, channel="crm", step=1)])
    report = deliver_once(ws, worker_id="w1")
    assert (report.retried, report.dead) == (2, 0)
    errors = [r.last_error for r in _rows(ws)]
    assert errors == [
        "channel 'email' is not configured (configured: crm); add a [channels.email] table to retain.toml",
        "channel 'crm' delivers webhook messages, but message 2 is email; point [channels.crm] at a channel of the "
        "right kind",
    ]
    assert http_receiver.requests == 0


class _Recording:
    name, kind = "crm", MessageKind.WEBHOOK

    def __init__(self, fail_with: Exception | None = None):
        self.sent: list[str] = []
        self.fail_with = fail_with
        self.closed = 0

    def send(self, delivery: Delivery, *, now: datetime) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(delivery.customer_id)

    def close(self) -> None:
        self.closed += 1


def _worker(engine: sa.Engine, sender: _Recording, **kwargs) -> OutboxWorker:
    policy = RetryPolicy(3, 10, 100)
    clock, lease = FixedClock(T0), timedelta(seconds=60)
    return OutboxWorker(
        engine,
        {"crm": sender},
        worker_id="w1",
        policy=policy,
        lease=lease,
        batch=4,
        clock=clock,
        rng=random.Random(1),
        **kwargs,
    )


def test_a_graceful_stop_finishes_the_message_in_flight_and_gives_the_rest_back(engine):
    with engine.begin() as conn:
        enqueue(conn, [webhook_message(f"C{i}", T0) for i in range(6)], now=T0)
    sender = _Recording()
    report = _worker(engine, sender, stop=lambda: len(sender.sent) >= 2).run_pass()
    assert sender.sent == ["C0", "C1"]
    assert (report.claimed, report.delivered, report.released) == (4, 2, 2)  # a batch of 4: two given back
    assert sender.closed == 1
    with engine.connect() as conn:
        statuses = conn.execute(sa.select(outbox.c.status).order_by(outbox.c.id)).scalars().all()
    assert statuses == ["delivered", "delivered", "pending", "pending", "pending", "pending"]
    assert _worker(engine, sender).run_pass().delivered == 4  # the next worker picks them up at once


def test_an_unexpected_error_in_a_sender_is_recorded_and_the_pass_goes_on(engine):
    with engine.begin() as conn:
        enqueue(conn, [webhook_message(f"C{i}", T0) for i in range(2)], now=T0)
    report = _worker(engine, _Recording(fail_with=KeyError("boom"))).run_pass()
    assert (report.retried, report.delivered) == (2, 0)
    assert report.failures[0].error == "unexpected KeyError: 'boom'"


def test_run_worker_once_adds_up_its_passes_and_reports_progress(tmp_path, http_receiver):
    ws = _workspace(tmp_path, webhook_url=http_receiver.url, batch=2)
    _enqueue(ws, [webhook_message(f"C{i}", T0) for i in range(5)])
    seen = []
    total = run_worker(ws, once=True, worker_id="w1", on_pass=seen.append)
    assert (total.delivered, total.claimed, total.passes) == (5, 5, 1)
    assert [r.delivered for r in seen] == [5]
    assert len(http_receiver.keys) == 5


def test_the_worker_command_delivers_and_summarises(tmp_path, http_receiver):
    ws = _workspace(tmp_path, webhook_url=http_receiver.url)
    _enqueue(ws, [webhook_message(f"C{i}", T0) for i in range(3)])
    http_receiver.decide = lambda n: FAIL if n == 2 else "ok"
    from retain.cli.main import app

    result = CliRunner().invoke(app, ["worker", "--once", "-w", str(ws.path)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert f"Delivering the outbox of {ws.path.resolve()} what is due now as worker" in out
    assert "channels: crm" in out
    assert "2 delivered, 1 to retry, 0 dead" in out
    assert "retry #2 (crm, C1): webhook 'crm'" in out and "answered HTTP 503" in out
    assert "Done: 2 delivered, 1 to retry, 0 dead. Outbox: 2 delivered, 1 retry." in out


def test_the_worker_command_reports_bad_channel_settings_in_one_line(tmp_path):
    path = tmp_path / "ws"
    path.mkdir()
    (path / "retain.toml").write_text('[channels.crm]\nkind = "webhook"\nurl = "nope"\nsecret = "x"\n')
    from retain.cli.main import app

    result = CliRunner().invoke(app, ["worker", "--once", "-w", str(path)])
    assert result.exit_code == 1
    assert "error: Invalid settings:" in result.output
    assert "key 'channels.crm.url' has invalid value 'nope': not an http(s) URL" in " ".join(result.output.split())


def _src_env() -> dict[str, str]:
    import os

    src = str(Path(retain.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_sigterm_stops_a_worker_process_after_the_message_in_flight(tmp_path):
    receiver = HttpReceiver(WEBHOOK_SECRET).start()
    try:
        path = tmp_path / "ws"
        path.mkdir()
        (path / "retain.toml").write_text(
            workspace_toml(webhook_url=receiver.url, secret=WEBHOOK_SECRET, timeout_seconds=5, batch=10)
        )
        ws = Workspace.init(path)
        now = datetime.now(UTC)
        _enqueue_now(ws, [webhook_message(f"C{i}", now) for i in range(10)], now)
        process = subprocess.Popen(
            [sys.executable, "-m", "retain", "worker", "-w", str(path), "--poll", "0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_src_env(),
        )  # fmt: skip

        def terminate_mid_delivery(arrival) -> None:
            if len(receiver.arrivals) == 3:  # the third message is accepted; its answer is not sent yet
                process.send_signal(signal.SIGTERM)
                time.sleep(0.3)  # the worker has the signal before it reads the answer

        receiver.on_accept = terminate_mid_delivery
        out, err = process.communicate(timeout=60)
    finally:
        receiver.stop()
    assert process.returncode == 0, err
    assert len(receiver.keys) == 3  # the one in flight was finished, no new one started
    statuses = [r.status for r in _rows(ws)]
    assert statuses == ["delivered"] * 3 + ["pending"] * 7  # given back, nothing left leased
    assert "3 delivered, 0 to retry, 0 dead, 7 given back" in " ".join(out.split())


def _enqueue_now(ws: Workspace, messages: list[OutboxMessage], now: datetime) -> None:
    with ws.transaction() as conn:
        enqueue(conn, messages, now=now)


def test_the_invariant_checker_catches_a_lost_a_doubled_and_a_rekeyed_message():
    from outbox_builders import check_invariants
    from receivers import Arrival

    due = [webhook_message("C1", T0), webhook_message("C2", T0)]
    k1, k2 = (m.idempotency_key for m in due)

    def arrivals(*pairs: tuple[str, str]) -> list[Arrival]:
        return [Arrival(key, customer, "payment_failed", 0) for key, customer in pairs]

    assert check_invariants(due, arrivals((k1, "C1"), (k2, "C2"), (k1, "C1")), kills=1)["duplicates"] == 1
    with pytest.raises(AssertionError):  # C2's message never arrived
        check_invariants(due, arrivals((k1, "C1")), kills=0)
    with pytest.raises(AssertionError):  # a repeat without a kill to explain it
        check_invariants(due, arrivals((k1, "C1"), (k2, "C2"), (k1, "C1")), kills=0)
    with pytest.raises(AssertionError):  # C1 got the message under a second key
        check_invariants(due, arrivals((k1, "C1"), (k2, "C2"), ("other-key", "C1")), kills=5)
