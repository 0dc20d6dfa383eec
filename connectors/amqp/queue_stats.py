"""Message and consumer counts of named queues, by passive declares (no management plugin needed).

A passive declare creates nothing: it answers the queue's ready-message and consumer counts, or
NOT_FOUND, which closes the channel: a fresh channel is opened for the next name. The connection
is plain (not robust) and opened on demand: a console that cannot reach the broker shows that,
it does not reconnect in the background. Every broker call is bounded by ``timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aio_pika.abc import AbstractChannel, AbstractConnection

from connectors.amqp.connection import connect_plain
from connectors.amqp.errors import TopologyError
from connectors.amqp.mapping import translated

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class QueueStat:
    name: str
    messages: int  # ready, not counting those delivered and not yet acked
    consumers: int


class QueueStats:
    """One long-lived reader; ``read(names)`` gives None for a queue that does not exist.

    The last successful read is kept (``last_read``, with the monotonic time it was taken), so two
    samplers of one process (the metrics and the console's) can share one instance and read the
    broker once: the second takes ``recent()`` while it is fresh.
    """

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._url = url
        self._timeout = timeout
        self._connection: AbstractConnection | None = None
        self.last_read: tuple[float, dict[str, QueueStat | None]] | None = None
        self._lock = asyncio.Lock()  # one read at a time: two samplers must not open two connections

    def recent(self, names: Sequence[str], max_age: float) -> dict[str, QueueStat | None] | None:
        """The last read if it is younger than ``max_age`` seconds and covered ``names``; else None."""
        if self.last_read is None:
            return None
        taken, found = self.last_read
        if time.monotonic() - taken > max_age or any(n not in found for n in names):
            return None
        return {n: found[n] for n in names}

    async def read(self, names: Sequence[str]) -> dict[str, QueueStat | None]:
        """Counts per queue name; ``BrokerUnavailable`` when the broker cannot be reached."""
        async with self._lock:
            return await self._read(names)

    async def _read(self, names: Sequence[str]) -> dict[str, QueueStat | None]:
        connection = await self._connected()
        found: dict[str, QueueStat | None] = {}
        channel: AbstractChannel | None = None
        try:
            for name in names:
                if channel is None or channel.is_closed:
                    channel = await self._channel(connection)
                try:
                    with translated(f"count queue {name}"):
                        async with asyncio.timeout(self._timeout):
                            queue = await channel.declare_queue(name, passive=True)
                except TopologyError:
                    found[name] = None  # not declared (yet): the broker closed this channel
                    continue
                result = queue.declaration_result
                found[name] = QueueStat(name, result.message_count or 0, result.consumer_count or 0)
            self.last_read = (time.monotonic(), dict(found))
        except BaseException:
            await self.close()  # a broken link: the next read connects afresh
            raise
        finally:
            if channel is not None and not channel.is_closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(channel.close(), self._timeout)
        return found

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), self._timeout)

    async def _connected(self) -> AbstractConnection:
        if self._connection is None or self._connection.is_closed:
            self._connection = await connect_plain(self._url, timeout=self._timeout)
        return self._connection

    async def _channel(self, connection: AbstractConnection) -> AbstractChannel:
        with translated("open a channel to count queues"):
            async with asyncio.timeout(self._timeout):
                return await connection.channel(publisher_confirms=False)
