"""Stripe's prices in retain's terms: amounts in currency units, and monthly-normalised recurring revenue."""

from __future__ import annotations

from typing import Any

from retain.ingest.platforms.facts import PlatformError

__all__ = ["billing_period_months", "monthly_amount", "units"]

# Stripe sends amounts in the currency's smallest unit (cents) except for these zero-decimal currencies, whose
# amounts are whole units already (Stripe's "Zero-decimal currencies" list).
_ZERO_DECIMAL = frozenset(
    ("bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf")
)

# Months one interval of each kind lasts; a week is 12/52 of a month and a day 12/365 (one year = 12 months).
_MONTHS_PER_INTERVAL = {"month": 1.0, "year": 12.0, "week": 12 / 52, "day": 12 / 365}


def units(amount: int | float, currency: str | None) -> float:
    """A Stripe amount (smallest currency unit) in currency units: 1999 usd → 19.99, 500 jpy → 500."""
    return float(amount) if (currency or "").lower() in _ZERO_DECIMAL else float(amount) / 100


def _price(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """An item's price and its ``recurring`` terms (the legacy ``plan`` object holds them at its top level)."""
    price = item.get("price") or item.get("plan") or {}
    recurring = price.get("recurring") or {
        "interval": price.get("interval"),
        "interval_count": price.get("interval_count"),
    }
    return price, recurring


def _interval_months(recurring: dict[str, Any], price_id: str) -> float:
    interval = recurring.get("interval")
    if interval not in _MONTHS_PER_INTERVAL:
        raise PlatformError(
            "unsupported_price",
            f"Stripe price {price_id} has recurring.interval {interval!r}; expected one of "
            f"{', '.join(_MONTHS_PER_INTERVAL)}.",
        )
    return _MONTHS_PER_INTERVAL[interval] * int(recurring.get("interval_count") or 1)


def _unit_amount(price: dict[str, Any], price_id: str) -> float:
    if price.get("unit_amount") is not None:
        return float(price["unit_amount"])
    if price.get("unit_amount_decimal") is not None:
        return float(price["unit_amount_decimal"])
    raise PlatformError(
        "unsupported_price",
        f"Stripe price {price_id} has no unit_amount (a tiered or metered price); retain maps per-unit prices. "
        "Ingest such subscriptions from a file with the mrr you compute instead.",
    )


def monthly_amount(item: dict[str, Any]) -> float:
    """Monthly-normalised revenue of one subscription item: unit_amount × quantity / months per interval.

    A yearly price of 1,200.00 is 100.00 a month; a price every 3 months of 30.00 is 10.00; two seats at 15.00 a
    month are 30.00. Unrounded (the subscription's total is rounded once, to cents).
    """
    price, recurring = _price(item)
    price_id = str(price.get("id", "?"))
    if not recurring.get("interval"):
        raise PlatformError(
            "unsupported_price", f"Stripe price {price_id} is not recurring; a subscription needs recurring prices."
        )
    amount = units(_unit_amount(price, price_id), price.get("currency"))
    quantity = int(item.get("quantity") if item.get("quantity") is not None else 1)
    return amount * quantity / _interval_months(recurring, price_id)


def billing_period_months(item: dict[str, Any]) -> int | None:
    """The billing cycle in whole months (monthly 1, quarterly 3, yearly 12); ``None`` for weekly or daily prices."""
    _, recurring = _price(item)
    months = _MONTHS_PER_INTERVAL.get(recurring.get("interval") or "", 0) * int(recurring.get("interval_count") or 1)
    return int(months) if months >= 1 and float(months).is_integer() else None
