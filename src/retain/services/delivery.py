"""Deliver the outbox of a workspace: one pass (``retain worker --once``) or a worker that runs until stopped.

Any number of workers may run at once, in processes on one machine or (with PostgreSQL) on several: they claim
disjoint rows. See :mod:`retain.automation.worker` for what is guaranteed (at least once, the same key on a
re-send, so receivers deliver each message once).
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import FrameType

import sqlalchemy as sa

from retain.automation.backoff import RetryPolicy, UniformSource
from retain.automation.channels import make_senders
from retain.automation.outbox import OutboxStatus, counts_by_status
from retain.automation.worker import DeliveryReport, OutboxWorker
from retain.clock import Clock, FixedClock
from retain.errors import StateDatabaseError
from retain.state.db import describe_database_error
from retain.workspace import Workspace

__all__ = ["DeliveryReport", "default_worker_id", "deliver_once", "outbox_counts", "run_worker"]


def default_worker_id() -> str:
    """``host:pid:random`` — unique among the workers running at once, readable in ``claimed_by``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _worker(
    ws: Workspace, *, worker_id: str, clock: Clock, rng: UniformSource | None, stop: Callable[[], bool] | None
) -> OutboxWorker:
    delivery = ws.settings.delivery
    return OutboxWorker(
        ws.state,
        make_senders(ws.settings.channels, workspace=ws.path),
        worker_id=worker_id,
        policy=RetryPolicy(delivery.max_attempts, delivery.backoff_base_seconds, delivery.backoff_cap_seconds),
        lease=timedelta(seconds=delivery.lease_seconds),
        batch=delivery.batch,
        clock=clock,
        rng=rng if rng is not None else random.Random(),
        stop=stop,
    )


def _database_failure(error: sa.exc.DBAPIError) -> StateDatabaseError:
    return StateDatabaseError(
        f"The state database failed while delivering the outbox: {describe_database_error(error)}. Messages in "
        "flight are sent again once their lease runs out; check the database and start the worker again."
    )


def deliver_once(
    ws: Workspace,
    *,
    worker_id: str,
    now: datetime | None = None,
    rng: UniformSource | None = None,
    stop: Callable[[], bool] | None = None,
) -> DeliveryReport:
    """Deliver every outbox message due now, then return.

    Parameters
    ----------
    ws : Workspace
        Its channels and ``[delivery]`` settings apply.
    worker_id : str
        Who claims (see :func:`default_worker_id`).
    now : datetime, optional
        The time of the whole pass (claims, leases, back-offs, signatures); default: the workspace's clock.
    rng : UniformSource, optional
        Jitter of the back-off (default: a fresh :class:`random.Random`).
    stop : callable, optional
        Asked between messages; when it returns True the pass ends after the message in flight.

    Returns
    -------
    DeliveryReport

    Raises
    ------
    StateDatabaseError
        The state database failed mid-way (the message in flight is sent again later).
    """
    clock = FixedClock(now) if now is not None else ws.clock
    try:
        return _worker(ws, worker_id=worker_id, clock=clock, rng=rng, stop=stop).run_pass()
    except sa.exc.DBAPIError as error:
        raise _database_failure(error) from None


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` (the message in flight is finished); a second one acts as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {number: signal.getsignal(number) for number in signals}

    def handler(number: int, _frame: FrameType | None) -> None:
        stop.set()
        for each, old in previous.items():  # a second Ctrl-C interrupts at once
            signal.signal(each, old)

    for number in signals:
        signal.signal(number, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def run_worker(
    ws: Workspace,
    *,
    once: bool = False,
    poll_seconds: float = 5.0,
    worker_id: str | None = None,
    rng: UniformSource | None = None,
    stop: threading.Event | None = None,
    on_pass: Callable[[DeliveryReport], None] | None = None,
    on_error: Callable[[str], None] | None = None,
) -> DeliveryReport:
    """Deliver the outbox until stopped (SIGTERM, SIGINT or ``stop``), looking for due messages every
    ``poll_seconds`` when idle; with ``once``, one pass.

    Parameters
    ----------
    ws : Workspace
    once : bool
        Deliver what is due now and return.
    poll_seconds : float
        Wait between passes that found nothing to do.
    worker_id : str, optional
        Default :func:`default_worker_id`.
    rng : UniformSource, optional
        Jitter of the back-off.
    stop : threading.Event, optional
        Set it to stop after the message in flight; SIGTERM and SIGINT set it too (in the main thread).
    on_pass : callable, optional
        Called with the report of every pass that attempted or released something (progress).
    on_error : callable, optional
        Called with a one-line message when the state database fails; the worker waits ``poll_seconds`` and
        goes on (with ``once`` the error is raised instead).

    Returns
    -------
    DeliveryReport
        The sum of every pass.
    """
    stop = stop or threading.Event()
    worker = _worker(ws, worker_id=worker_id or default_worker_id(), clock=ws.clock, rng=rng, stop=stop.is_set)
    total = DeliveryReport()
    with _stop_on_signals(stop):
        while not stop.is_set():
            try:
                report = worker.run_pass()
            except sa.exc.DBAPIError as error:
                if once:
                    raise _database_failure(error) from None
                if on_error is not None:
                    on_error(str(_database_failure(error)))
                stop.wait(poll_seconds)
                continue
            total.add(report)
            if on_pass is not None and (report.attempted or report.released or report.lost):
                on_pass(report)
            if once:
                break
            if not report.claimed:
                stop.wait(poll_seconds)
    return total


def outbox_counts(ws: Workspace) -> dict[OutboxStatus, int]:
    """Messages in the outbox per status (every status, zero when none)."""
    with ws.connect() as conn:
        return counts_by_status(conn)
