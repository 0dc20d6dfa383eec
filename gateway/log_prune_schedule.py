"""Prunes the message log by itself every night, in the gateway process (issue 4: retention).

At `PAKN_AUDIT_PRUNE_AT` (Vietnam time: a fixed time survives restarts) the rows older than
`PAKN_AUDIT_RETENTION_DAYS` that a signed checkpoint covers are exported, verified, recorded and
deleted (connectors.db.log_prune). A refusal (an export that does not verify, no checkpoint) or an
outage is logged and the next night tries again; nothing is deleted without a verified file. On
shutdown a prune in flight is cancelled: before its record it leaves at most an unrecorded file,
after it the next run finishes the deletes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from connectors.db.log_export import SegmentError
from gateway.inbound.reconcile_schedule import Delay
from gateway.stoppable import run_unless_stopped, wait_or_stop

__all__ = ["PruneSchedule"]

log = logging.getLogger(__name__)


class PruneSchedule:
    def __init__(
        self,
        prune: Callable[[datetime], Awaitable[object]],
        retention: timedelta,
        delay: Delay,
        clock: Callable[[], datetime],
    ) -> None:
        self._prune = prune
        self._retention = retention
        self._delay = delay
        self._clock = clock
        self.runs = 0
        """Runs finished, well or not: for tests and health checks."""
        self.failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: wait for the next time, prune what is older than the retention, repeat."""
        while not stop.is_set():
            if await wait_or_stop(stop, self._delay(self._clock())):
                return
            if not await run_unless_stopped(self.once(), stop, name="log-prune-run"):
                log.info("message log prune interrupted by shutdown; the next run finishes it")
                return

    async def once(self) -> None:
        """One prune of what is older than the retention period now; never raises."""
        before = self._clock() - self._retention
        try:
            await self._prune(before)
        except SegmentError as exc:  # a refusal: the log needs an operator, not a traceback
            self.failures += 1
            log.error("message log not pruned (entries before %s): %s", before.isoformat(), exc)
        except Exception:  # an outage or a bug must not end the schedule: the next night tries again
            self.failures += 1
            log.exception("message log prune failed; trying again at the next scheduled time")
        self.runs += 1
