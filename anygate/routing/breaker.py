"""A circuit breaker per target: after consecutive failures the target is left out for a cool-down,
then one call probes it; a success closes the breaker, a failure opens it again."""

from __future__ import annotations

import time
from enum import StrEnum

FAILURES_TO_OPEN = 5
COOL_DOWN_SECONDS = 30.0


class BreakerState(StrEnum):
    """Where a breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Breaker:
    """Counts a target's consecutive failures and decides whether to try it."""

    def __init__(self, failures_to_open: int = FAILURES_TO_OPEN, cool_down: float = COOL_DOWN_SECONDS) -> None:
        self._failures_to_open = failures_to_open
        self._cool_down = cool_down
        self.state = BreakerState.CLOSED
        self.failures = 0
        self._opened_at = 0.0

    def allows(self, now: float | None = None) -> bool:
        """Whether to send the next call; after the cool-down, one probe gets through."""
        if self.state is BreakerState.CLOSED:
            return True
        now = time.monotonic() if now is None else now
        if self.state is BreakerState.OPEN and now - self._opened_at >= self._cool_down:
            self.state = BreakerState.HALF_OPEN
            return True
        return False

    def success(self) -> None:
        """The target answered: close."""
        self.state = BreakerState.CLOSED
        self.failures = 0

    def failure(self, now: float | None = None) -> None:
        """The target failed: open after enough failures in a row, or at once when probing."""
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self._failures_to_open:
            self.state = BreakerState.OPEN
            self._opened_at = time.monotonic() if now is None else now
