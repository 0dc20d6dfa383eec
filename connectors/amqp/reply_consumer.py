"""The gateway's consumer of unit replies: ``pakn.gateway.replies`` → a handler → ack, or an answer.

A reply is never dropped in silence. For each delivery, in order:

- the handler applied it (committed): **ack**;
- the handler refused it (``ReplyRefusal``) and the unit is known: the refusal goes to that unit's
  error queue ``pakn.unit.<CODE>.errors`` (schema ``urn:pakn:unit-error:1``, persistent, publisher
  confirmed, ``correlation_id`` = the reply's message_id), **then ack**;
- refused with no unit to tell (no usable routing key, body unreadable), or the unit has no error
  queue: it can never succeed, so it is published to ``pakn.dead`` with the ``x-pakn-*`` headers
  (reason = the refusal's code, stage ``replies``, attempts, last error, original exchange and
  routing key, when), confirmed, **then ack**; logged;
- a transient failure (``StoreError``/``StoreConflict``, the handler's timeout, the error queue
  not confirming, anything unexpected): the retry ladder (``connectors.amqp.retry_ladder``): the
  reply is republished to the delay queue of its next step (``x-pakn-attempt``, ``x-pakn-last-error``),
  confirmed, **then ack**; it comes back by itself after the delay. After the last step it goes to
  ``pakn.dead`` (reason ``RetriesExhausted``) as above.
- the delay queue or ``pakn.dead`` cannot take it (broker trouble): a pause that grows while
  failures go on (so an outage does not spin the queue), then **nack with requeue**; the quorum
  queue counts deliveries, and past its delivery limit the broker dead-letters it (``x-death``).

Replies about one petition are handled one at a time, in delivery order: a unit that publishes a
claim and then the answer must not see the answer applied first (and the claim refused). Replies
about different petitions are handled side by side, up to ``concurrency`` petitions at once (a lane
each; a body without a readable ``petition_id`` goes to the lane of the unreadable ones, to be
refused there): one at a time, a reply waited for its transaction's round trips and commit before
the next began, and a burst of claims queued up here while the gateway had a core to spare
(``bench/outbound.py``: the backlog sat in this queue, not in the national outbox). Prefetch fills
the pipe. When stopped, each lane finishes the reply in hand; the rest are redelivered. Order holds
for replies applied at their first try: one sent down the retry ladder comes back after its
petition's later replies, as it always has (the state machine then refuses what no longer fits,
to the unit's error queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import unicodedata
import uuid
from collections import Counter, deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import aio_pika
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)

from connectors.amqp import retry_ladder as ladder
from connectors.amqp.deliveries import is_stale, next_delivery, settle
from connectors.amqp.errors import AmqpError, BrokerUnavailable, TopologyError, Unroutable
from connectors.amqp.mapping import translated
from connectors.amqp.publishing import publish, publish_confirmed
from connectors.amqp.topology import DEAD_EXCHANGE, REPLIES_QUEUE, REPLIES_STAGE, unit_error_queue_name
from gateway.domain.exchange import OutboxMessage
from gateway.ports import StoreError

log = logging.getLogger(__name__)

ERROR_SCHEMA_ID = "urn:pakn:unit-error:1"
ERROR_TYPE = "pakn.reply.error"
BROKER_TIMEOUT = 10.0
HANDLER_TIMEOUT = 120.0  # an answer renders and signs a letter first
MAX_TEXT = 2000  # message_vi / message_en, as the error schema allows


class ReplyRefusal(Exception):
    """The handler's verdict that a reply will not be applied, and why (in Vietnamese and English).

    ``unit_code`` is the unit to tell (None: nobody can be told; the reply is dead-lettered).
    ``reply_message_id`` names the reply when the AMQP message had no message_id property but its
    body had one.
    """

    def __init__(
        self,
        code: str,
        message_vi: str,
        message_en: str,
        unit_code: str | None = None,
        petition_id: str | None = None,
        *,
        reply_message_id: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en
        self.unit_code = unit_code
        self.petition_id = petition_id
        self.reply_message_id = reply_message_id


class ReplyHandler(Protocol):
    """Applies one reply and commits; returns None when applied (or already applied before).

    Raises ``ReplyRefusal`` for a reply that will never apply as sent, ``gateway.ports.StoreError``
    (``StoreConflict`` included) for a failure that may pass. Anything else counts as transient too.
    """

    async def __call__(self, body: bytes, *, message_id: str | None, routing_key: str) -> None: ...


class ReplyConsumer:
    """Consumes ``pakn.gateway.replies`` on a connection the caller owns, until ``run``'s stop is set."""

    def __init__(
        self,
        connection: AbstractRobustConnection,
        handler: ReplyHandler,
        *,
        prefetch: int = 50,
        concurrency: int = 8,
        broker_timeout: float = BROKER_TIMEOUT,
        handler_timeout: float = HANDLER_TIMEOUT,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        retry_delays: Sequence[float] = ladder.DEFAULT_RETRY_DELAYS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if prefetch < 1 or concurrency < 1:
            raise ValueError("prefetch and concurrency must be at least 1")
        self._delays = ladder.checked_delays(retry_delays)  # declared by declare_topology
        self._connection = connection
        self._handler = handler
        self._prefetch = prefetch
        self._concurrency = concurrency
        self._publisher_lock = asyncio.Lock()  # lanes share one publishing channel: open it once
        self._broker_timeout = broker_timeout
        self._handler_timeout = handler_timeout
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._backoff = min_backoff
        self._clock = clock
        self._publisher: AbstractRobustChannel | None = None
        self.counts: Counter[str] = Counter()  # applied, refused, delayed, dead_lettered, requeued
        self.last_error: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set. ``BrokerUnavailable``/``TopologyError`` if it cannot start
        (the queue must exist: ``declare_topology`` first); a link lost later is the robust
        connection's to restore, and deliveries of the dead channel are redelivered by the broker."""
        inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        channel = self._connection.channel()
        try:
            with translated(f"consume {REPLIES_QUEUE}"):
                async with asyncio.timeout(self._broker_timeout):
                    await channel.initialize()
                    await channel.set_qos(prefetch_count=self._prefetch)
                    queue = await channel.declare_queue(REPLIES_QUEUE, passive=True)
                    tag = await queue.consume(inbox.put)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(channel.close(), self._broker_timeout)
            raise
        try:
            await self._dispatch(inbox, stop)
        finally:
            await self._shut(queue, tag, channel)

    async def _dispatch(self, inbox: asyncio.Queue[AbstractIncomingMessage], stop: asyncio.Event) -> None:
        """Each delivery to its petition's lane: appended if the lane runs, else a new lane once
        fewer than ``concurrency`` run. Returns when stopped and every lane has ended."""
        lanes: dict[str, deque[AbstractIncomingMessage]] = {}
        running: set[asyncio.Task[None]] = set()
        free = asyncio.Semaphore(self._concurrency)
        try:
            while (message := await next_delivery(inbox, stop)) is not None:
                if is_stale(message):
                    continue
                key = lane_key(message.body)
                waiting = lanes.get(key)
                if waiting is not None:
                    waiting.append(message)
                    continue
                await free.acquire()  # while every lane is busy the next deliveries wait in the inbox
                lanes[key] = deque([message])
                task = asyncio.create_task(self._lane(key, lanes, free, stop))
                running.add(task)
                task.add_done_callback(running.discard)
        except BaseException:  # cancelled (or failed): so are the lanes, as the one reply in hand was
            for lane in running:
                lane.cancel()
            raise
        finally:
            if running:  # stopped: each finishes the reply in hand; the ones it still holds are redelivered
                await asyncio.gather(*running, return_exceptions=True)

    async def _lane(
        self,
        key: str,
        lanes: dict[str, deque[AbstractIncomingMessage]],
        free: asyncio.Semaphore,
        stop: asyncio.Event,
    ) -> None:
        waiting = lanes[key]
        try:
            while waiting and not stop.is_set():
                message = waiting.popleft()
                if is_stale(message):
                    continue
                try:
                    await self.handle(message, stop)
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is None or current.cancelling():
                        raise  # this lane is being cancelled: the consumer is going away
                    # a library's own cancellation leaking out of a call: this reply only
                    log.error("replies: %s interrupted (CancelledError); requeued", message.message_id)
                    await settle(message.nack(requeue=True), message.message_id, who="replies")
                except Exception:  # handle() settles every outcome; this would be a bug: never strand it
                    log.exception("replies: %s not settled; requeued", message.message_id)
                    await settle(message.nack(requeue=True), message.message_id, who="replies")
        finally:
            del lanes[key]  # no await since the last look at `waiting`: nothing was added unseen
            free.release()

    async def handle(self, message: AbstractIncomingMessage, stop: asyncio.Event | None = None) -> None:
        """Settle one delivery (see the module docstring); never raises for a bad reply."""
        message_id = message.message_id or None
        try:
            async with asyncio.timeout(self._handler_timeout):
                await self._handler(
                    message.body, message_id=message_id, routing_key=ladder.origin(message)[1]
                )
        except ReplyRefusal as refusal:
            self._backoff = self._min_backoff
            await self._refuse(message, refusal, stop)
        except (StoreError, TimeoutError) as exc:
            await self._retry_later(message, f"{type(exc).__name__}: {exc}", stop)
        except Exception as exc:
            log.exception("replies: handler failed on %s; treating it as transient", message_id)
            await self._retry_later(message, f"{type(exc).__name__}: {exc}", stop)
        else:
            self._backoff = self._min_backoff
            self.last_error = None
            if await settle(message.ack(), message_id, who="replies"):
                self.counts["applied"] += 1

    async def _refuse(
        self, message: AbstractIncomingMessage, refusal: ReplyRefusal, stop: asyncio.Event | None
    ) -> None:
        reply_id = message.message_id or refusal.reply_message_id
        queue_name = _error_queue(refusal.unit_code)
        attempts = ladder.attempts_so_far(message) + 1
        if queue_name is None:
            log.warning(
                "replies: %s (key %r) refused and no unit to tell; dead-lettered: %s",
                reply_id,
                ladder.origin(message)[1],
                refusal,
            )
            await self._dead_letter(message, refusal.code, str(refusal), attempts, stop)
            return
        try:
            await self._publish_error(queue_name, reply_id, refusal)
        except Unroutable:
            log.warning(
                "replies: %s refused but %s does not exist; dead-lettered: %s", reply_id, queue_name, refusal
            )
            await self._dead_letter(
                message, refusal.code, f"{refusal} (no queue {queue_name})", attempts, stop
            )
            return
        except AmqpError as exc:
            await self._retry_later(
                message, f"cannot publish to {queue_name}: {exc.code}: {exc.message}", stop
            )
            return
        log.info("replies: %s of unit %s refused: %s", reply_id, refusal.unit_code, refusal)
        if await settle(message.ack(), reply_id, who="replies"):
            self.counts["refused"] += 1

    async def _retry_later(
        self, message: AbstractIncomingMessage, error: str, stop: asyncio.Event | None
    ) -> None:
        """The next step of the ladder, or ``pakn.dead`` after the last one."""
        self.last_error = error
        attempt = ladder.attempts_so_far(message) + 1
        if attempt > len(self._delays):
            await self._dead_letter(message, "RetriesExhausted", error, attempt, stop)
            return
        delay = self._delays[attempt - 1]
        queue_name = ladder.retry_queue_name(REPLIES_STAGE, delay)
        copy = ladder.copy_of(message, ladder.retry_headers(message, attempt, error))
        try:
            await self._publish_copy("", queue_name, copy)
        except AmqpError as exc:
            await self._requeue(message, f"{error}; and cannot delay it: {exc.code}: {exc.message}", stop)
            return
        log.warning(
            "replies: %s not applied (%s); attempt %d, back in %s",
            message.message_id,
            error,
            attempt,
            ladder.delay_label(delay),
        )
        if await settle(message.ack(), message.message_id, who="replies"):
            self.counts["delayed"] += 1

    async def _dead_letter(
        self,
        message: AbstractIncomingMessage,
        reason: str,
        error: str,
        attempts: int,
        stop: asyncio.Event | None,
    ) -> None:
        """To ``pakn.dead`` with why, confirmed, then ack; if the broker cannot take it, requeue."""
        headers = ladder.dead_headers(
            message, reason=reason, stage=REPLIES_STAGE, attempts=attempts, error=error, at=self._clock()
        )
        # routed by the original key: an operator (and `pakn.dead`'s bindings) see whose reply it was
        key = ladder.origin(message)[1]
        try:
            await self._publish_copy(DEAD_EXCHANGE, key, ladder.copy_of(message, headers))
        except AmqpError as exc:
            await self._requeue(
                message, f"{error}; and cannot dead-letter it: {exc.code}: {exc.message}", stop
            )
            return
        log.warning(
            "replies: %s dead-lettered to %s: %s: %s", message.message_id, DEAD_EXCHANGE, reason, error
        )
        if await settle(message.ack(), message.message_id, who="replies"):
            self.counts["dead_lettered"] += 1

    async def _publish_copy(self, exchange_name: str, routing_key: str, copy: aio_pika.Message) -> None:
        channel = await self._publishing_channel()
        exchange = (
            channel.default_exchange
            if exchange_name == ""
            else await channel.get_exchange(exchange_name, ensure=False)
        )
        action = f"publish {copy.message_id} to exchange {exchange_name!r} with key {routing_key!r}"
        try:
            await publish_confirmed(
                exchange, copy, routing_key, confirm_timeout=self._broker_timeout, action=action
            )
        except Unroutable:
            raise
        except AmqpError:
            await self._close_publisher(channel)  # it timed out or broke: the next publish opens another
            raise

    async def _requeue(
        self, message: AbstractIncomingMessage, reason: str, stop: asyncio.Event | None
    ) -> None:
        """Hold the delivery for the current backoff (so it is not redelivered at once), then requeue."""
        self.last_error = reason
        pause, self._backoff = self._backoff, min(self._backoff * 2, self._max_backoff)
        log.warning("replies: %s not applied (%s); requeued after %.1f s", message.message_id, reason, pause)
        await _pause(stop, pause)
        if await settle(message.nack(requeue=True), message.message_id, who="replies"):
            self.counts["requeued"] += 1

    async def _publish_error(self, queue_name: str, reply_id: str | None, refusal: ReplyRefusal) -> None:
        now = self._clock()
        doc: dict[str, Any] = {
            "schema": ERROR_SCHEMA_ID,
            "version": 1,
            "reply_message_id": reply_id,
            "petition_id": refusal.petition_id,
            "code": refusal.code,
            "message_vi": _clip(refusal.message_vi),
            "message_en": _clip(refusal.message_en),
            "at": now.isoformat(),
        }
        error = OutboxMessage(
            message_id=str(uuid.uuid4()),
            exchange="",
            routing_key=queue_name,
            type=ERROR_TYPE,
            correlation_id=reply_id or "",
            body=json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
            created_at=now,
        )
        channel = await self._publishing_channel()
        try:
            await publish(channel.default_exchange, error, confirm_timeout=self._broker_timeout)
        except Unroutable:
            raise
        except AmqpError:
            await self._close_publisher(channel)  # it timed out or broke: the next publish opens another
            raise

    async def _publishing_channel(self) -> AbstractRobustChannel:
        async with self._publisher_lock:
            return await self._open_publisher()

    async def _open_publisher(self) -> AbstractRobustChannel:
        if self._publisher is not None and not self._publisher.is_closed:
            return self._publisher
        await self._close_publisher()
        with translated("open the replies consumer's publishing channel"):
            try:
                async with asyncio.timeout(self._broker_timeout):
                    channel = self._connection.channel(publisher_confirms=True, on_return_raises=True)
                    await channel.initialize()
            except TimeoutError as exc:
                raise BrokerUnavailable("no answer from the broker in time opening a channel") from exc
        self._publisher = channel
        return channel

    async def _close_publisher(self, failed: AbstractRobustChannel | None = None) -> None:
        """Close the publishing channel; with `failed`, only if that is still the one in use: lanes
        share it, and a lane whose publish failed must not close the fresh one another just opened."""
        if failed is not None and failed is not self._publisher:
            return
        channel, self._publisher = self._publisher, None
        if channel is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(channel.close(), self._broker_timeout)

    async def _shut(self, queue: AbstractQueue, tag: str, channel: AbstractRobustChannel) -> None:
        # the basic.cancel round trip first: a quorum queue may drop acks sent just before their
        # channel closes and redeliver those messages (rabbitmq-server#10327)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(queue.cancel(tag), self._broker_timeout)
        await self._close_publisher()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(channel.close(), self._broker_timeout)  # unsettled ones requeue


def lane_key(body: bytes) -> str:
    """The petition a reply is about, as its lane's key; "" when the body does not say (the lane
    of unreadable replies, which the handler refuses)."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):  # bad JSON or UTF-8, or nested past the parser's depth
        return ""
    petition_id = doc.get("petition_id") if isinstance(doc, dict) else None
    return unicodedata.normalize("NFC", petition_id.strip()) if isinstance(petition_id, str) else ""


def _error_queue(unit_code: str | None) -> str | None:
    if not unit_code:
        return None
    try:
        return unit_error_queue_name(unit_code)
    except TopologyError:
        return None


def _clip(text: str) -> str:
    text = text.strip() or "-"
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


async def _pause(stop: asyncio.Event | None, seconds: float) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
