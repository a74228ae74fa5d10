"""What a trigger is evaluated on: the workspace's facts at one instant, and the current and previous profiles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

import ibis

from retain.analytics.customers import facts_at
from retain.analytics.periods import as_instant
from retain.contract import TableName
from retain.errors import InputError
from retain.facts import Facts

__all__ = ["DEFAULT_ACTIVITY_WINDOW_DAYS", "TriggerInputs", "require_profile_columns"]

DEFAULT_ACTIVITY_WINDOW_DAYS = 90
"""The default of ``Settings.activity_window_days`` (a shop's customer is active with an order in this window)."""

_REFRESH_FIRST = "run `retain refresh` first, so that a current profile exists"


@dataclass(frozen=True, eq=False)  # identity equality: comparing Ibis tables builds expressions
class TriggerInputs:
    """The inputs of every trigger evaluator.

    Parameters
    ----------
    facts
        The lake fixed at one moment (``Workspace.facts()``); evaluators read only what was known at ``as_of``
        (:func:`retain.analytics.customers.facts_at`).
    as_of
        The instant the trigger is evaluated at (a date means midnight UTC; a naive datetime is read as UTC).
    profile
        The current customer profile (columns of :data:`retain.contract.profile.PROFILE`, e.g. the ``profiles``
        mart of the current snapshot); needed by the ``risk``, ``segment_entry`` and ``lifecycle`` triggers.
    previous_profile
        The profile of the snapshot before it; ``None`` when there is none (the current one is the baseline).
    segments
        Membership of the user-defined segments in the current snapshot: columns ``customer_id, segment``
        (the ``segment_membership`` mart); ``None`` when the snapshot has no user-defined segments.
    previous_segments
        The same for the previous snapshot.
    activity_window_days
        ``Settings.activity_window_days``: a shop's customer is churned after two windows without an order (the
        lifecycle rule the ``churned`` trigger follows for non-subscription customers).
    """

    facts: Facts
    as_of: datetime
    profile: ibis.Table | None = None
    previous_profile: ibis.Table | None = None
    segments: ibis.Table | None = None
    previous_segments: ibis.Table | None = None
    activity_window_days: int = DEFAULT_ACTIVITY_WINDOW_DAYS

    def __post_init__(self) -> None:
        object.__setattr__(self, "as_of", as_instant(self.as_of))
        days = self.activity_window_days
        if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
            raise InputError(f"activity_window_days must be a positive whole number of days, got {days!r}.")

    @cached_property
    def tables(self) -> dict[TableName, ibis.Table | None]:
        """The six canonical tables as known at ``as_of`` (``None`` for a table without data)."""
        return facts_at(self.facts.tables, self.as_of)

    def table(self, name: TableName) -> ibis.Table | None:
        return self.tables[name]

    @property
    def day_start(self) -> datetime:
        """Midnight UTC of ``as_of``'s date: the instant a day-granular trigger (inactive, date, onboarding) fires."""
        return self.as_of.replace(hour=0, minute=0, second=0, microsecond=0)

    def day(self, offset: int) -> datetime:
        """Midnight UTC of the date ``offset`` days after ``as_of``'s date (negative: before)."""
        return self.day_start + timedelta(days=offset)

    def window_start(self, within_days: int) -> datetime:
        """The open lower end of the window ``(as_of − within_days, as_of]``."""
        return self.as_of - timedelta(days=within_days)

    def require_profile(self, kind: str) -> ibis.Table:
        """The current profile, or ``InputError`` saying to refresh first."""
        if self.profile is None:
            raise InputError(f"The {kind} trigger reads the customer profile, and there is none: {_REFRESH_FIRST}.")
        return self.profile


def require_profile_columns(table: ibis.Table, kind: str, columns: tuple[str, ...], *, what: str = "profile") -> None:
    """Raise ``InputError`` unless the ``what`` table given to the ``kind`` trigger has ``columns``."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(
            f"The {kind} trigger reads column(s) {', '.join(missing)} of the {what}, which the table given lacks "
            f"(it has {', '.join(table.columns)}). Pass the profiles of a snapshot (`retain schema --profile` lists "
            "the columns)."
        )
