"""When a failed message is tried again: exponential back-off with jitter, capped, honouring ``Retry-After``.

After the ``n``-th failed attempt the wait is ``d = min(cap, base · 2^(n-1))``, of which a worker waits at least
half and a random share of the other half ("equal jitter"): messages that failed together — a receiver was down
for everyone — do not all come back in the same second, yet none comes back much sooner than the schedule says.
A receiver's ``Retry-After`` is honoured when it asks for longer, up to the cap.

The randomness comes from an injected generator (``random.Random(seed)`` in tests), so schedules are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from retain.errors import InputError

__all__ = ["RetryPolicy", "UniformSource"]


class UniformSource(Protocol):
    """Anything with ``random() -> float`` in [0, 1), e.g. :class:`random.Random`."""

    def random(self) -> float: ...


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how late a message is tried again.

    Parameters
    ----------
    max_attempts : int
        Attempts before the message is dead-lettered (> 0).
    base_seconds : float
        Wait after the first failed attempt, before jitter (> 0).
    cap_seconds : float
        The longest wait (>= ``base_seconds``).
    """

    max_attempts: int
    base_seconds: float
    cap_seconds: float

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or not 0 < self.base_seconds <= self.cap_seconds:
            raise InputError(
                f"invalid retry policy (max_attempts={self.max_attempts}, base={self.base_seconds}, "
                f"cap={self.cap_seconds}); expected max_attempts >= 1 and 0 < base <= cap."
            )

    def exponential(self, attempt: int) -> float:
        """The un-jittered wait after failed attempt number ``attempt`` (1-based): ``min(cap, base·2^(n-1))``."""
        if attempt < 1:
            raise InputError(f"attempt must be >= 1 (the first attempt is 1); got {attempt}.")
        # Compare exponents, not products: 2**(attempt-1) overflows a float for a few thousand attempts.
        if attempt - 1 >= 1024 or self.base_seconds * 2.0 ** (attempt - 1) >= self.cap_seconds:
            return self.cap_seconds
        return self.base_seconds * 2.0 ** (attempt - 1)

    def delay(self, attempt: int, rng: UniformSource, *, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt``: half the exponential wait plus a random share of the
        other half, or the receiver's ``retry_after`` (capped) when that is longer.

        Parameters
        ----------
        attempt : int
            Attempts made so far, the failed one included (1 after the first failure).
        rng : UniformSource
            Source of the jitter; one ``random()`` draw per call.
        retry_after : float, optional
            Seconds the receiver asked to wait (HTTP ``Retry-After``).
        """
        full = self.exponential(attempt)
        wait = full / 2 + rng.random() * full / 2
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap_seconds))
        return wait

    def gives_up_after(self, attempt: int) -> bool:
        """Whether a message whose attempt number ``attempt`` failed is out of attempts."""
        return attempt >= self.max_attempts
