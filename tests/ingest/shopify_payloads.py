"""Hand-written Shopify webhook bodies, shaped like the resources of Shopify's REST Admin API reference.

- Order: https://shopify.dev/docs/api/admin-rest/latest/resources/order (``id``, ``name``, ``email``,
  ``created_at``, ``total_price``, ``financial_status``, ``cancelled_at``, ``customer``, ``line_items``,
  ``discount_codes``, ``source_name``, ``refunds``) — the body of ``orders/paid``, ``orders/updated``,
  ``orders/cancelled``.
- Refund: https://shopify.dev/docs/api/admin-rest/latest/resources/refund (``id``, ``order_id``, ``created_at``,
  ``processed_at``, ``refund_line_items``, ``transactions[].kind/status/amount``) — the body of ``refunds/create``.
- Customer: https://shopify.dev/docs/api/admin-rest/latest/resources/customer — ``customers/create|update``.
- Headers: https://shopify.dev/docs/apps/build/webhooks/delivery-structure (``X-Shopify-Topic``,
  ``X-Shopify-Hmac-Sha256``, ``X-Shopify-Webhook-Id``, ``X-Shopify-Shop-Domain``).
"""

from __future__ import annotations

import json

from retain.ingest.platforms import sign_shopify


def customer(shopify_id: int, email: str | None, created_at: str, first: str, last: str, country: str | None) -> dict:
    return {
        "id": shopify_id,
        "email": email,
        "created_at": created_at,
        "updated_at": created_at,
        "first_name": first,
        "last_name": last,
        "orders_count": 0,
        "state": "enabled",
        "total_spent": "0.00",
        "verified_email": True,
        "currency": "EUR",
        "default_address": {"id": shopify_id + 1, "country": "Germany", "country_code": country} if country else None,
    }


def order(
    order_id: int,
    name: str,
    email: str,
    created_at: str,
    total_price: str,
    quantities: list[int],
    *,
    financial_status: str = "paid",
    cancelled_at: str | None = None,
    discount: str | None = None,
    refunds: list[dict] | None = None,
) -> dict:
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": name,
        "email": email,
        "contact_email": email,
        "created_at": created_at,
        "processed_at": created_at,
        "currency": "EUR",
        "total_price": total_price,
        "subtotal_price": total_price,
        "financial_status": financial_status,
        "cancelled_at": cancelled_at,
        "cancel_reason": "customer" if cancelled_at else None,
        "customer": {"id": 7000 + order_id % 1000, "email": email, "first_name": "Ann", "last_name": "Lee"},
        "discount_codes": [{"code": discount, "amount": "5.00", "type": "fixed_amount"}] if discount else [],
        "line_items": [
            {"id": order_id * 10 + n, "quantity": q, "price": "10.00", "title": f"Item {n}"}
            for n, q in enumerate(quantities)
        ],
        "refunds": refunds or [],
        "source_name": "web",
    }


def refund(refund_id: int, order_id: int, created_at: str, amounts: list[tuple[str, str, str]], quantity: int) -> dict:
    """``amounts``: (kind, status, amount) of each transaction."""
    return {
        "id": refund_id,
        "order_id": order_id,
        "created_at": created_at,
        "processed_at": created_at,
        "note": "wrong size",
        "restock": True,
        "refund_line_items": [{"id": refund_id + 1, "line_item_id": order_id * 10, "quantity": quantity}],
        "transactions": [
            {"id": refund_id + 2 + n, "order_id": order_id, "kind": kind, "status": status, "amount": amount}
            for n, (kind, status, amount) in enumerate(amounts)
        ],
    }


def delivery(topic: str, payload: dict, secret: str, webhook_id: str) -> tuple[bytes, dict[str, str]]:
    """The raw body and the headers Shopify sends with it."""
    body = json.dumps(payload).encode()
    return body, {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign_shopify(body, secret),
        "X-Shopify-Shop-Domain": "example.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-API-Version": "2024-07",
        "Content-Type": "application/json",
    }
