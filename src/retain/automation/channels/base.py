"""What every channel shares: the message it is handed, the error it raises, and the sender protocol.

A sender delivers one message at a time and either returns (the receiver accepted it) or raises
:class:`DeliveryError`, classified: **permanent** when the receiver refused *this message* for good (HTTP 400,
SMTP 550 for the recipient) — it is dead-lettered at once; **transient** for everything that may pass (the
receiver is down, slow, overloaded, or the channel is misconfigured and someone fixes it) — it is tried again
after a back-off. The error's text is one line and never holds a credential: it is stored in the outbox and
shown by ``retain worker``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from retain.errors import RetainError
from retain.state.tables import MessageKind

__all__ = ["Delivery", "DeliveryError", "Sender", "one_line"]

_MAX_ERROR = 500


def one_line(text: object, limit: int = _MAX_ERROR) -> str:
    """``text`` on one line of at most ``limit`` characters (how errors are stored and shown)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class Delivery:
    """One message handed to a channel.

    ``idempotency_key`` goes to the receiver (``Idempotency-Key`` header, ``Message-ID``), which drops a repeat:
    delivery is at least once, and a repeat carries the same key.
    """

    idempotency_key: str
    customer_id: str
    channel: str
    kind: MessageKind
    payload: Mapping[str, Any]
    playbook: str = ""
    step: int = 0
    trigger_key: str = ""


class DeliveryError(RetainError):
    """A message could not be delivered; ``permanent`` says whether trying again can help.

    Parameters
    ----------
    message : str
        What went wrong, naming the channel and the receiver, without credentials (made one line).
    permanent : bool
        The receiver refused this message for good: dead-letter it now.
    retry_after : float, optional
        Seconds the receiver asked to wait before the next attempt.
    """

    code = "delivery_failed"

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(one_line(message))
        self.permanent = permanent
        self.retry_after = retry_after


class Sender(Protocol):
    """Delivers the messages of one configured channel."""

    name: str
    """The channel's name in ``retain.toml``."""
    kind: MessageKind
    """The kind of message it delivers."""

    def send(self, delivery: Delivery, *, now: datetime) -> None:
        """Deliver ``delivery``; return when the receiver accepted it.

        Raises
        ------
        DeliveryError
            Not accepted; ``permanent`` and ``retry_after`` say when (whether) to try again.
        """
        ...

    def close(self) -> None:
        """Release what the sender holds open (an SMTP connection); it may be used again afterwards."""
        ...
