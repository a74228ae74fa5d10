"""A webhook receiver on loopback for ``retain bench playbooks``: answers 200 to every POST and counts keys.

It does as little as a receiver can (read the body, remember the ``Idempotency-Key``, answer), so that the
benchmark measures the sender, not the receiver. A thread per connection (``ThreadingHTTPServer``), as both
retain's webhook channel and the bare baseline open one connection per request.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from retain.automation.channels.webhook import IDEMPOTENCY_HEADER

__all__ = ["CountingReceiver"]


class CountingReceiver:
    """Counts the POSTs it received and their distinct ``Idempotency-Key`` values; use it as a context manager."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: set[str] = set()
        self._requests = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the receiver is not running; use it inside `with CountingReceiver() as receiver:`")
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/retain"

    @property
    def requests(self) -> int:
        """POSTs received since the last :meth:`reset`."""
        with self._lock:
            return self._requests

    @property
    def distinct_keys(self) -> int:
        """Distinct ``Idempotency-Key`` values received since the last :meth:`reset`."""
        with self._lock:
            return len(self._keys)

    def reset(self) -> None:
        with self._lock:
            self._keys.clear()
            self._requests = 0

    def _record(self, key: str) -> None:
        with self._lock:
            self._requests += 1
            self._keys.add(key)

    def __enter__(self) -> CountingReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # one line per request would dominate the run
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver._record(self.headers.get(IDEMPOTENCY_HEADER, ""))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
