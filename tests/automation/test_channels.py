"""Channels against real receivers on loopback: aiosmtpd for email, an HTTP server for webhooks, files on disk.

Each answer of a receiver is checked to be classified as the module docstrings say (2xx/250 delivered, 5xx,
408, 429, 4xx SMTP, down and slow transient, other 4xx and 5xx SMTP permanent), and no error text holds a
credential.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from outbox_builders import email_message, webhook_message
from receivers import FAIL, OK, REJECT, SLOW, WEBHOOK_SECRET, SmtpReceiver

from retain.automation.channels import (
    DELIVERS,
    SENDERS,
    ChannelKind,
    Delivery,
    DeliveryError,
    FileSender,
    SmtpSender,
    WebhookSender,
    build_email,
    make_senders,
    sign,
    verify_signature,
)
from retain.automation.channels.webhook import body_bytes, parse_retry_after, shown_url
from retain.automation.worker import delivery_of
from retain.settings import FileChannel, SmtpChannel, WebhookChannel
from retain.state.tables import MessageKind

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _smtp(receiver: SmtpReceiver, **extra) -> SmtpSender:
    settings = SmtpChannel(kind="smtp", host="127.0.0.1", port=receiver.port, sender="Retain <care@example.com>",
                           timeout_seconds=2, **extra)  # fmt: skip
    return SmtpSender("email", settings)


def _webhook(url: str, *, timeout: float = 2.0) -> WebhookSender:
    return WebhookSender("crm", WebhookChannel(kind="webhook", url=url, secret=WEBHOOK_SECRET, timeout_seconds=timeout))


# --- registry -------------------------------------------------------------------------------------------------


def test_every_channel_kind_has_a_sender_and_a_message_kind(tmp_path):
    assert set(SENDERS) == set(DELIVERS) == set(ChannelKind)
    assert set(DELIVERS.values()) == set(MessageKind)
    senders = make_senders(
        {
            "email": SmtpChannel(kind="smtp", sender="care@example.com"),
            "crm": WebhookChannel(kind="webhook", url="https://crm.example.com/h", secret=WEBHOOK_SECRET),
            "export": FileChannel(kind="file", path=Path("out/messages.jsonl")),
        },
        workspace=tmp_path,
    )
    assert {name: type(s) for name, s in senders.items()} == {
        "email": SmtpSender,
        "crm": WebhookSender,
        "export": FileSender,
    }
    assert {name: s.kind for name, s in senders.items()} == {
        "email": MessageKind.EMAIL,
        "crm": MessageKind.WEBHOOK,
        "export": MessageKind.FILE,
    }
    assert senders["export"].path == tmp_path / "out" / "messages.jsonl"


# --- SMTP -----------------------------------------------------------------------------------------------------


def test_an_email_arrives_as_plain_text_and_html_with_its_key_as_message_id(smtp_receiver):
    message = email_message("C7", NOW)
    sender = _smtp(smtp_receiver)
    sender.send(delivery_of(message), now=NOW)
    sender.close()
    (arrival,) = smtp_receiver.arrivals
    mail = arrival.detail["message"]
    assert arrival.key == message.idempotency_key
    assert mail["Message-ID"] == f"<{message.idempotency_key}@retain>"
    assert (mail["From"], mail["To"], mail["Subject"]) == ("Retain <care@example.com>", "c7@example.com", "Welcome, C7")
    assert mail["List-Unsubscribe"] == "<https://shop.example.com/u/C7>"
    assert (mail["X-Customer"], mail["X-Trigger"]) == ("C7", "signup")
    assert mail["Date"] == format_datetime(NOW)
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail.get_body(("plain",)).get_content().strip() == "Hello C7, welcome aboard."
    assert mail.get_body(("html",)).get_content().strip() == "<p>Hello <b>C7</b>, welcome aboard.</p>"
    assert (arrival.detail["mail_from"], arrival.detail["rcpt"]) == ("care@example.com", ["c7@example.com"])


def test_one_connection_serves_many_emails_and_a_restarted_server_is_reconnected(smtp_receiver):
    sender = _smtp(smtp_receiver)
    for customer in ("C1", "C2"):
        sender.send(delivery_of(email_message(customer, NOW)), now=NOW)
    first = sender._smtp
    smtp_receiver.stop()  # the server goes away (and with it the idle connection)
    smtp_receiver.start()
    sender.send(delivery_of(email_message("C3", NOW)), now=NOW)  # NOOP fails, a new connection, no attempt lost
    assert sender._smtp is not first
    sender.close()
    assert smtp_receiver.keys == [email_message(c, NOW).idempotency_key for c in ("C1", "C2", "C3")]
    assert len({a.client_port for a in smtp_receiver.arrivals[:2]}) == 1  # C1 and C2 on one connection


@pytest.mark.parametrize(
    ("mode", "permanent", "text"),
    [(FAIL, False, "451 4.3.0 Try again later"), (REJECT, True, "550 5.1.1 No such user here"),
     (SLOW, False, "no answer within 0.5 s")],
)  # fmt: skip
def test_smtp_refusals_are_classified(smtp_receiver, mode, permanent, text):
    smtp_receiver.mode = mode
    settings = SmtpChannel(kind="smtp", port=smtp_receiver.port, sender="care@example.com", timeout_seconds=0.5)
    with pytest.raises(DeliveryError) as info:
        SmtpSender("email", settings).send(delivery_of(email_message("C1", NOW)), now=NOW)
    assert info.value.permanent is permanent
    assert text in str(info.value)
    assert f"SMTP channel 'email' (127.0.0.1:{smtp_receiver.port})" in str(info.value)
    assert smtp_receiver.arrivals == []


def test_a_server_that_is_down_is_a_transient_failure(smtp_receiver):
    smtp_receiver.stop()
    with pytest.raises(DeliveryError, match="connection refused") as info:
        _smtp(smtp_receiver).send(delivery_of(email_message("C1", NOW)), now=NOW)
    assert info.value.permanent is False


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback, in a test
def test_login_with_a_secret_password_which_no_error_shows():
    receiver = SmtpReceiver(login=("retain", "s3cret-pass-word")).start()
    try:
        good = _smtp(receiver, username="retain", password="s3cret-pass-word")
        good.send(delivery_of(email_message("C1", NOW)), now=NOW)
        good.close()
        assert len(receiver.arrivals) == 1
        bad = _smtp(receiver, username="retain", password="wrong-pass-word")
        with pytest.raises(DeliveryError) as info:
            bad.send(delivery_of(email_message("C2", NOW)), now=NOW)
        message = str(info.value)
        assert info.value.permanent is False  # configuration: fixed by someone, the messages wait
        assert "refused the login (535" in message and "check the channel's username and password" in message
        assert "wrong-pass-word" not in message and "s3cret" not in message
        assert "s3cret-pass-word" not in repr(good.settings)
    finally:
        receiver.stop()


def test_malformed_email_payloads_are_permanent_failures():
    base = delivery_of(email_message("C1", NOW))

    def payload(**changes) -> Delivery:
        return Delivery(base.idempotency_key, "C1", "email", MessageKind.EMAIL, {**base.payload, **changes})

    cases = {
        "'to' must be an email address": payload(to="nobody"),
        "lacks 'subject'": payload(subject=None),
        "header 'From' is set by the channel": payload(headers={"From": "evil@example.com"}),
        "linefeed or carriage return": payload(headers={"X-Note": "a\r\nBcc: victim@example.com"}),
    }
    for text, delivery in cases.items():
        with pytest.raises(DeliveryError, match=text) as info:
            build_email(delivery, sender="care@example.com", now=NOW)
        assert info.value.permanent is True
    mail = build_email(payload(to=["a@example.com", "b@example.com"], html=None), sender="care@example.com", now=NOW)
    assert mail["To"] == "a@example.com, b@example.com" and mail.get_content_type() == "text/plain"


# --- webhooks -------------------------------------------------------------------------------------------------


def test_a_webhook_is_signed_and_carries_its_idempotency_key(http_receiver):
    message = webhook_message("C3", NOW)
    _webhook(http_receiver.url).send(delivery_of(message), now=NOW)
    (arrival,) = http_receiver.arrivals
    (body,), (headers,) = http_receiver.bodies, http_receiver.headers
    assert arrival.key == message.idempotency_key and arrival.signed
    assert json.loads(body) == message.payload
    assert body == b'{"action":"open_task","amount":29.5,"customer_id":"C3","trigger":"payment_failed"}'
    timestamp = str(int(NOW.timestamp()))
    assert headers["X-Retain-Timestamp"] == timestamp
    # The signature, computed independently: hex HMAC-SHA256 over "<timestamp>.<body>".
    expected = hmac.new(WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Retain-Signature"] == f"v1={expected}"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["User-Agent"].startswith("retain/")


def test_verify_signature_refuses_a_wrong_secret_a_changed_body_and_an_old_timestamp():
    body = body_bytes({"customer_id": "C1"})
    ts = int(NOW.timestamp())
    signature = sign(WEBHOOK_SECRET, ts, body)
    ok = {"timestamp": str(ts), "body": body, "signature": signature, "now": NOW + timedelta(seconds=299)}
    assert verify_signature(WEBHOOK_SECRET, **ok)
    assert not verify_signature("another-secret-0123456789", **ok)
    assert not verify_signature(WEBHOOK_SECRET, **{**ok, "body": body_bytes({"customer_id": "C2"})})
    assert not verify_signature(WEBHOOK_SECRET, **{**ok, "now": NOW + timedelta(seconds=301)})  # a replay
    assert not verify_signature(WEBHOOK_SECRET, **{**ok, "timestamp": str(ts + 1)})
    assert not verify_signature(WEBHOOK_SECRET, **{**ok, "timestamp": "soon"})
    rotated = f"{sign('old-secret-0123456789abc', ts, body)}, {signature}"
    assert verify_signature(WEBHOOK_SECRET, **{**ok, "signature": rotated})


@pytest.mark.parametrize(
    ("status", "permanent", "retry_after"),
    [(503, False, 7.0), (500, False, None), (429, False, 7.0), (408, False, None), (400, True, None),
     (404, True, None), (422, True, None)],
)  # fmt: skip
def test_webhook_answers_are_classified(status, permanent, retry_after):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(status)
            if status in (503, 429):
                self.send_header("Retry-After", "7")
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/h"
        with pytest.raises(DeliveryError) as info:
            _webhook(url).send(delivery_of(webhook_message("C1", NOW)), now=NOW)
    finally:
        server.shutdown()
        server.server_close()
    assert (info.value.permanent, info.value.retry_after) == (permanent, retry_after)
    assert f"webhook 'crm' ({url}) answered HTTP {status}" in str(info.value)


def test_a_redirect_is_not_followed(http_receiver):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.send_response(301)
            self.send_header("Location", http_receiver.url + "?token=abc")
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(DeliveryError, match="redirects are not followed") as info:
            _webhook(f"http://127.0.0.1:{server.server_address[1]}/old").send(
                delivery_of(webhook_message("C1", NOW)), now=NOW
            )
    finally:
        server.shutdown()
        server.server_close()
    assert info.value.permanent is True
    assert f"to {http_receiver.url}" in str(info.value) and "token" not in str(info.value)
    assert http_receiver.arrivals == []  # the POST was not re-sent anywhere


def test_a_receiver_that_is_down_slow_or_failing_is_transient_and_retry_after_is_read(http_receiver):
    sender = _webhook(http_receiver.url, timeout=0.3)
    delivery = delivery_of(webhook_message("C1", NOW))
    http_receiver.mode, http_receiver.retry_after = FAIL, "12"
    with pytest.raises(DeliveryError) as failing:
        sender.send(delivery, now=NOW)
    assert (failing.value.permanent, failing.value.retry_after) == (False, 12.0)
    assert "answered HTTP 503 Service Unavailable (Retry-After 12 s)" in str(failing.value)
    http_receiver.mode, http_receiver.slow_seconds = SLOW, 1.0
    with pytest.raises(DeliveryError, match=r"no answer within 0.3 s") as slow:
        sender.send(delivery, now=NOW)
    assert slow.value.permanent is False
    http_receiver.stop()
    with pytest.raises(DeliveryError, match=r"connection refused \(is the receiver running\?\)") as down:
        sender.send(delivery, now=NOW)
    assert down.value.permanent is False
    http_receiver.start()
    http_receiver.mode = OK
    sender.send(delivery, now=NOW)
    assert http_receiver.keys == [delivery.idempotency_key]


def test_retry_after_as_seconds_or_an_http_date():
    assert parse_retry_after("120", now=NOW) == 120.0
    assert parse_retry_after(format_datetime(NOW + timedelta(minutes=5), usegmt=True), now=NOW) == 300.0
    assert parse_retry_after(format_datetime(NOW - timedelta(minutes=5), usegmt=True), now=NOW) == 0.0
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after(None, now=NOW) is None


def test_webhook_errors_show_no_credentials_of_the_url(http_receiver):
    http_receiver.stop()
    url = f"http://user:hunter2pw@127.0.0.1:{http_receiver.port}/hooks/retain?token=t0ps3cret"
    with pytest.raises(DeliveryError) as info:
        _webhook(url).send(delivery_of(webhook_message("C1", NOW)), now=NOW)
    assert f"http://127.0.0.1:{http_receiver.port}/hooks/retain" in str(info.value)
    assert "hunter2pw" not in str(info.value) and "t0ps3cret" not in str(info.value)
    assert WEBHOOK_SECRET not in str(info.value)
    assert shown_url("https://u:p@[::1]:8443/x?y=1") == "https://[::1]:8443/x"


# --- files ----------------------------------------------------------------------------------------------------


def test_the_file_channel_appends_one_json_line_per_message(tmp_path):
    sender = FileSender("export", FileChannel(kind="file", path=Path("out/messages.jsonl")), workspace=tmp_path)
    first, second = (webhook_message(c, NOW, channel="export") for c in ("C1", "C2"))
    sender.send(delivery_of(first), now=NOW)
    sender.send(delivery_of(second), now=NOW + timedelta(seconds=1))
    lines = (tmp_path / "out" / "messages.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"idempotency_key": first.idempotency_key, "customer_id": "C1", "playbook": "dunning", "step": 0,
         "trigger_key": "payment_failed", "channel": "export", "written_at": "2026-03-01T09:30:00+00:00",
         "payload": first.payload},
        {"idempotency_key": second.idempotency_key, "customer_id": "C2", "playbook": "dunning", "step": 0,
         "trigger_key": "payment_failed", "channel": "export", "written_at": "2026-03-01T09:30:01+00:00",
         "payload": second.payload},
    ]  # fmt: skip


def test_a_line_cut_short_by_a_crash_stays_on_its_own_line(tmp_path):
    path = tmp_path / "messages.jsonl"
    path.write_bytes(b'{"idempotency_key":"a"}\n{"idempotency_key":"b","cust')  # killed mid-write
    FileSender("export", FileChannel(kind="file", path=path), workspace=tmp_path).send(
        delivery_of(webhook_message("C1", NOW, channel="export")), now=NOW
    )
    lines = path.read_text().splitlines()
    assert lines[:2] == ['{"idempotency_key":"a"}', '{"idempotency_key":"b","cust']
    assert json.loads(lines[2])["customer_id"] == "C1" and len(lines) == 3


def test_concurrent_appends_never_interleave(tmp_path):
    path = tmp_path / "messages.jsonl"
    big = {"customer_id": "x", "text": "y" * 20_000}  # larger than a pipe buffer: one write, under the lock

    def append(worker: int) -> None:
        sender = FileSender(f"export{worker}", FileChannel(kind="file", path=path), workspace=tmp_path)
        for i in range(25):
            sender.send(Delivery(f"k{worker}-{i}", "x", "export", MessageKind.FILE, big), now=NOW)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys = sorted(json.loads(line)["idempotency_key"] for line in path.read_text().splitlines())
    assert keys == sorted(f"k{w}-{i}" for w in range(4) for i in range(25))


def test_an_unwritable_file_is_a_transient_failure(tmp_path):
    taken = tmp_path / "messages.jsonl"
    taken.mkdir()  # something that is not a writable file, whoever runs the tests (root ignores permissions)
    sender = FileSender("export", FileChannel(kind="file", path=taken), workspace=tmp_path)
    with pytest.raises(DeliveryError, match=r"file channel 'export': cannot append to .*Is a directory") as info:
        sender.send(delivery_of(webhook_message("C1", NOW, channel="export")), now=NOW)
    assert info.value.permanent is False
