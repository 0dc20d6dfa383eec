"""A circuit breaker for calls to the national portal: stop hammering a peer that is down.

closed ──N consecutive failures──▶ open ──reset_seconds passed──▶ half-open ──trial succeeds──▶ closed
                                    ▲                                 │
                                    └──────────trial fails────────────┘

Closed lets every call through; open lets none; half-open lets exactly ONE trial through and waits
for its outcome. Pure: no I/O, no sleeping; time comes from an injectable monotonic clock.
Not thread-safe: it belongs to one asyncio task (the outbound sender).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self, *, threshold: int = 5, reset_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        if reset_seconds < 0:
            raise ValueError("reset_seconds must not be negative")
        self.threshold = threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_out = False

    @property
    def state(self) -> BreakerState:
        """The state now: an open breaker whose wait is over reads as half-open."""
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.reset_seconds:
            self._state = BreakerState.HALF_OPEN
            self._trial_out = False
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """May a call go now? In half-open, True once (the trial) until its outcome is recorded."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_out:
            self._trial_out = True
            return True
        return False

    def record_success(self) -> None:
        """The peer answered (a refusal is an answer too): close."""
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._trial_out = False

    def record_failure(self) -> None:
        """The peer was unavailable: count it; open at the threshold, re-open after a failed trial."""
        state = self.state
        self._failures += 1
        if state is BreakerState.HALF_OPEN or (
            state is BreakerState.CLOSED and self._failures >= self.threshold
        ):
            self._open()

    def record_inconclusive(self) -> None:
        """The call proved nothing about the peer (it failed in the gateway, not at the portal):
        the count stays as it is, and a half-open trial that ended so may be tried again."""
        self._trial_out = False

    def retry_after(self, now: float | None = None) -> float:
        """Seconds until a call may be tried (0: now). `now` on the breaker's clock; default its clock."""
        state = self.state
        if state is BreakerState.CLOSED or (state is BreakerState.HALF_OPEN and not self._trial_out):
            return 0.0
        if state is BreakerState.HALF_OPEN:  # the trial is out: its outcome decides
            return self.reset_seconds
        moment = self._clock() if now is None else now
        return max(0.0, self._opened_at + self.reset_seconds - moment)

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._clock()
        self._trial_out = False
