"""The server's own inbox flush: every ``[inbox] flush_seconds``, or as soon as ``flush_rows`` facts arrived.

It runs in one background thread per server process with a Workspace of its own (its own engine and analytics
connection, never shared with request threads). Several processes may run it: the flush takes the workspace's
ingest lock, and a process that finds it taken skips that round instead of waiting.
"""

from __future__ import annotations

import logging
import threading

from starlette.requests import Request

from retain.clock import Clock
from retain.errors import ConflictError, RetainError
from retain.services.live_facts import flush_and_fire, pending_facts
from retain.settings import Settings
from retain.workspace import Workspace

__all__ = ["Flusher", "tell_flusher"]

log = logging.getLogger("retain.api.flusher")


class Flusher:
    def __init__(self, settings: Settings, *, clock: Clock | None = None):
        self._settings = settings
        self._clock = clock
        self._every = settings.inbox.flush_seconds
        self._rows = settings.inbox.flush_rows
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._arrived = 0
        self._thread: threading.Thread | None = None
        self.rounds = 0
        """Flushes that wrote something (for tests and the health of the service)."""

    def start(self) -> Flusher:
        self._thread = threading.Thread(target=self._loop, name="retain-inbox-flusher", daemon=True)
        self._thread.start()
        return self

    def received(self, facts: int) -> None:
        """``facts`` were accepted into the inbox: flush now when ``flush_rows`` are waiting."""
        with self._lock:
            self._arrived += facts
            if self._arrived >= self._rows:
                self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        ws = Workspace.from_settings(self._settings, clock=self._clock)
        while not self._stop.is_set():
            self._wake.wait(self._every)
            self._wake.clear()
            with self._lock:
                self._arrived = 0
            if self._stop.is_set():
                break
            self._flush(ws)
        self._flush(ws)  # what arrived before the server stopped goes into the lake now, not at the next start

    def _flush(self, ws: Workspace) -> None:
        try:
            if not any(pending_facts(ws).values()):
                return
            done = flush_and_fire(ws, wait=0)
        except ConflictError:  # another process is flushing (or an ingest runs): its flush takes these rows too
            return
        except RetainError as error:
            log.warning("inbox flush failed: %s", error)
            return
        except Exception:  # the server must keep serving; the rows stay in the inbox for the next round
            log.exception("inbox flush failed")
            return
        self.rounds += 1
        log.info("inbox flushed: %s", ", ".join(f"{t.table} {t.rows}" for t in done.flush.tables))


def tell_flusher(request: Request, facts: int) -> None:
    """``facts`` new facts reached the inbox through ``request``: tell the app's flusher, when it runs one."""
    flusher: Flusher | None = getattr(request.app.state, "flusher", None)
    if flusher is not None and facts:
        flusher.received(facts)
