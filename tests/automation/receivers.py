"""Real receivers on loopback for the delivery tests: an HTTP server and an SMTP server (aiosmtpd).

Both record what they **accepted** (answered 2xx / 250 to) as :class:`Arrival` rows, in order, raw — a repeat
of a key is recorded again — and can be told, at any moment, to be:

* ``ok``: accept;
* ``fail``: refuse for now (HTTP 503 with ``Retry-After``, SMTP 451);
* ``slow``: wait longer than the sender's timeout, then refuse (the sender gave up: not accepted);
* ``reject``: refuse for good (HTTP 400, SMTP 550);
* down: :meth:`stop` closes the port (connection refused) until :meth:`start`.

A ``decide`` callable (arrival number → mode) can script the modes per request instead. An ``on_accept`` hook
runs after an arrival is recorded and *before* the answer is sent: the moment to SIGKILL the sending worker, so
that the receiver has the message and the worker never learns it.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from retain.automation.channels.webhook import verify_signature

OK, FAIL, SLOW, REJECT = "ok", "fail", "slow", "reject"
WEBHOOK_SECRET = "test-secret-0123456789abcdef"
"""The secret of the test webhook channels; the HTTP receiver checks every signature with it."""
MODES = (OK, FAIL, SLOW, REJECT)


@dataclass(frozen=True)
class Arrival:
    """One accepted message: its key, whom it is for and which trigger, and the client's port."""

    key: str
    customer_id: str
    trigger: str
    client_port: int
    signed: bool = True
    detail: dict[str, Any] = field(default_factory=dict, compare=False)


class _Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: list[Arrival] = []
        self.requests = 0
        self.mode = OK
        self.decide: Callable[[int], str] | None = None
        self.on_accept: Callable[[Arrival], None] | None = None
        self.slow_seconds = 1.0

    def next_mode(self) -> str:
        with self.lock:
            self.requests += 1
            number = self.requests
        return self.decide(number) if self.decide is not None else self.mode

    def accept(self, arrival: Arrival) -> None:
        with self.lock:
            self.arrivals.append(arrival)
        if self.on_accept is not None:
            self.on_accept(arrival)

    @property
    def keys(self) -> list[str]:
        with self.lock:
            return [a.key for a in self.arrivals]

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


class HttpReceiver(_Recorder):
    """A webhook receiver on 127.0.0.1 that checks every signature with ``secret``."""

    def __init__(self, secret: str, *, retry_after: str = "0") -> None:
        super().__init__()
        self.secret = secret
        self.retry_after = retry_after
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/retain"

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                mode = receiver.next_mode()
                if mode == SLOW:
                    time.sleep(receiver.slow_seconds)
                    mode = FAIL
                if mode == FAIL:
                    self.send_response(503)
                    self.send_header("Retry-After", receiver.retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if mode == REJECT:
                    self.send_response(400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                signed = verify_signature(
                    receiver.secret,
                    timestamp=self.headers.get("X-Retain-Timestamp", ""),
                    body=body,
                    signature=self.headers.get("X-Retain-Signature", ""),
                    now=datetime.now(UTC),
                    tolerance_seconds=10**10,  # tests sign with fixed clocks
                )
                payload = json.loads(body)
                with receiver.lock:
                    receiver.bodies.append(body)
                    receiver.headers.append(dict(self.headers.items()))
                receiver.accept(
                    Arrival(
                        key=self.headers.get("Idempotency-Key", ""),
                        customer_id=payload.get("customer_id", ""),
                        trigger=payload.get("trigger", ""),
                        client_port=self.client_address[1],
                        signed=signed,
                        detail={"payload": payload},
                    )
                )
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender was killed before the answer: the receiver has the message all the same

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port: connections are refused until :meth:`start` (same port)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _SmtpHandler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        receiver = self.receiver
        mode = receiver.next_mode()
        if mode == SLOW:
            await asyncio.sleep(receiver.slow_seconds)
            mode = FAIL
        if mode == FAIL:
            return "451 4.3.0 Try again later"
        if mode == REJECT:
            return "550 5.1.1 No such user here"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message_id = str(message["Message-ID"])
        key = message_id.strip().removeprefix("<").removesuffix(">").removesuffix("@retain")
        # Run the hook off the event loop: it may block (it may kill a process and wait).
        await asyncio.get_running_loop().run_in_executor(
            None,
            receiver.accept,
            Arrival(
                key=key,
                customer_id=str(message["X-Customer"] or ""),
                trigger=str(message["X-Trigger"] or ""),
                client_port=session.peer[1],
                detail={"message": message, "rcpt": list(envelope.rcpt_tos), "mail_from": envelope.mail_from},
            ),
        )
        return "250 2.0.0 OK"


class SmtpReceiver(_Recorder):
    """An SMTP server on 127.0.0.1 (aiosmtpd), optionally requiring a login."""

    def __init__(self, *, login: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.port = 0
        self.login = login
        self.sessions = 0
        self._controller: Controller | None = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and self.login is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.login
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpReceiver:
        if self.port == 0:
            import socket

            with socket.socket() as probe:  # a free port, kept across restarts
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        kwargs: dict[str, Any] = {}
        if self.login is not None:
            kwargs = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self._controller = Controller(
            _SmtpHandler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        """Close the port: connections are refused until :meth:`start` (same port)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
