"""Wake the relaying instance across processes: PostgreSQL NOTIFY after an outbox commit.

Only one instance relays the outbox (`relay_leadership`); a petition another instance (or another
`PAKN_WORKERS` worker) commits would wait for the leader's poll. So every instance that does not
lead sends `NOTIFY` on `OUTBOX_CHANNEL` after such a commit, and the leader, which LISTENs on its
lock connection, wakes its relay at once. Kept out of the intake's transactions: one connection of
the notifier's own, one `pg_notify` at a time, a burst coalesced into one more after the one in
flight. A notify that fails costs only latency (the leader still polls): it is logged once, not
per commit, and the next wake connects again. On SQLite (one process) nothing is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

OUTBOX_CHANNEL = "pakn_outbox"  # the one name both sides use (NOTIFY here, LISTEN in relay_leadership)
SEND_TIMEOUT = 5.0  # a black-holed database must not hold the next notifies back for a minute


class OutboxNotifier:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        relays_here: Callable[[], bool] = lambda: False,  # this instance leads: its own wake suffices
        channel: str = OUTBOX_CHANNEL,
        send_timeout: float = SEND_TIMEOUT,
    ) -> None:
        self._engine = engine
        self._relays_here = relays_here
        self._channel = channel
        self._timeout = send_timeout
        self._enabled = engine.dialect.name == "postgresql"
        self._connection: AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._again = False  # woken while a notify was in flight: exactly one more after it
        self._failing = False  # a failure was logged; the next ones are not, until one succeeds
        self._closed = False
        self.sent = 0  # notifies that reached the database (tests, diagnostics)

    def wake(self) -> None:
        """Called after a commit that added outbox rows (the `CommitSignal`); returns at once."""
        if not self._enabled or self._closed or self._relays_here():
            return
        if self._task is not None:
            self._again = True
            return
        try:
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="outbox-notify")
        except RuntimeError:  # no loop running: nobody to wake in this process either
            return

    async def close(self) -> None:
        """At shutdown: lets a notify in flight finish (bounded), then closes the connection."""
        self._closed = True
        task = self._task
        if task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, self._timeout * 2)
        await self._drop()

    async def _drain(self) -> None:
        try:
            while True:
                self._again = False
                await self._send()
                if not self._again or self._closed:
                    return
        finally:
            self._task = None

    async def _send(self) -> None:
        # a held connection may have died since its last use (a database restart): one more try
        # on a fresh one at once, so a restart does not cost a notify
        tries = 2 if self._connection is not None else 1
        for attempt in range(tries):
            try:
                async with asyncio.timeout(self._timeout):
                    if self._connection is None:
                        self._connection = await self._engine.connect()
                    await self._connection.execute(select(func.pg_notify(self._channel, "")))
                    await self._connection.commit()
            except Exception as exc:
                await self._drop(invalidate=True)
                if attempt + 1 < tries:
                    continue
                if not self._failing:
                    log.warning(
                        "outbox notify failed (%s: %s): a petition taken here waits for the relaying "
                        "instance's poll until the database answers again",
                        type(exc).__name__,
                        exc,
                    )
                    self._failing = True
                return
            self.sent += 1
            if self._failing:
                log.info("outbox notify reaches the database again")
                self._failing = False
            return

    async def _drop(self, *, invalidate: bool = False) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._timeout):
                if invalidate:  # in an unknown state: never back to the pool
                    await connection.invalidate()
                await connection.close()
