"""Signed customer links: a token that says "this customer, for this purpose, until then", and cannot be forged.

An unsubscribe link (and later a survey or cancel-flow link) must work without a login, so the link itself
carries who it is for. :func:`sign_link` makes a token ``<payload>.<signature>``, both URL-safe base64 without
padding: the payload is compact JSON ``{"c": customer_id, "e": expiry (Unix seconds), "p": purpose}`` and the
signature is HMAC-SHA256 of a version prefix and the payload under the workspace's secret. :func:`verify_link`
checks the signature first (constant-time), then the purpose, then the expiry against an injected ``now``.

The payload is signed, not encrypted: a token reveals the customer id it is for (as any per-customer link
does), never the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from retain.errors import ConfigError, InputError

__all__ = [
    "MAX_TOKEN_CHARS",
    "MIN_SECRET_BYTES",
    "ExpiredLinkError",
    "InvalidLinkError",
    "LinkError",
    "SignedLink",
    "WrongPurposeError",
    "sign_link",
    "verify_link",
]

MIN_SECRET_BYTES = 16
"""Shortest secret accepted (128 bits); generate one with ``secrets.token_bytes(32)``."""

MAX_TOKEN_CHARS = 2048
"""Longest token :func:`verify_link` looks at (a real one is ~100 characters)."""

_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_DOMAIN = b"retain-link-v1\x00"  # a signature of this scheme is never valid for another use of the same secret


class LinkError(InputError):
    """A customer link cannot be accepted (base class of the three reasons)."""

    code = "invalid_link"


class InvalidLinkError(LinkError):
    """The token is malformed or its signature does not match: it was changed, cut, or made with another key."""

    code = "invalid_link"


class WrongPurposeError(LinkError):
    """The token is genuine but was issued for another purpose (a survey link used to unsubscribe)."""

    code = "wrong_link_purpose"


class ExpiredLinkError(LinkError):
    """The token is genuine but its expiry has passed."""

    code = "expired_link"


@dataclass(frozen=True)
class SignedLink:
    """What a verified token says: the purpose, the customer and until when it is valid (UTC)."""

    purpose: str
    customer_id: str
    expires: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes | bytearray) or len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"The link-signing secret must be at least {MIN_SECRET_BYTES} bytes; generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'` and keep it secret."
        )


def _aware(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InputError(f"{name} must be a timezone-aware datetime (e.g. datetime(2025, 1, 31, tzinfo=UTC)).")
    return moment.astimezone(UTC)


def _signature(secret: bytes, payload: str) -> bytes:
    return hmac.new(bytes(secret), _DOMAIN + payload.encode("ascii"), hashlib.sha256).digest()


def sign_link(secret: bytes, purpose: str, customer_id: str, expires: datetime) -> str:
    """A signed token for ``customer_id`` and ``purpose``, valid until ``expires``.

    Parameters
    ----------
    secret
        The workspace's signing key (at least :data:`MIN_SECRET_BYTES` bytes).
    purpose
        What the link does, e.g. ``"unsubscribe"`` or ``"survey"``; a token only verifies for its purpose.
    customer_id
        Who it is for.
    expires
        A timezone-aware instant; the token is refused from then on (kept to the second, rounded up).

    Returns
    -------
    str
        URL-safe token (``A-Z a-z 0-9 - _`` and one ``.``).

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> token = sign_link(b"k" * 32, "unsubscribe", "c1", datetime(2030, 1, 1, tzinfo=UTC))
    >>> verify_link(b"k" * 32, token, purpose="unsubscribe", now=datetime(2029, 1, 1, tzinfo=UTC)).customer_id
    'c1'
    """
    _check_secret(secret)
    if not isinstance(purpose, str) or not purpose:
        raise InputError(f"A link purpose is a non-empty name such as 'unsubscribe', got {purpose!r}.")
    if not isinstance(customer_id, str) or not customer_id:
        raise InputError(f"A link needs the customer id it is for, got {customer_id!r}.")
    seconds = math.ceil(_aware(expires, "expires").timestamp())
    body = json.dumps({"c": customer_id, "e": seconds, "p": purpose}, separators=(",", ":"), sort_keys=True)
    payload = _b64(body.encode("utf-8"))
    return f"{payload}.{_b64(_signature(secret, payload))}"


def verify_link(secret: bytes, token: str, *, purpose: str, now: datetime) -> SignedLink:
    """Check a token made by :func:`sign_link` and say who it is for.

    Parameters
    ----------
    secret
        The key it was signed with.
    token
        The token from the link.
    purpose
        The purpose the caller serves; a token made for another one is refused.
    now
        The current instant (injected: a timezone-aware datetime).

    Returns
    -------
    SignedLink

    Raises
    ------
    InvalidLinkError
        The token is malformed, was altered or was signed with another key.
    WrongPurposeError
        The token is genuine but for another purpose.
    ExpiredLinkError
        The token is genuine but ``now`` is at or after its expiry.
    """
    _check_secret(secret)
    now = _aware(now, "now")
    invalid = InvalidLinkError(
        "This link is not valid: it was changed or cut off. Open the link from the message again, in full."
    )
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not _TOKEN.fullmatch(token):
        raise invalid
    payload, signature = token.split(".")
    # Compare the text of the signature, not decoded bytes: base64 decoding skips stray characters.
    if not hmac.compare_digest(signature, _b64(_signature(secret, payload))):
        raise invalid
    try:
        claims = json.loads(_unb64(payload))
        customer_id, seconds, issued_for = claims["c"], claims["e"], claims["p"]
        if not (isinstance(customer_id, str) and isinstance(issued_for, str) and type(seconds) is int):
            raise TypeError
        expires = datetime.fromtimestamp(seconds, UTC)
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        raise invalid from None  # signed by us but unreadable: only a bug could get here; refuse all the same
    if not hmac.compare_digest(issued_for.encode("utf-8"), purpose.encode("utf-8")):
        raise WrongPurposeError(
            f"This link was issued for {issued_for!r}, not for {purpose!r}; use the link meant for this."
        )
    if now >= expires:
        raise ExpiredLinkError(
            f"This link expired on {expires:%Y-%m-%d %H:%M} UTC; use the link of a more recent message."
        )
    return SignedLink(purpose=issued_for, customer_id=customer_id, expires=expires)
