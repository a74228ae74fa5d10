"""One error hierarchy for the whole package.

Every message says what was wrong, what was expected and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConflictError",
    "InputError",
    "NoDataError",
    "NoSnapshotError",
    "NotFittedError",
    "NotFoundError",
    "RetainError",
    "RetainWarning",
    "SchemaMismatchError",
    "StateDatabaseError",
    "WorkspaceError",
]


class RetainError(Exception):
    """Root of every error raised on purpose by retain."""

    code = "retain_error"


class InputError(ValueError, RetainError):
    """The input (a file, an option, a value) is not what retain expects."""

    code = "invalid_input"


class SchemaMismatchError(InputError):
    """An input's columns do not match the target table; nothing was written."""

    code = "schema_mismatch"

    def __init__(
        self,
        message: str,
        *,
        missing: list[str],
        unknown: list[str],
        expected: list[str],
        suggested_map: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.missing = missing
        self.unknown = unknown
        self.expected = expected
        self.suggested_map = dict(suggested_map or {})
        """Table column -> input column of the ``--map`` options suggested in the message."""


class NoDataError(InputError):
    """The workspace holds no facts yet, so there is nothing to compute."""

    code = "no_data"

    def __init__(self, what: str = "compute") -> None:
        super().__init__(
            f"The workspace holds no data yet, so there is nothing to {what}. "
            "Ingest some first, e.g. `retain ingest orders orders.csv` (or try `retain demo`)."
        )


class NotFoundError(RetainError):
    """A thing asked for by its id (a customer, a model version, a snapshot) does not exist."""

    code = "not_found"


class ConflictError(RetainError):
    """The request conflicts with the current state (another process holds the lock, a duplicate key...)."""

    code = "conflict"


class ConfigError(RetainError):
    """Settings are invalid or inconsistent."""

    code = "invalid_config"


class StateDatabaseError(RetainError):
    """The state database cannot be reached or failed mid-way (the message names the cause, never a password)."""

    code = "state_database_error"


class WorkspaceError(RetainError):
    """A workspace is missing, incomplete or cannot be created."""

    code = "workspace_error"


class NoSnapshotError(WorkspaceError):
    """No ``retain refresh`` has made an analytics snapshot yet, so the views have nothing to show."""

    code = "no_data"


class NotFittedError(ValueError, RetainError):
    """A model was used before ``fit``."""

    code = "not_fitted"


class RetainWarning(UserWarning):
    """Base class of warnings emitted by retain."""
