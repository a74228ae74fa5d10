"""File channel: append one JSON line per message to a file, for hand-offs to other tools (``kind = "file"``).

Each line is ``{"idempotency_key", "customer_id", "playbook", "step", "trigger_key", "channel", "written_at",
"payload"}``, written with one ``write`` under an exclusive ``flock`` (several workers may append at once) and
flushed to disk (``fsync``) before the message counts as delivered. A reader drops lines whose key it has seen:
a worker that dies between the write and recording it writes the line again.

A process killed in the middle of a write can leave a line cut short; the next append starts on a new line, so
the damage stays one unparseable line, which readers skip.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import datetime
from pathlib import Path

from retain.automation.channels.base import Delivery, DeliveryError
from retain.lake.atomic import fsync
from retain.settings import FileChannel
from retain.state.tables import MessageKind

__all__ = ["FileSender", "json_line"]


def json_line(delivery: Delivery, *, now: datetime) -> bytes:
    """The line appended for ``delivery`` at ``now`` (UTF-8, ending in a newline)."""
    record = {
        "idempotency_key": delivery.idempotency_key,
        "customer_id": delivery.customer_id,
        "playbook": delivery.playbook,
        "step": delivery.step,
        "trigger_key": delivery.trigger_key,
        "channel": delivery.channel,
        "written_at": now.isoformat(),
        "payload": dict(delivery.payload),
    }
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode()


class FileSender:
    """Appends the messages of one file channel to its JSON Lines file.

    Parameters
    ----------
    name : str
        The channel's name.
    settings : FileChannel
        The file (``path``).
    workspace : Path
        A relative ``path`` is inside this folder.
    """

    kind = MessageKind.FILE

    def __init__(self, name: str, settings: FileChannel, *, workspace: Path):
        self.name = name
        self.path = settings.path if settings.path.is_absolute() else Path(workspace) / settings.path

    def send(self, delivery: Delivery, *, now: datetime) -> None:
        """Append the line of ``delivery`` and flush it to disk.

        Raises
        ------
        DeliveryError
            Transient: the file cannot be written (a missing permission, a full disk).
        """
        data = json_line(delivery, now=now)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # the last line was cut short: keep it apart from this one
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)  # also releases the flock
            if created:
                fsync(self.path.parent)  # the new file's name, too, survives a power loss
        except OSError as error:
            raise DeliveryError(
                f"file channel {self.name!r}: cannot append to {self.path} ({error.strerror or error}); fix the "
                "folder's permissions or free disk space"
            ) from None

    def close(self) -> None:
        """Nothing stays open between messages."""
