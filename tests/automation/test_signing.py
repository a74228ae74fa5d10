"""Signed customer links: a round trip, a reference implementation of the format, and every way to refuse one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from retain.automation.signing import (
    ExpiredLinkError,
    InvalidLinkError,
    LinkError,
    WrongPurposeError,
    sign_link,
    verify_link,
)
from retain.errors import ConfigError, InputError

SECRET = bytes(range(32))
EXPIRES = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BEFORE = EXPIRES - timedelta(seconds=1)


def _reference_token(secret: bytes, purpose: str, customer_id: str, expires: datetime) -> str:
    """The documented format, written out independently: b64url(JSON) "." b64url(HMAC-SHA256(prefix + payload))."""
    body = f'{{"c":{json.dumps(customer_id)},"e":{int(expires.timestamp())},"p":{json.dumps(purpose)}}}'
    payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    mac = hmac.new(secret, b"retain-link-v1\x00" + payload.encode(), hashlib.sha256).digest()
    return payload + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def test_the_token_is_the_documented_format():
    assert sign_link(SECRET, "unsubscribe", "C-0042", EXPIRES) == _reference_token(
        SECRET, "unsubscribe", "C-0042", EXPIRES
    )


def test_round_trip_gives_back_purpose_customer_and_expiry():
    token = sign_link(SECRET, "unsubscribe", "C-0042 é/?&", EXPIRES)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    link = verify_link(SECRET, token, purpose="unsubscribe", now=BEFORE)
    assert (link.purpose, link.customer_id, link.expires) == ("unsubscribe", "C-0042 é/?&", EXPIRES)


def test_an_expiry_with_microseconds_is_kept_to_the_next_second():
    token = sign_link(SECRET, "survey", "c1", EXPIRES + timedelta(microseconds=1))
    assert verify_link(SECRET, token, purpose="survey", now=EXPIRES).expires == EXPIRES + timedelta(seconds=1)


def test_expiry_is_checked_against_the_injected_now():
    token = sign_link(SECRET, "unsubscribe", "c1", EXPIRES)
    assert verify_link(SECRET, token, purpose="unsubscribe", now=BEFORE).customer_id == "c1"
    for now in (EXPIRES, EXPIRES + timedelta(days=400)):
        with pytest.raises(ExpiredLinkError) as caught:
            verify_link(SECRET, token, purpose="unsubscribe", now=now)
        assert str(caught.value) == (
            "This link expired on 2025-03-01 12:00 UTC; use the link of a more recent message."
        )
    # another time zone, the same instant
    berlin = EXPIRES.astimezone(ZoneInfo("Europe/Berlin"))
    with pytest.raises(ExpiredLinkError):
        verify_link(SECRET, token, purpose="unsubscribe", now=berlin)


def test_another_purpose_is_refused():
    token = sign_link(SECRET, "survey", "c1", EXPIRES)
    with pytest.raises(WrongPurposeError) as caught:
        verify_link(SECRET, token, purpose="unsubscribe", now=BEFORE)
    assert str(caught.value) == "This link was issued for 'survey', not for 'unsubscribe'; use the link meant for this."


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def test_any_change_to_the_token_is_refused():
    token = sign_link(SECRET, "unsubscribe", "c1", EXPIRES)
    payload, signature = token.split(".")
    forged_body = base64.urlsafe_b64encode(b'{"c":"c2","e":1740830400,"p":"unsubscribe"}').decode().rstrip("=")
    tampered = [
        *(_flip(token, i) for i in range(len(token)) if token[i] != "."),  # every single character
        f"{forged_body}.{signature}",  # another customer, the old signature
        token + "A",
        token + "!",  # base64 decoding would skip the '!'
        token[:-1],
        f"{payload}.",
        f".{signature}",
        f"{payload}{signature}",
        f"{token}.{signature}",
        "",
        "x" * 5000,
    ]
    for bad in tampered:
        with pytest.raises(InvalidLinkError) as caught:
            verify_link(SECRET, bad, purpose="unsubscribe", now=BEFORE)
        assert str(caught.value).startswith("This link is not valid: it was changed or cut off.")


def test_a_token_signed_with_another_secret_is_refused():
    token = sign_link(b"another secret, 32 bytes long!!!", "unsubscribe", "c1", EXPIRES)
    with pytest.raises(InvalidLinkError):
        verify_link(SECRET, token, purpose="unsubscribe", now=BEFORE)


def test_the_errors_are_input_errors_with_their_own_codes():
    assert issubclass(LinkError, InputError)
    assert {InvalidLinkError.code, WrongPurposeError.code, ExpiredLinkError.code} == {
        "invalid_link",
        "wrong_link_purpose",
        "expired_link",
    }


def test_bad_arguments():
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        sign_link(b"short", "unsubscribe", "c1", EXPIRES)
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        verify_link("a string, not bytes....", "x.y", purpose="unsubscribe", now=BEFORE)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="timezone-aware"):
        sign_link(SECRET, "unsubscribe", "c1", datetime(2025, 3, 1))
    with pytest.raises(InputError, match="timezone-aware"):
        verify_link(SECRET, sign_link(SECRET, "u", "c1", EXPIRES), purpose="u", now=datetime(2025, 1, 1))
    with pytest.raises(InputError, match="purpose"):
        sign_link(SECRET, "", "c1", EXPIRES)
    with pytest.raises(InputError, match="customer id"):
        sign_link(SECRET, "unsubscribe", "", EXPIRES)
