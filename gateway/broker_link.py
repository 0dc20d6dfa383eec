"""The gateway's side of RabbitMQ: connect (and keep trying while the broker is down), declare the
topology, run the outbox relay. Petitions are accepted whether or not the broker is up: the outbox
holds them until it is."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from aio_pika.abc import AbstractRobustConnection

from connectors.amqp.connection import connect
from connectors.amqp.errors import AmqpError, BrokerUnavailable
from connectors.amqp.outbox_relay import OutboxRelay, OutboxSource
from connectors.amqp.reply_consumer import ReplyConsumer, ReplyHandler
from connectors.amqp.topology import declare_topology
from gateway.domain.routing import RoutingTable
from gateway.settings import Settings

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
MAX_RECONNECT_DELAY = 30.0


class BrokerLink:
    def __init__(
        self,
        *,
        settings: Settings,
        routing: RoutingTable,
        source: OutboxSource,
        reply_handler: ReplyHandler | None = None,  # consumes pakn.gateway.replies when given
        leadership: Leadership | None = None,  # several instances: only the leader relays
    ) -> None:
        self._settings = settings
        self._routing = routing
        self._source = source
        self._reply_handler = reply_handler
        self._leadership = leadership
        self._topology_ready = False
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._relay: OutboxRelay | None = None
        self._connection: AbstractRobustConnection | None = None
        # connection attempts given up on (see _attempt): kept referenced until they end
        self._abandoned: set[asyncio.Task[AbstractRobustConnection]] = set()
        self._abandoned_closing: set[asyncio.Future[None]] = set()
        self.last_error: str | None = None

    @property
    def connected(self) -> bool:
        """Connected AND the topology declared: units can consume, the relay can publish."""
        return self._topology_ready and self._connection is not None and not self._connection.is_closed

    def wake(self) -> None:
        if self._relay is not None:
            self._relay.wake()

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="broker-link")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 15)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None

    async def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._connection = await self._attempt()
            except (AmqpError, TimeoutError) as exc:
                if isinstance(exc, TimeoutError):
                    exc = BrokerUnavailable(f"no connection within {CONNECT_TIMEOUT * 3:.0f} s")
                self.last_error = exc.message
                log.warning(
                    "RabbitMQ unreachable (%s); cases wait in the outbox; retry in %.0f s", exc.message, delay
                )
                await self._pause(delay)
                delay = min(delay * 2, MAX_RECONNECT_DELAY)
                continue
            delay = 1.0
            try:
                await self._serve(self._connection)
            except AmqpError as exc:
                self.last_error = exc.message
                log.warning("RabbitMQ link failed (%s); reconnecting", exc.message)
                await self._pause(delay)
            finally:
                connection, self._connection = self._connection, None
                self._relay = None
                self._topology_ready = False
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), CONNECT_TIMEOUT)

    async def _attempt(self) -> AbstractRobustConnection:
        """One connection attempt, bounded from outside as well as by connect()'s own handshake
        timeout. Seen under load: an attempt after a reset hung in aiormq's failure path (its
        close() awaiting its own cancelled tasks); `wait_for`, which waits for a cancelled task to
        end, would hang with it. An attempt past the bound is abandoned instead: cancelled, not
        awaited, its connection closed should it ever succeed."""
        attempt = asyncio.create_task(connect(self._settings.amqp_url, timeout=CONNECT_TIMEOUT))
        done, _ = await asyncio.wait({attempt}, timeout=CONNECT_TIMEOUT * 3)
        if not done:
            attempt.cancel()
            self._abandoned.add(attempt)
            attempt.add_done_callback(self._forget_abandoned)
            raise TimeoutError
        try:
            return attempt.result()
        except AmqpError:
            raise
        except (asyncio.CancelledError, Exception) as exc:
            # connect() says every handshake failure as BrokerUnavailable; should anything else
            # come out of the AMQP client — even CancelledError: this task's own cancellation is
            # raised at the wait above, never here — this loop must go on trying all the same: it
            # is the only thing that brings the link back.
            raise BrokerUnavailable(f"connection attempt failed: {type(exc).__name__}: {exc}") from exc

    def _forget_abandoned(self, attempt: asyncio.Task[AbstractRobustConnection]) -> None:
        self._abandoned.discard(attempt)
        if not attempt.cancelled() and attempt.exception() is None:
            late = attempt.result()
            closing = asyncio.ensure_future(late.close())
            self._abandoned_closing.add(closing)
            closing.add_done_callback(self._abandoned_closing.discard)

    async def _serve(self, connection: AbstractRobustConnection) -> None:
        channel = await connection.channel()
        try:
            await declare_topology(
                channel,
                self._routing.units.values(),
                delivery_limit=self._settings.amqp_delivery_limit,
                retry_delays=self._settings.retry_delays_seconds,
            )
        finally:
            with contextlib.suppress(Exception):
                await channel.close()
        log.info("RabbitMQ topology declared for %d units", len(self._routing.units))
        self._topology_ready = True
        self.last_error = None
        # the replies consumer (every instance) runs beside the relay (the leader only) on one link
        relay = asyncio.create_task(self._lead_and_relay(connection), name="outbox-relay")
        try:
            if self._reply_handler is not None:
                await self._consume_replies(connection, self._reply_handler)
        finally:
            await relay  # returns once stop is set

    async def _lead_and_relay(self, connection: AbstractRobustConnection) -> None:
        while not self._stop.is_set():
            if self._leadership is None:
                await self._relay_until(connection, self._stop)
                return
            # another instance's outbox commit (a NOTIFY) wakes the relay as a local commit does
            async with self._leadership.hold(self._stop, wake=self.wake) as lost:
                if lost is None:
                    return  # stopped while standing by
                until = asyncio.Event()
                ending = asyncio.create_task(_first_of(self._stop, lost, then=until))
                try:
                    await self._relay_until(connection, until)
                finally:
                    ending.cancel()
            # lead lost: stand by again, another instance may be relaying now

    async def _relay_until(self, connection: AbstractRobustConnection, stop: asyncio.Event) -> None:
        self._relay = OutboxRelay(
            connection,
            self._source,
            batch_size=self._settings.outbox_batch,
            poll_interval=self._settings.outbox_poll_seconds,
        )
        try:
            await self._relay.run(stop)
        finally:
            self._relay = None

    async def _consume_replies(self, connection: AbstractRobustConnection, handler: ReplyHandler) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                consumer = ReplyConsumer(
                    connection,
                    handler,
                    concurrency=self._settings.reply_concurrency,
                    retry_delays=self._settings.retry_delays_seconds,
                )
                await consumer.run(self._stop)
            except AmqpError as exc:
                self.last_error = exc.message
                log.warning("replies consumer cannot start (%s); retry in %.0f s", exc.message, delay)
                await self._pause(delay)
                delay = min(delay * 2, MAX_RECONNECT_DELAY)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)


class Leadership(Protocol):
    """Who relays the outbox when several instances share one store (`connectors.db.relay_leadership`)."""

    def hold(
        self, stop: asyncio.Event, *, wake: Callable[[], None] | None = None
    ) -> AbstractAsyncContextManager[asyncio.Event | None]: ...


async def _first_of(*events: asyncio.Event, then: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        then.set()
    finally:
        for waiter in waiters:
            waiter.cancel()
