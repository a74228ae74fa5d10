"""The two business models retain serves, and how a workspace's data says which one it is.

- **subscription** (SaaS, memberships): churn is observed — a subscription ends; "active" means a running
  subscription period.
- **commerce** (non-contractual shops): churn is latent — a customer stops buying; "active" means an order
  inside the activity window.

A workspace is a subscription business as soon as its ``subscriptions`` table holds data, else commerce.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from retain.contract.tables import TableName
from retain.errors import InputError

__all__ = ["BusinessModel"]


class BusinessModel(StrEnum):
    """How churn is defined: a subscription ends, or a customer stops ordering."""

    SUBSCRIPTION = "subscription"
    """Contractual: the subscription ends."""
    COMMERCE = "commerce"
    """Non-contractual (a shop): no order within the horizon / activity window."""

    @classmethod
    def parse(cls, value: BusinessModel | str) -> BusinessModel:
        """The business model named ``value``; an unknown name lists the valid ones."""
        try:
            return cls(str(value).lower())
        except ValueError:
            raise InputError(f"unknown business model {value!r}; valid models: {', '.join(cls)}.") from None

    @classmethod
    def detect(cls, tables_with_data: Iterable[str]) -> BusinessModel:
        """``subscription`` when the ``subscriptions`` table holds data, else ``commerce``."""
        present = {str(name) for name in tables_with_data}
        return cls.SUBSCRIPTION if str(TableName.SUBSCRIPTIONS) in present else cls.COMMERCE
