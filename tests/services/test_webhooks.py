"""Receiving Stripe and Shopify webhooks into a real workspace (SQLite and PostgreSQL state DB, the lake, a refresh).

The acceptance tests of issue 10 for the platforms: a wrong signature or a replayed timestamp is refused and
changes nothing; the same event twice changes nothing; the subscription story (stripe_payloads.story) yields the
periods worked out by hand, and ``metrics`` then counts B's loss in March as voluntary and A's in May as
involuntary; Shopify orders and refunds become the exact orders rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from shopify_payloads import delivery, order, refund
from stripe_payloads import EXPECTED_PERIODS, PERIOD_COLUMNS, body, story

from retain.clock import FixedClock
from retain.ingest.platforms import PlatformError, PlatformNotConfiguredError, sign_stripe
from retain.services import metrics, refresh
from retain.services.live_facts import flush_inbox
from retain.services.webhook_lookups import latest_period
from retain.services.webhooks import WebhookStatus, receive_shopify, receive_stripe
from retain.state.tables import fact_inbox, webhook_events
from retain.workspace import Workspace

STRIPE_SECRET = "whsec_0123456789abcdefghijklmnop"
SHOPIFY_SECRET = "shpss_0123456789abcdefghijklmnop"


@pytest.fixture
def ws(tmp_path, database_url):
    """A workspace on SQLite, then on PostgreSQL (``database_url`` runs each test on both)."""
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    return Workspace.init(
        tmp_path / "ws",
        clock=clock,
        database_url=database_url,
        platforms={"stripe": {"endpoint_secret": STRIPE_SECRET}, "shopify": {"api_secret": SHOPIFY_SECRET}},
    )


def _deliver(ws: Workspace, event: dict, *, delay: int = 2, secret: str = STRIPE_SECRET):
    """Stripe sends the event ``delay`` seconds after it happened; the workspace's clock says when it arrives."""
    raw = body(event)
    ws.clock.at = datetime.fromtimestamp(event["created"], UTC) + timedelta(seconds=delay)
    return receive_stripe(ws, raw, {"stripe-signature": sign_stripe(raw, secret, event["created"])})


def _rows(ws: Workspace, table: str) -> list[dict]:
    """The lake's rows of ``table`` once the inbox the webhooks write to is flushed."""
    flush_inbox(ws)
    if not ws.lake.batch_files(table):
        return []
    return ws.backend.to_pyarrow(ws.table(table)).to_pylist()


def _applied(ws: Workspace) -> list[tuple[str, str]]:
    with ws.connect() as connection:
        query = sa.select(webhook_events.c.platform, webhook_events.c.event_id).order_by(webhook_events.c.event_id)
        return [tuple(row) for row in connection.execute(query)]


def _iso(value):
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_wrong_signature_or_a_replayed_timestamp_is_refused_and_changes_nothing(ws):
    first = story()[0]
    with pytest.raises(PlatformError) as error:
        _deliver(ws, first, secret="whsec_not_this_endpoint")
    assert error.value.code == "bad_signature"
    with pytest.raises(PlatformError) as error:
        _deliver(ws, first, delay=301)  # captured and replayed five minutes later
    assert error.value.code == "stale_timestamp"
    assert _applied(ws) == [] and ws.lake.batch_files("subscriptions") == []
    assert _deliver(ws, first, delay=300).status is WebhookStatus.APPLIED  # just inside the tolerance


def test_the_same_event_delivered_twice_changes_nothing(ws):
    first = story()[0]
    result = _deliver(ws, first)
    assert (result.status, result.rows) == (WebhookStatus.APPLIED, {"subscriptions": 1})
    batches = ws.lake.batch_files("subscriptions")
    again = _deliver(ws, first, delay=60)  # Stripe retries a delivery it thinks failed
    assert (again.status, again.rows) == (WebhookStatus.DUPLICATE, {})
    assert ws.lake.batch_files("subscriptions") == batches
    assert len(_rows(ws, "subscriptions")) == 1
    assert _applied(ws) == [("stripe", "evt_a1")]


def test_the_subscription_story_yields_its_periods_and_metrics_split_churn_by_type(ws):
    for event in story():
        assert _deliver(ws, event).status is WebhookStatus.APPLIED
    got = sorted(
        tuple(_iso(r[c]) if c in ("started_at", "ended_at") else r[c] for c in PERIOD_COLUMNS)
        for r in _rows(ws, "subscriptions")
    )
    assert got == sorted(EXPECTED_PERIODS)
    assert len(_applied(ws)) == len(story())

    refresh(ws, as_of=datetime(2024, 6, 1, tzinfo=UTC))
    months = {row["period_start"].date().isoformat()[:7]: row["retention"] for row in metrics(ws).data}
    # Active at each month start (hand count): Jan {A, C}; Feb {A, B, C}; Mar {B, C} (A paused); Apr {A, C};
    # May {A, C}; Jun {C}.
    counts = {
        month: (m["start_customers"], m["end_customers"], m["lost_voluntary"], m["lost_involuntary"], m["paused"])
        for month, m in months.items()
    }
    assert counts == {
        "2024-01": (2, 3, 0, 0, 0),
        "2024-02": (3, 2, 0, 0, 1),
        "2024-03": (2, 2, 1, 0, 0),  # B leaves (too expensive: voluntary); A resumes
        "2024-04": (2, 2, 0, 0, 0),
        "2024-05": (2, 1, 0, 1, 0),  # A is cancelled after failed payments: involuntary
    }
    assert months["2024-03"]["voluntary_churn_rate"] == pytest.approx(50.0)
    assert months["2024-05"]["involuntary_churn_rate"] == pytest.approx(50.0)


def test_an_unflushed_inbox_row_is_the_period_an_update_ends(ws):
    row = dict(zip(PERIOD_COLUMNS, EXPECTED_PERIODS[0], strict=True)) | {"ended_at": None}
    with ws.transaction() as connection:
        connection.execute(
            fact_inbox.insert().values(
                table_name="subscriptions",
                idempotency_key="sub_A|2024-01-01T00:00:00Z",
                payload=json.dumps(row),
                source="stripe",
                received_at=ws.clock.now(),
            )
        )
    assert latest_period(ws, "sub_A") == {**row, "cancel_reason": None, "churn_type": None}
    price_change = story()[3]
    result = _deliver(ws, price_change)
    assert result.rows == {"subscriptions": 2}  # the inbox's period ended on Feb 1, the next one started


def test_unconfigured_platforms_are_a_config_error_without_secrets_in_it(tmp_path):
    bare = Workspace.init(tmp_path / "bare")
    with pytest.raises(PlatformNotConfiguredError, match=r"\[platforms.stripe\] endpoint_secret"):
        receive_stripe(bare, b"{}", {"Stripe-Signature": "t=1,v1=00"})
    with pytest.raises(PlatformNotConfiguredError, match=r"\[platforms.shopify\] api_secret"):
        receive_shopify(bare, b"{}", {})


def test_shopify_hmac_refused_when_wrong_and_orders_refunds_give_the_exact_rows(ws):
    paid = order(5001, "#1001", "ann@example.com", "2024-01-10T10:00:00+01:00", "59.90", [2, 1])
    body_, headers = delivery("orders/paid", paid, "wrong secret", "wh-1")
    with pytest.raises(PlatformError) as error:
        receive_shopify(ws, body_, headers)
    assert error.value.code == "bad_signature" and _applied(ws) == []

    back = refund(9001, 5001, "2024-01-20T12:30:00-05:00", [("refund", "success", "20.00")], 1)
    with pytest.raises(PlatformError) as error:  # before its order: refused, Shopify retries later
        receive_shopify(ws, *delivery("refunds/create", back, SHOPIFY_SECRET, "wh-2"))
    assert error.value.code == "unknown_order" and _applied(ws) == []

    assert receive_shopify(ws, *delivery("orders/paid", paid, SHOPIFY_SECRET, "wh-1")).rows == {"orders": 1}
    assert receive_shopify(ws, *delivery("refunds/create", back, SHOPIFY_SECRET, "wh-2")).rows == {"orders": 1}
    again = receive_shopify(ws, *delivery("refunds/create", back, SHOPIFY_SECRET, "wh-2"))
    assert again.status is WebhookStatus.DUPLICATE

    got = sorted(
        (r["order_id"], r["customer_id"], _iso(r["ordered_at"]), r["amount"], r["status"], r["items"])
        for r in _rows(ws, "orders")
    )
    assert got == [
        ("5001", "ann@example.com", "2024-01-10T09:00:00Z", 59.9, "completed", 3),
        ("5001-refund-9001", "ann@example.com", "2024-01-20T17:30:00Z", -20.0, "refunded", 1),
    ]
    assert _applied(ws) == [("shopify", "wh-1"), ("shopify", "wh-2")]
