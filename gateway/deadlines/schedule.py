"""Runs the deadline watch every N seconds in the gateway process (`PAKN_DEADLINE_CHECK_SECONDS`).

Every instance runs it: the watch's own transactions make each reminder once whichever instance
gets there. A failed round (store down, a bug) is logged and the next one catches up: the watch
looks for every case a threshold has reached, not for what changed since the last round. On
shutdown a round in flight finishes (a batch of short transactions).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from gateway.deadlines.reminders import DeadlineWatch

__all__ = ["DeadlineSchedule"]

log = logging.getLogger(__name__)


class DeadlineSchedule:
    def __init__(self, watch: DeadlineWatch, every_seconds: float) -> None:
        if every_seconds <= 0:
            raise ValueError("the interval must be positive")
        self._watch = watch
        self._every = every_seconds
        self.runs = 0
        """Rounds finished, well or not: for tests and health checks."""
        self.failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: a round at once (cases dated, reminders due), then every interval."""
        while not stop.is_set():
            try:
                report = await self._watch.run_once()
            except Exception:  # an outage or a bug must not end the schedule: the next round catches up
                self.failures += 1
                log.exception("deadline round failed; trying again in %.0f s", self._every)
            else:
                if report.dated or report.reminded:
                    log.info(
                        "deadlines: %d case(s) dated, %d reminder(s) sent", report.dated, report.reminded
                    )
            self.runs += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._every)
