"""One error hierarchy for the whole package.

Every message says what was wrong, what was expected and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InputError",
    "NotFittedError",
    "RetainError",
    "RetainWarning",
    "SchemaMismatchError",
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

    def __init__(self, message: str, *, missing: list[str], unknown: list[str], expected: list[str]):
        super().__init__(message)
        self.missing = missing
        self.unknown = unknown
        self.expected = expected


class ConfigError(RetainError):
    """Settings are invalid or inconsistent."""

    code = "invalid_config"


class WorkspaceError(RetainError):
    """A workspace is missing, incomplete or cannot be created."""

    code = "workspace_error"


class NotFittedError(ValueError, RetainError):
    """A model was used before ``fit``."""

    code = "not_fitted"


class RetainWarning(UserWarning):
    """Base class of warnings emitted by retain."""
