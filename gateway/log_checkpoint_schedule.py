"""Signs a checkpoint of the message log every N seconds, in the gateway process (DESIGN §4).

A failed checkpoint (store down, timestamp authority down, a bug) is logged and the schedule goes
on: the next one covers everything the missed one would have. On shutdown a checkpoint in flight
finishes (it is one short read, a signature and at most one timestamp request).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

__all__ = ["CheckpointSchedule"]

log = logging.getLogger(__name__)


class CheckpointSchedule:
    def __init__(self, checkpoint: Callable[[], Awaitable[object]], every_seconds: float) -> None:
        if every_seconds <= 0:
            raise ValueError("the interval must be positive")
        self._checkpoint = checkpoint
        self._every = every_seconds
        self.runs = 0
        """Attempts finished, well or not: for tests and health checks."""
        self.failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: wait the interval, checkpoint, repeat."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._every)
            if stop.is_set():
                return
            try:
                await self._checkpoint()
            except Exception:  # an outage or a bug must not end the schedule: the next one catches up
                self.failures += 1
                log.exception("message log checkpoint failed; trying again in %.0f s", self._every)
            self.runs += 1
