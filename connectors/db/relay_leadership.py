"""One outbox relay at a time across gateway instances sharing a PostgreSQL database.

Several relays draining one outbox would publish the same rows twice and could reorder a
petition's messages (a case's `new` in one instance's batch, its `supplement` in another's). So the
instances elect one relay with a PostgreSQL session advisory lock held on a connection of its own:
the others keep trying every few seconds and take over when the holder's connection goes (a killed
process, a lost link: PostgreSQL releases the lock). The holder checks its connection regularly and
stops relaying the moment it cannot be sure it still holds the lock. SQLite has one writer per file
anyway, and several processes on one SQLite file are not a supported deployment: there the lease is
always granted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

RELAY_LOCK_KEY = int.from_bytes(b"PAKNRELY", "big") >> 1  # fits a signed bigint
RETRY_SECONDS = 2.0
CHECK_SECONDS = 2.0


class RelayLeadership:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        retry_seconds: float = RETRY_SECONDS,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self._engine = engine
        self._retry = retry_seconds
        self._check = check_seconds
        self.leading = False

    @contextlib.asynccontextmanager
    async def hold(self, stop: asyncio.Event) -> AsyncIterator[asyncio.Event | None]:
        """Wait until this instance leads (or `stop`): yields an event set when the lead is lost,
        or None if stopped before leading."""
        if self._engine.dialect.name != "postgresql":
            self.leading = True
            try:
                yield asyncio.Event()  # never set: the only relay on this store
            finally:
                self.leading = False
            return
        connection = await self._acquire(stop)
        if connection is None:
            yield None
            return
        lost = asyncio.Event()
        watch = asyncio.create_task(self._watch(connection, lost, stop), name="relay-lead-watch")
        self.leading = True
        log.info("this gateway instance now relays the outbox (PostgreSQL advisory lock held)")
        try:
            yield lost
        finally:
            self.leading = False
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watch
            with contextlib.suppress(Exception):
                await connection.execute(select(func.pg_advisory_unlock(RELAY_LOCK_KEY)))
                await connection.commit()
            with contextlib.suppress(Exception):
                await connection.close()

    async def _acquire(self, stop: asyncio.Event) -> AsyncConnection | None:
        announced = False
        while not stop.is_set():
            connection: AsyncConnection | None = None
            try:
                connection = await self._engine.connect()
                got = (await connection.execute(select(func.pg_try_advisory_lock(RELAY_LOCK_KEY)))).scalar()
                await connection.commit()  # the lock is the session's: no transaction is left open
                if got:
                    return connection
                if not announced:
                    log.info("another gateway instance relays the outbox; this one stands by")
                    announced = True
            except Exception as exc:
                log.warning("relay leadership: cannot reach the database (%s); retrying", exc)
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._retry)
        return None

    async def _watch(self, connection: AsyncConnection, lost: asyncio.Event, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._check)
            try:
                await connection.execute(text("SELECT 1"))
                await connection.commit()
            except Exception as exc:
                log.warning("relay leadership lost (%s): this instance stops relaying", exc)
                lost.set()
                return
