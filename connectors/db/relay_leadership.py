"""One outbox relay at a time across gateway instances sharing a PostgreSQL database.

Several relays draining one outbox would publish the same rows twice and could reorder a
petition's messages (a case's `new` in one instance's batch, its `supplement` in another's). So the
instances elect one relay with a PostgreSQL session advisory lock held on a connection of its own:
the others keep trying every few seconds and take over when the holder's connection goes (a killed
process, a lost link: PostgreSQL releases the lock). The holder checks its connection regularly and
stops relaying the moment it cannot be sure it still holds the lock. SQLite has one writer per file
anyway, and several processes on one SQLite file are not a supported deployment: there the lease is
always granted.

While it leads, the lock connection also LISTENs on `OUTBOX_CHANNEL`: the other instances NOTIFY
there after committing outbox rows (`outbox_notify`), and `wake` runs the relay at once instead of
at its next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.db.outbox_notify import OUTBOX_CHANNEL

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
    async def hold(
        self, stop: asyncio.Event, *, wake: Callable[[], None] | None = None
    ) -> AsyncIterator[asyncio.Event | None]:
        """Wait until this instance leads (or `stop`): yields an event set when the lead is lost,
        or None if stopped before leading. While leading, `wake` is called on every notify of
        another instance's outbox commit (PostgreSQL only)."""
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
        listener: _Listener | None = None
        watch: asyncio.Task[None] | None = None
        try:
            # before the watch starts: the driver allows one operation at a time on a connection
            listener = await _listen(connection, wake) if wake is not None else None
            watch = asyncio.create_task(self._watch(connection, lost, stop), name="relay-lead-watch")
            self.leading = True
            log.info("this gateway instance now relays the outbox (PostgreSQL advisory lock held)")
            yield lost
        finally:
            self.leading = False
            if watch is not None:
                watch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await watch
            try:
                if listener is not None:
                    await _unlisten(connection, listener)
                await connection.execute(select(func.pg_advisory_unlock(RELAY_LOCK_KEY)))
                await connection.commit()
            except Exception:
                # not known to be unlocked and deaf: never back to the pool like that
                with contextlib.suppress(Exception):
                    await connection.invalidate()
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


_Listener = Callable[[Any, int, str, str], None]  # asyncpg's (connection, pid, channel, payload)


async def _listen(connection: AsyncConnection, wake: Callable[[], None]) -> _Listener | None:
    """LISTEN on the lock connection (asyncpg delivers notifies as they arrive, between its
    transactions: the watch's are a SELECT 1 each). Failing that, the relay only polls."""

    def on_notify(_connection: Any, _pid: int, _channel: str, _payload: str) -> None:
        wake()

    try:
        await (await _driver(connection)).add_listener(OUTBOX_CHANNEL, on_notify)
    except Exception as exc:
        log.warning("relay leadership: cannot LISTEN on %s (%s); the relay polls only", OUTBOX_CHANNEL, exc)
        return None
    return on_notify


async def _unlisten(connection: AsyncConnection, listener: _Listener) -> None:
    await (await _driver(connection)).remove_listener(OUTBOX_CHANNEL, listener)


async def _driver(connection: AsyncConnection) -> Any:
    """The asyncpg connection under SQLAlchemy's: notifies are a driver feature."""
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None:  # only a connection already closed or invalidated has none
        raise ConnectionError("the relay's lock connection is closed")
    return driver
