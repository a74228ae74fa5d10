"""Webhook channel: POST each message as JSON, signed, with its idempotency key — and how receivers verify it.

Every request carries::

    Content-Type: application/json
    Idempotency-Key: <the message's key>            same on every re-send: drop a key you have seen
    X-Retain-Timestamp: <unix seconds>               when this attempt was signed
    X-Retain-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the channel's secret>

**Verifying, on the receiving side** (any language): take the raw request body as bytes, compute
``HMAC-SHA256(secret, timestamp + "." + body)`` in hex, compare it in constant time with the part after ``v1=``,
and refuse a timestamp more than a few minutes from your clock (a replayed request). In Python that is
:func:`verify_signature`. Then drop the request if its ``Idempotency-Key`` was seen before: a message is sent at
least once, and a repeat (a retry after a lost answer, a worker that died after the send) has the same key.

**Answers.** 2xx is delivered. 408, 429 and 5xx, timeouts and refused connections are transient: tried again
after a back-off, or after ``Retry-After`` (seconds or an HTTP date) when the receiver sends one. Any other 4xx
is permanent (the receiver refuses this message): dead-lettered at once. Redirects are not followed (a POST
must not silently become a GET elsewhere): they are permanent errors naming the new address.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from retain import __version__
from retain.automation.channels.base import Delivery, DeliveryError
from retain.settings import WebhookChannel
from retain.state.tables import MessageKind

__all__ = [
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookSender",
    "body_bytes",
    "parse_retry_after",
    "shown_url",
    "sign",
    "verify_signature",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
TIMESTAMP_HEADER = "X-Retain-Timestamp"
SIGNATURE_HEADER = "X-Retain-Signature"
_SCHEME = "v1"
_RETRIED_4XX = frozenset({408, 429})
_MAX_ANSWER = 64 * 1024  # read (and drop) at most this much of an answer


def body_bytes(payload: Mapping[str, Any]) -> bytes:
    """The request body of ``payload``: compact JSON, keys sorted, UTF-8 (the bytes that are signed)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False).encode()


def _key(secret: str | bytes | SecretStr) -> bytes:
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    return secret.encode() if isinstance(secret, str) else secret


def sign(secret: str | bytes | SecretStr, timestamp: int, body: bytes) -> str:
    """The ``X-Retain-Signature`` value: ``v1=`` and the hex HMAC-SHA256 of ``b"<timestamp>." + body``."""
    digest = hmac.new(_key(secret), f"{int(timestamp)}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{_SCHEME}={digest}"


def verify_signature(
    secret: str | bytes | SecretStr,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    now: datetime,
    tolerance_seconds: float = 300.0,
) -> bool:
    """Whether a request really comes from retain with this channel's secret, and is recent.

    Parameters
    ----------
    secret
        The channel's secret (the ``secret`` of its ``[channels.NAME]`` table).
    timestamp : str
        The ``X-Retain-Timestamp`` header, as received.
    body : bytes
        The raw request body, exactly as received (not re-serialised JSON).
    signature : str
        The ``X-Retain-Signature`` header; several comma-separated ``v1=`` values are accepted (one matching
        is enough), for rotating a secret.
    now : datetime
        The receiver's current time.
    tolerance_seconds : float
        Largest accepted distance between ``timestamp`` and ``now`` (refuses replays of old requests).

    Returns
    -------
    bool
    """
    try:
        sent = int(timestamp.strip())
    except (AttributeError, ValueError):
        return False
    if abs(now.timestamp() - sent) > tolerance_seconds:
        return False
    expected = sign(secret, sent, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in signature.split(","))


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay seconds or an HTTP date); ``None`` if absent or bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def shown_url(url: str) -> str:
    """``url`` as errors show it: scheme, host, port and path — no user, password or query (they may be tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects become errors: a redirected POST would be re-sent as a GET, or to an address nobody chose."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _network_reason(error: BaseException, timeout: float) -> str:
    reason = getattr(error, "reason", error)  # URLError wraps the socket error
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the receiver running?)"
    if isinstance(reason, socket.gaierror):
        return "host name not found"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({reason.verify_message})"
    if isinstance(reason, ConnectionResetError | http.client.RemoteDisconnected):
        return "the receiver closed the connection without answering"
    return f"{type(reason).__name__}: {reason}"


class WebhookSender:
    """POSTs the messages of one webhook channel (see the module docstring for the headers and answers).

    Parameters
    ----------
    name : str
        The channel's name.
    settings : WebhookChannel
        URL, secret and timeout.
    """

    kind = MessageKind.WEBHOOK

    def __init__(self, name: str, settings: WebhookChannel):
        self.name = name
        self.url = settings.url
        self.timeout = settings.timeout_seconds
        self._secret = settings.secret
        self._opener = urllib.request.build_opener(_NoRedirect())

    def request(self, delivery: Delivery, *, now: datetime) -> urllib.request.Request:
        """The signed request that :meth:`send` makes for ``delivery`` at ``now``."""
        body = body_bytes(delivery.payload)
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"retain/{__version__}",
            IDEMPOTENCY_HEADER: delivery.idempotency_key,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        return urllib.request.Request(self.url, data=body, headers=headers, method="POST")

    def send(self, delivery: Delivery, *, now: datetime) -> None:
        """POST ``delivery``; return on a 2xx answer.

        Raises
        ------
        DeliveryError
            Any other answer, or no answer (see the module docstring for which are permanent).
        """
        where = f"webhook {self.name!r} ({shown_url(self.url)})"
        try:
            with self._opener.open(self.request(delivery, now=now), timeout=self.timeout) as answer:
                answer.read(_MAX_ANSWER)
        except urllib.error.HTTPError as error:
            with error:
                self._refused(where, error, now)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            raise DeliveryError(f"{where}: {_network_reason(error, self.timeout)}") from None

    def _refused(self, where: str, error: urllib.error.HTTPError, now: datetime) -> None:
        code = error.code
        text = f"{where} answered HTTP {code} {error.reason or ''}".rstrip()
        if 300 <= code < 400:
            location = error.headers.get("Location") if error.headers else None
            moved = f" to {shown_url(location)}" if location else ""
            raise DeliveryError(
                f"{text}: redirects are not followed; set the channel's url to the final address{moved}",
                permanent=True,
            ) from None
        retry_after = parse_retry_after(error.headers.get("Retry-After") if error.headers else None, now=now)
        transient = code >= 500 or code in _RETRIED_4XX
        suffix = f" (Retry-After {retry_after:g} s)" if retry_after is not None and transient else ""
        raise DeliveryError(
            text + suffix, permanent=not transient, retry_after=retry_after if transient else None
        ) from None

    def close(self) -> None:
        """Nothing stays open between requests."""
