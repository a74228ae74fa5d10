"""The registry of senders: one per :class:`~retain.settings.ChannelKind`, and the message kind each delivers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from retain.automation.channels.base import Sender
from retain.automation.channels.file import FileSender
from retain.automation.channels.smtp import SmtpSender
from retain.automation.channels.webhook import WebhookSender
from retain.errors import ConfigError
from retain.settings import ChannelKind, ChannelSettings
from retain.state.tables import MessageKind

__all__ = ["DELIVERS", "SENDERS", "make_sender", "make_senders"]

SenderFactory = Callable[[str, Any, Path], Sender]

SENDERS: dict[ChannelKind, SenderFactory] = {
    ChannelKind.SMTP: lambda name, settings, _workspace: SmtpSender(name, settings),
    ChannelKind.WEBHOOK: lambda name, settings, _workspace: WebhookSender(name, settings),
    ChannelKind.FILE: lambda name, settings, workspace: FileSender(name, settings, workspace=workspace),
}
"""How to build the sender of a channel, by its kind: ``factory(name, settings, workspace)``."""

DELIVERS: dict[ChannelKind, MessageKind] = {
    ChannelKind.SMTP: MessageKind.EMAIL,
    ChannelKind.WEBHOOK: MessageKind.WEBHOOK,
    ChannelKind.FILE: MessageKind.FILE,
}
"""The kind of message each kind of channel delivers."""


def make_sender(name: str, settings: ChannelSettings, *, workspace: Path) -> Sender:
    """The sender of channel ``name``.

    Raises
    ------
    ConfigError
        The channel's kind has no sender (lists the kinds that have one).
    """
    factory = SENDERS.get(ChannelKind(settings.kind))
    if factory is None:  # pragma: no cover - every ChannelKind is registered (a test checks it)
        raise ConfigError(f"channel {name!r} has kind {settings.kind!r}; valid kinds: {', '.join(SENDERS)}.")
    return factory(name, settings, workspace)


def make_senders(channels: Mapping[str, ChannelSettings], *, workspace: Path) -> dict[str, Sender]:
    """A sender for every configured channel, by name."""
    return {name: make_sender(name, settings, workspace=workspace) for name, settings in channels.items()}
