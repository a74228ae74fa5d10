"""What a platform webhook becomes: canonical rows per table, and the errors its adapters raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from retain.contract.tables import TableName
from retain.errors import InputError, NotFoundError

__all__ = ["PlatformError", "PlatformFacts", "PlatformNotConfiguredError", "iso_utc"]


class PlatformError(InputError):
    """A platform's delivery cannot be accepted; ``code`` says why in a stable word (``bad_signature`` …)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class PlatformNotConfiguredError(NotFoundError):
    """The workspace has no secret for this platform, so its webhook endpoint is not there (404, not a server
    fault: the sender is at the wrong address until the secret is set)."""

    code = "platform_not_configured"


@dataclass
class PlatformFacts:
    """Canonical rows one delivery maps to: table name → rows (dicts in the contract's columns)."""

    rows: dict[str, list[dict]] = field(default_factory=dict)
    note: str = ""
    """Why a delivery made no rows (an event type retain does not map, an out-of-order update …)."""

    def add(self, table: TableName, row: dict) -> None:
        self.rows.setdefault(str(table), []).append(row)

    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def iso_utc(value: datetime | int | float) -> str:
    """A Unix time (seconds, as Stripe sends them) or an aware datetime as ISO 8601 UTC text (2024-01-01T00:00:00Z)."""
    at = datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else value.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")
