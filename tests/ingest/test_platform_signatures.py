"""Stripe's and Shopify's webhook signatures: accepted when right, refused with a stable code when not.

The expected signatures are computed here with :mod:`hmac` from the documented recipes, not with retain's code:
Stripe — HMAC-SHA256 of ``"{t}.{body}"`` under the endpoint secret, hex, in ``t=…,v1=…``
(https://docs.stripe.com/webhooks#verify-manually); Shopify — base64 HMAC-SHA256 of the raw body under the app's
client secret (https://shopify.dev/docs/apps/build/webhooks/verify-deliveries).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from retain.ingest.platforms import PlatformError, sign_shopify, sign_stripe, verify_shopify, verify_stripe

SECRET = "whsec_test_0123456789abcdef"
BODY = b'{\n  "id": "evt_1",\n  "type": "customer.created"\n}'
T = 1_714_000_000
NOW = datetime.fromtimestamp(T, UTC)


def _stripe(body: bytes, secret: str, t: int) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def _code(call) -> str:
    with pytest.raises(PlatformError) as error:
        call()
    return error.value.code


def test_a_documented_stripe_signature_is_accepted_and_sign_stripe_makes_it():
    header = f"t={T},v1={_stripe(BODY, SECRET, T)}"
    assert sign_stripe(BODY, SECRET, T) == header
    assert verify_stripe(BODY, header, SECRET, now=NOW) == T
    # Several v1 (a secret being rolled) and unknown schemes (v0) are allowed: one matching v1 is enough.
    rolled = f"t={T},v1={'0' * 64},v0=abc,v1={_stripe(BODY, SECRET, T)}"
    assert verify_stripe(BODY, rolled, SECRET, now=NOW) == T


def test_a_wrong_stripe_secret_or_a_changed_body_is_refused():
    header = f"t={T},v1={_stripe(BODY, SECRET, T)}"
    assert _code(lambda: verify_stripe(BODY, header, "whsec_other", now=NOW)) == "bad_signature"
    assert _code(lambda: verify_stripe(BODY + b" ", header, SECRET, now=NOW)) == "bad_signature"
    # The timestamp is signed: moving it (to dodge the tolerance) breaks the signature.
    moved = f"t={T + 400},v1={_stripe(BODY, SECRET, T)}"
    assert _code(lambda: verify_stripe(BODY, moved, SECRET, now=NOW + timedelta(seconds=400))) == "bad_signature"


def test_a_stripe_signature_outside_the_300_second_tolerance_is_a_replay():
    header = f"t={T},v1={_stripe(BODY, SECRET, T)}"
    assert verify_stripe(BODY, header, SECRET, now=NOW + timedelta(seconds=300)) == T
    assert _code(lambda: verify_stripe(BODY, header, SECRET, now=NOW + timedelta(seconds=301))) == "stale_timestamp"
    assert _code(lambda: verify_stripe(BODY, header, SECRET, now=NOW - timedelta(seconds=301))) == "stale_timestamp"
    assert verify_stripe(BODY, header, SECRET, now=NOW + timedelta(seconds=600), tolerance=600) == T


@pytest.mark.parametrize(
    ("header", "code"),
    [(None, "missing_signature"), ("", "missing_signature"), ("v1=abc", "bad_signature"), (f"t={T}", "bad_signature"),
     ("t=soon,v1=abc", "bad_signature")],
)  # fmt: skip
def test_a_missing_or_malformed_stripe_header_is_refused(header, code):
    assert _code(lambda: verify_stripe(BODY, header, SECRET, now=NOW)) == code


def test_messages_never_show_the_secret_or_the_signature():
    header = f"t={T},v1={_stripe(BODY, SECRET, T)}"
    with pytest.raises(PlatformError) as error:
        verify_stripe(BODY, header, "whsec_wrong_secret", now=NOW)
    assert "whsec_wrong_secret" not in str(error.value) and _stripe(BODY, SECRET, T) not in str(error.value)


def test_shopify_hmac_accepted_when_right_refused_when_wrong():
    secret = "shpss_app_client_secret"
    header = base64.b64encode(hmac.new(secret.encode(), BODY, hashlib.sha256).digest()).decode()
    assert sign_shopify(BODY, secret) == header
    verify_shopify(BODY, header, secret)  # no error
    assert _code(lambda: verify_shopify(BODY, header, "another secret")) == "bad_signature"
    assert _code(lambda: verify_shopify(BODY + b"\n", header, secret)) == "bad_signature"
    assert _code(lambda: verify_shopify(BODY, "not base64 !", secret)) == "bad_signature"
    assert _code(lambda: verify_shopify(BODY, None, secret)) == "missing_signature"
