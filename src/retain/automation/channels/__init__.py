"""Channels messages leave through: SMTP email, signed webhooks, JSON Lines files — a registry by kind.

Configured in ``retain.toml`` (``[channels.NAME]`` with ``kind = "smtp" | "webhook" | "file"``); the worker builds
one sender per channel with :func:`make_senders` and hands each message to the sender of its ``channel``.
"""

from retain.automation.channels.base import Delivery, DeliveryError, Sender, one_line
from retain.automation.channels.file import FileSender
from retain.automation.channels.registry import DELIVERS, SENDERS, make_sender, make_senders
from retain.automation.channels.smtp import SmtpSender, build_email, message_id
from retain.automation.channels.webhook import WebhookSender, sign, verify_signature
from retain.settings import ChannelKind

__all__ = [
    "DELIVERS",
    "SENDERS",
    "ChannelKind",
    "Delivery",
    "DeliveryError",
    "FileSender",
    "Sender",
    "SmtpSender",
    "WebhookSender",
    "build_email",
    "make_sender",
    "make_senders",
    "message_id",
    "one_line",
    "sign",
    "verify_signature",
]
