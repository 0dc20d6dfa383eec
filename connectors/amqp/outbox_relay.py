"""Publish committed outbox rows to RabbitMQ, pipelined, and tell the outbox which ones made it.

The outbox is the source of truth: a row leaves it only when its publisher confirm arrived. The
relay keeps no state of its own, so a crash, a broker restart or a cut link loses nothing; the
price is that a row whose confirm was lost in flight is published again (at-least-once), which is
why every consumer is idempotent by ``message_id``.

Throughput comes from pipelining: a whole batch is published concurrently and confirmed together
(awaiting each confirm in turn is 7–9× slower, see LIMITS.md). Every publish is bounded by a
timeout because a publish on a broken robust connection can hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection

from connectors.amqp.errors import AmqpError, BrokerUnavailable, PublishTimeout, TopologyError
from connectors.amqp.mapping import publish_error, translated
from connectors.amqp.publishing import publish
from gateway.domain.exchange import OutboxMessage

log = logging.getLogger(__name__)

REOPEN_GRACE = 2.0  # how long a robust channel gets to reopen itself before it is replaced


class OutboxSource(Protocol):
    """What the relay needs from the outbox. Rows not confirmed stay pending and come back later.

    Retry policy for rows that keep failing (unroutable, say) is the source's: it should hand them
    out after newer rows or park them after some attempts, so they cannot block the head.
    """

    async def pending(self, limit: int) -> list[OutboxMessage]:
        """Up to ``limit`` committed, unpublished rows, oldest first."""

    async def confirmed(self, messages: list[OutboxMessage]) -> None:
        """Exactly the rows whose publisher confirm arrived: they are published."""

    async def failed(self, messages: list[OutboxMessage], error: str) -> None:
        """Rows the broker did not take (``error`` starts with the ``AmqpError`` code); still pending."""


@dataclass
class _Batch:
    size: int = 0
    confirmed: int = 0
    failures: dict[str, list[OutboxMessage]] = field(default_factory=dict)
    link_failed: bool = False
    timed_out: bool = False

    @property
    def stuck(self) -> bool:
        """Nothing got through: retrying at once would only spin."""
        return self.link_failed or (self.size > 0 and self.confirmed == 0)


class OutboxRelay:
    """Drains an ``OutboxSource`` into the broker through one confirm channel it owns."""

    def __init__(
        self,
        connection: AbstractRobustConnection,
        source: OutboxSource,
        *,
        batch_size: int = 500,
        publish_timeout: float = 10.0,
        poll_interval: float = 0.5,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._connection = connection
        self._source = source
        self._batch_size = batch_size
        self._publish_timeout = publish_timeout
        self._poll_interval = poll_interval
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._channel: AbstractRobustChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._lock = asyncio.Lock()
        self._woken = asyncio.Event()
        self.last_error: str | None = None

    def wake(self) -> None:
        """Run the next batch now instead of at the next poll (call it after an outbox commit)."""
        self._woken.set()

    async def run_once(self) -> int:
        """Publish one batch; return how many rows were confirmed. ``BrokerUnavailable`` if no link."""
        return (await self._relay_batch()).confirmed

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set, surviving broker and outbox outages with capped backoff."""
        backoff = self._min_backoff
        try:
            while not stop.is_set():
                self._woken.clear()
                try:
                    batch = await self._relay_batch()
                except AmqpError as exc:
                    self.last_error = f"{exc.code}: {exc.message}"
                    log.warning("outbox relay: %s; retrying in %.1f s", self.last_error, backoff)
                except Exception as exc:  # the outbox store failing must not end the relay
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.exception("outbox relay: batch failed; retrying in %.1f s", backoff)
                else:
                    if not batch.stuck:
                        self.last_error = None
                        backoff = self._min_backoff
                        if batch.size < self._batch_size:
                            await self._sleep(stop, self._poll_interval, wakeable=True)
                        continue
                await self._sleep(stop, backoff, wakeable=False)
                backoff = min(backoff * 2, self._max_backoff)
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the relay's channel (not the connection, which the caller owns)."""
        channel, self._channel = self._channel, None
        self._exchanges.clear()
        if channel is not None:  # even a closed one: that stops a robust channel reopening itself
            with contextlib.suppress(Exception):
                await asyncio.wait_for(channel.close(), self._publish_timeout)

    async def _relay_batch(self) -> _Batch:
        async with self._lock:
            rows = await self._source.pending(self._batch_size)
            batch = _Batch(size=len(rows))
            if not rows:
                return batch
            targets, missing = await self._resolve_exchanges({row.exchange for row in rows})
            outcomes = await asyncio.gather(
                *(self._publish(targets, missing, row) for row in rows), return_exceptions=True
            )
            ok = self._sort(batch, rows, outcomes)
            try:
                if ok:
                    await self._source.confirmed(ok)
                for error_text, failed_rows in batch.failures.items():
                    log.warning("outbox relay: %d row(s) not published: %s", len(failed_rows), error_text)
                    await self._source.failed(failed_rows, error_text)
            finally:
                if batch.timed_out:
                    # a channel still owing confirms is suspect (a stalled link; and aiormq matches
                    # returns by message_id, which a retry shares): the next batch starts afresh
                    await self.close()
            return batch

    def _sort(
        self, batch: _Batch, rows: list[OutboxMessage], outcomes: list[BaseException | None]
    ) -> list[OutboxMessage]:
        """Fill ``batch`` from the publish outcomes; return the confirmed rows."""
        ok: list[OutboxMessage] = []
        failures: defaultdict[str, list[OutboxMessage]] = defaultdict(list)
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome is None:
                ok.append(row)
                continue
            if not isinstance(outcome, Exception | asyncio.CancelledError):
                raise outcome  # KeyboardInterrupt, SystemExit: not ours to swallow
            error = publish_error(outcome, "publish", self._publish_timeout)
            if type(error) is AmqpError:
                log.error("outbox relay: unexpected error on %s", row.message_id, exc_info=outcome)
            batch.link_failed |= isinstance(error, BrokerUnavailable | PublishTimeout)
            batch.timed_out |= isinstance(error, PublishTimeout)
            if isinstance(error, TopologyError):
                self._exchanges.clear()  # an exchange deleted under us: look it up again
            failures[f"{error.code}: {error.message}"].append(row)
        batch.confirmed = len(ok)
        batch.failures = dict(failures)
        return ok

    async def _publish(
        self, targets: dict[str, AbstractExchange], missing: dict[str, AmqpError], row: OutboxMessage
    ) -> None:
        if row.exchange in missing:
            raise missing[row.exchange]
        await publish(targets[row.exchange], row, confirm_timeout=self._publish_timeout)

    async def _ready_channel(self) -> AbstractRobustChannel:
        """The relay's confirm channel, open; waits (bounded) for a reconnection in progress."""
        with translated("open the relay's channel"):
            try:
                async with asyncio.timeout(self._publish_timeout):
                    return await self._open_channel()
            except TimeoutError as exc:
                raise BrokerUnavailable(
                    "no answer from the broker in time (link down or stalled); the robust connection "
                    "recovers by itself once the broker is back"
                ) from exc

    async def _open_channel(self) -> AbstractRobustChannel:
        await self._connection.connected.wait()
        if self._channel is not None and self._channel.is_closed:
            self._exchanges.clear()  # closed by a missing exchange, maybe: look them up again
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._channel.ready(), REOPEN_GRACE)
            if self._channel.is_closed:  # it did not reopen itself: replace it
                log.info("outbox relay: replacing a channel that did not reopen")
                await self.close()
        if self._channel is None:
            channel = self._connection.channel(publisher_confirms=True, on_return_raises=True)
            await channel.initialize()
            self._channel = channel
        return self._channel

    async def _resolve_exchanges(
        self, names: set[str]
    ) -> tuple[dict[str, AbstractExchange], dict[str, AmqpError]]:
        """Look each exchange up once per channel, so a missing one fails only its own rows.

        Publishing to a missing exchange makes the broker close the channel under every other
        publish of the batch; a passive declare first costs one round trip per name per channel.
        """
        channel = await self._ready_channel()
        found: dict[str, AbstractExchange] = {}
        missing: dict[str, AmqpError] = {}
        for name in sorted(names):
            try:
                found[name] = await self._exchange(channel, name)
            except TopologyError as exc:
                missing[name] = exc
                # the broker closed the channel; a robust one reopens itself, but when cannot be
                # observed (is_closed may still say False): take a fresh one, look up again
                await self.close()
                channel = await self._ready_channel()
                found = {known: await self._exchange(channel, known) for known in found}
        return found, missing

    async def _exchange(self, channel: AbstractRobustChannel, name: str) -> AbstractExchange:
        if name == "":
            return channel.default_exchange
        if name not in self._exchanges:
            with translated(f"find exchange {name!r}"):
                async with asyncio.timeout(self._publish_timeout):
                    self._exchanges[name] = await channel.declare_exchange(name, passive=True, robust=False)
        return self._exchanges[name]

    async def _sleep(self, stop: asyncio.Event, seconds: float, *, wakeable: bool) -> None:
        waiters = [asyncio.ensure_future(stop.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._woken.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
