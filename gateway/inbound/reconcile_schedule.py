"""When the gateway reconciles by itself: nightly at a fixed Vietnam time, or every N seconds (pull mode).

A fixed time of day survives restarts (a gateway restarted every few hours would never reach a
24-hour interval); an interval suits pull mode. A run that fails — the portal down, the store down,
a bug — is logged and the schedule goes on: the next run starts over and catches up. On shutdown a
run in flight is cancelled: each petition commits on its own, so nothing is half-stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta, timezone

from gateway.inbound.reconcile import ReconcileReport
from gateway.stoppable import run_unless_stopped, wait_or_stop

__all__ = ["ReconcileSchedule", "daily_at", "every"]

log = logging.getLogger(__name__)

VIETNAM = timezone(timedelta(hours=7), "ICT")

Delay = Callable[[datetime], float]
"""Seconds from `now` until the next run."""


def every(seconds: float) -> Delay:
    if seconds <= 0:
        raise ValueError("the interval must be positive")
    return lambda now: seconds


def daily_at(moment: time, tz: timezone = VIETNAM) -> Delay:
    """The next `moment` (wall-clock time in `tz`) strictly after now."""

    def delay(now: datetime) -> float:
        local = now.astimezone(tz)
        today = datetime.combine(local.date(), moment, tzinfo=tz)
        following = today if today > local else today + timedelta(days=1)
        return (following - local).total_seconds()

    return delay


class ReconcileSchedule:
    def __init__(
        self,
        reconcile: Callable[[], Awaitable[ReconcileReport]],
        delay: Delay,
        clock: Callable[[], datetime],
    ) -> None:
        self._reconcile = reconcile
        self._delay = delay
        self._clock = clock
        self.runs = 0
        """Runs finished (well or not): for health checks and tests."""

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: wait for the next time, reconcile, log, repeat."""
        while not stop.is_set():
            if await wait_or_stop(stop, self._delay(self._clock())):
                return
            if not await run_unless_stopped(self._once(), stop, name="reconcile-run"):
                log.info("reconciliation interrupted by shutdown; the next run starts over")
                return
            self.runs += 1

    async def _once(self) -> None:
        try:
            report = await self._reconcile()
        except Exception:  # a bug or an outage must not end the schedule: the next run tries again
            log.exception("reconciliation run failed; trying again at the next scheduled time")
            return
        if not report.ok:
            log.warning("reconciliation incomplete; the next scheduled run starts over")
