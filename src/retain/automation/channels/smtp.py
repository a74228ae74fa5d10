"""Email channel: send each message through an SMTP server with the standard library's ``smtplib``.

A message's payload is ``{to, subject, text, html?, headers?, unsubscribe_url?}``; it becomes a multipart
plain-text + HTML email whose ``Message-ID`` is ``<idempotency key@retain>`` — the same on every re-send, so a
receiving system (or a person's mail client) can tell a repeat from a new message — with ``List-Unsubscribe``
when the payload carries an unsubscribe URL.

The connection (plain, STARTTLS or SSL; a login when a username is set) is opened on the first send and reused
for the next ones; after any error it is closed and opened again for the next message.

**Answers.** The server refusing *this message* — a 5xx for every recipient or for the content — is permanent.
Everything else is transient: a 4xx (greylisting, a full mailbox, a busy server), no connection, a timeout, and
also a refused login or a missing STARTTLS, which are the channel's configuration and will be fixed by someone;
the messages wait (with back-off) rather than die.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from retain.automation.channels.base import Delivery, DeliveryError
from retain.settings import SmtpChannel, SmtpSecurity
from retain.state.tables import MessageKind

__all__ = ["RESERVED_HEADERS", "SmtpSender", "build_email", "message_id"]

RESERVED_HEADERS = frozenset(
    name.lower()
    for name in (
        "From",
        "To",
        "Cc",
        "Bcc",
        "Subject",
        "Message-ID",
        "Date",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
    )
)
"""Headers a payload's ``headers`` may not set: the channel sets them from the payload's other keys."""

# Lines up to SMTP's hard limit (998) rather than the advised 78: a folded Message-ID (``<64 hex@retain>`` does
# not fit in 78 with its name) reads back with a leading space, and receivers compare it to drop repeats.
_POLICY = email.policy.SMTP.clone(max_line_length=998)


def message_id(idempotency_key: str) -> str:
    """The ``Message-ID`` of a message: ``<key@retain>``."""
    return f"<{idempotency_key}@retain>"


def _recipients(payload: Mapping[str, Any], key: str) -> list[str]:
    to = payload.get("to")
    recipients = [to] if isinstance(to, str) else list(to) if isinstance(to, list | tuple) else []
    if not recipients or not all(isinstance(r, str) and "@" in parseaddr(r)[1] for r in recipients):
        raise DeliveryError(
            f"email message {key}: 'to' must be an email address or a list of them; got {to!r:.80}", permanent=True
        )
    return recipients


def build_email(delivery: Delivery, *, sender: str, now: datetime) -> EmailMessage:
    """The email of ``delivery``: From ``sender``, the payload's recipients, subject, text and HTML parts.

    Raises
    ------
    DeliveryError
        Permanent: the payload lacks ``to``, ``subject`` or ``text``, or sets a reserved or malformed header.
    """
    payload, key = delivery.payload, delivery.idempotency_key
    recipients = _recipients(payload, key)
    for field in ("subject", "text"):
        if not isinstance(payload.get(field), str):
            raise DeliveryError(f"email message {key}: the payload lacks {field!r} (a string)", permanent=True)
    message = EmailMessage(policy=_POLICY)
    try:
        message["From"] = sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = payload["subject"]
        message["Date"] = format_datetime(now)
        message["Message-ID"] = message_id(key)
        for name, value in dict(payload.get("headers") or {}).items():
            if str(name).lower() in RESERVED_HEADERS:
                raise DeliveryError(
                    f"email message {key}: header {name!r} is set by the channel, not the payload; remove it",
                    permanent=True,
                )
            message[str(name)] = str(value)
        if url := payload.get("unsubscribe_url"):
            message["List-Unsubscribe"] = f"<{url}>"
        message.set_content(payload["text"])
        if html := payload.get("html"):
            message.add_alternative(str(html), subtype="html")
    except ValueError as error:  # a header value with a line break (header injection), a bad header name
        raise DeliveryError(f"email message {key}: {error}", permanent=True) from None
    return message


def _refusal(where: str, error: smtplib.SMTPException) -> DeliveryError:
    """Classify an SMTP error: the server refusing this message with a 5xx is permanent, the rest transient."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        answers = "; ".join(f"{addr}: {code} {_text(text)}" for addr, (code, text) in error.recipients.items())
        return DeliveryError(f"{where} refused the recipient(s): {answers}", permanent=all(c >= 500 for c in codes))
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return DeliveryError(
            f"{where} refused the login ({error.smtp_code} {_text(error.smtp_error)}); check the channel's "
            "username and password"
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return DeliveryError(f"{where} does not support it ({error}); check the channel's security setting")
    if isinstance(error, smtplib.SMTPSenderRefused):
        return DeliveryError(
            f"{where} refused the sender {error.sender} ({error.smtp_code} {_text(error.smtp_error)}); check the "
            "channel's sender"
        )
    if isinstance(error, smtplib.SMTPDataError):
        return DeliveryError(
            f"{where} refused the message ({error.smtp_code} {_text(error.smtp_error)})",
            permanent=error.smtp_code >= 500,
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return DeliveryError(f"{where} answered {error.smtp_code} {_text(error.smtp_error)}")
    return DeliveryError(f"{where}: {type(error).__name__}: {error}")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class SmtpSender:
    """Sends the emails of one SMTP channel (see the module docstring).

    Parameters
    ----------
    name : str
        The channel's name.
    settings : SmtpChannel
        Server, security, login, sender and timeout.
    """

    kind = MessageKind.EMAIL

    def __init__(self, name: str, settings: SmtpChannel):
        self.name = name
        self.settings = settings
        self._where = f"SMTP channel {name!r} ({settings.host}:{settings.port})"
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.security is SmtpSecurity.SSL:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        try:
            smtp.ehlo()
            if s.security is SmtpSecurity.STARTTLS:
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password.get_secret_value() if s.password else "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            try:
                self._smtp.noop()  # an idle connection the server closed: open a new one, no attempt lost
                return self._smtp
            except (smtplib.SMTPException, OSError):
                self._drop()
        self._smtp = self._connect()
        return self._smtp

    def send(self, delivery: Delivery, *, now: datetime) -> None:
        """Send the email of ``delivery``; return when the server accepted it for at least one recipient.

        Raises
        ------
        DeliveryError
            Not accepted (see the module docstring for which errors are permanent).
        """
        message = build_email(delivery, sender=self.settings.sender, now=now)
        envelope_from = parseaddr(self.settings.sender)[1]
        try:
            recipients = _recipients(delivery.payload, delivery.idempotency_key)
            self._connection().send_message(message, from_addr=envelope_from, to_addrs=recipients)
        except smtplib.SMTPServerDisconnected as error:  # smtplib's word for a read that timed out, too
            self._drop()
            timed_out = "timed out" in str(error)
            reason = (
                f"no answer within {self.settings.timeout_seconds:g} s" if timed_out else "it closed the connection"
            )
            raise DeliveryError(f"{self._where}: {reason}") from None
        except smtplib.SMTPException as error:
            self._drop()
            raise _refusal(self._where, error) from None
        except ssl.SSLError as error:
            self._drop()
            raise DeliveryError(f"{self._where}: TLS failed ({error.reason or error})") from None
        except OSError as error:  # refused, unreachable, timed out
            self._drop()
            reason = "connection refused" if isinstance(error, ConnectionRefusedError) else str(error) or "timeout"
            if isinstance(error, TimeoutError):
                reason = f"no answer within {self.settings.timeout_seconds:g} s"
            raise DeliveryError(f"{self._where}: {reason}") from None

    def _drop(self) -> None:
        """Close the connection without a goodbye (after an error it may not answer one)."""
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            smtp.close()

    def close(self) -> None:
        """Say QUIT and close the connection to the server, if one is open."""
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
