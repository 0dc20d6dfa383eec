"""``pakn.dead`` as an operator sees it: list, read, replay and discard, losing nothing.

AMQP has no "peek". Reading takes messages with ``basic.get`` and manual ack, holds them unacked,
and puts back every one it leaves with ``nack(requeue=True)`` (or, if this process dies, the broker
does so when the channel closes): nothing is lost. ``pakn.dead`` is a classic queue, where a
requeued message goes back to its place, so the order is kept; only its ``redelivered`` flag is
set. While a scan holds them (a moment), another reader does not see them. Every broker call is
bounded by ``timeout``.

Two kinds of dead letter are read alike: those the gateway published (``x-pakn-*`` headers, see
``retry_ladder``) and those the broker dead-lettered itself (a delivery limit, a reject: ``x-death``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage

from connectors.amqp import retry_ladder as ladder
from connectors.amqp.connection import connect_plain
from connectors.amqp.errors import AmqpError, TopologyError
from connectors.amqp.mapping import translated
from connectors.amqp.publishing import publish_confirmed
from connectors.amqp.topology import DEAD_QUEUE, REPLIES_QUEUE, UNIT_ERRORS_SUFFIX, UNIT_QUEUE_PREFIX

DEFAULT_TIMEOUT = 10.0
SCAN_LIMIT = 10_000


@dataclass(frozen=True)
class AmqpDeadLetter:
    id: str  # the message_id, or "sha256-…" of the body for a message without one
    reason: str
    stage: str
    attempts: int | None
    last_error: str | None
    dead_at: datetime | None
    original_exchange: str
    original_routing_key: str
    message_id: str | None
    type: str | None
    content_type: str | None
    headers: dict[str, Any] = field(repr=False)
    body: bytes = field(repr=False)


def describe(message: AbstractIncomingMessage) -> AmqpDeadLetter:
    headers = dict(message.headers)
    if ladder.REASON in headers:  # published by the gateway: it said why
        attempts = headers.get(ladder.ATTEMPTS)
        return _letter(
            message,
            headers,
            reason=str(headers[ladder.REASON]),
            stage=str(headers.get(ladder.STAGE) or "?"),
            attempts=attempts if isinstance(attempts, int) else None,
            last_error=_text(headers.get(ladder.LAST_ERROR)),
            dead_at=_moment(headers.get(ladder.DEAD_AT)),
            origin=(
                str(headers.get(ladder.ORIGINAL_EXCHANGE) or ""),
                str(headers.get(ladder.ORIGINAL_ROUTING_KEY) or message.routing_key or ""),
            ),
        )
    # dead-lettered by the broker: the first death says where it came from
    first_queue = _text(headers.get("x-first-death-queue")) or ""
    death = _death_of(headers, first_queue)
    keys = death.get("routing-keys") or [message.routing_key or ""]
    count = headers.get("x-delivery-count")
    return _letter(
        message,
        headers,
        reason=_text(headers.get("x-first-death-reason")) or "unknown",
        stage=_stage_of(first_queue),
        attempts=count + 1 if isinstance(count, int) else death.get("count"),
        last_error=None,
        dead_at=_moment(death.get("time")),
        origin=(_text(headers.get("x-first-death-exchange")) or "", str(keys[0])),
    )


class DeadLetterQueue:
    """One operator session on ``pakn.dead`` (open with ``DeadLetterQueue.open``)."""

    def __init__(self, connection: AbstractConnection, timeout: float, clock: Callable[[], datetime]) -> None:
        self._connection = connection
        self._timeout = timeout
        self._clock = clock

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 (passed to the handshake, see connection.connect)
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> AsyncIterator[DeadLetterQueue]:
        # a plain connection: an operator's command should fail, not reconnect for ever
        connection = await connect_plain(url, timeout=timeout)
        try:
            yield cls(connection, timeout, clock)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout)

    async def scan(self, limit: int = SCAN_LIMIT) -> tuple[list[AmqpDeadLetter], int]:
        """Up to ``limit`` dead letters, oldest first, and how many ``pakn.dead`` holds in all."""
        letters: list[AmqpDeadLetter] = []
        async with self._held(limit) as (held, total):
            letters = [describe(m) for m in held]
        return letters, total

    async def replay(self, ids: Sequence[str]) -> dict[str, int]:
        """Each copy of each id republished, confirmed, to where it first went, then removed.

        Returns how many copies per id were replayed (0: not found). A copy that could not be
        republished stays in ``pakn.dead`` and the error is raised after the others are put back.
        """
        wanted = set(ids)
        done = dict.fromkeys(ids, 0)
        async with self._held(SCAN_LIMIT, wanted) as (held, _):
            publisher = await self._channel(confirms=True)
            try:
                for message in held:
                    letter = describe(message)
                    await self._republish(publisher, message, letter)
                    await self._ack(message)
                    done[letter.id] += 1
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(publisher.close(), self._timeout)
        return done

    async def discard(self, ids: Sequence[str]) -> dict[str, list[AmqpDeadLetter]]:
        """Remove every copy of each id; returns what was removed (empty: not found)."""
        removed: dict[str, list[AmqpDeadLetter]] = {i: [] for i in ids}
        async with self._held(SCAN_LIMIT, set(ids)) as (held, _):
            for message in held:
                letter = describe(message)
                await self._ack(message)
                removed[letter.id].append(letter)
        return removed

    @asynccontextmanager
    async def _held(
        self, limit: int, wanted: set[str] | None = None
    ) -> AsyncIterator[tuple[list[AbstractIncomingMessage], int]]:
        """The messages of ``pakn.dead`` (those with a ``wanted`` id, if given), held unacked for
        the block; every one the block did not ack goes back to its place afterwards."""
        channel = await self._channel(confirms=False)
        taken: list[AbstractIncomingMessage] = []
        try:
            with translated(f"read {DEAD_QUEUE}"):
                async with asyncio.timeout(self._timeout):
                    queue = await channel.declare_queue(DEAD_QUEUE, passive=True)
                total = queue.declaration_result.message_count or 0
                # only what was there when we looked: a message arriving meanwhile is not waited for
                for _ in range(min(total, limit)):
                    async with asyncio.timeout(self._timeout):
                        message = await queue.get(no_ack=False, fail=False)
                    if message is None:
                        break
                    taken.append(message)
            chosen = [m for m in taken if wanted is None or describe(m).id in wanted]
            yield chosen, total
        finally:
            # one round trip for all: the last delivery tag with multiple=True requeues every
            # unacked one before it too (those acked are settled already and unaffected)
            unsettled = [m for m in taken if not m.processed]
            if unsettled:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(self._timeout):
                        await unsettled[-1].nack(requeue=True, multiple=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(channel.close(), self._timeout)  # requeues anything left

    async def _channel(self, *, confirms: bool) -> AbstractChannel:
        with translated("open a channel for pakn.dead"):
            async with asyncio.timeout(self._timeout):
                return await self._connection.channel(publisher_confirms=confirms, on_return_raises=confirms)

    async def _republish(
        self, channel: AbstractChannel, message: AbstractIncomingMessage, letter: AmqpDeadLetter
    ) -> None:
        exchange_name, key = letter.original_exchange, letter.original_routing_key
        if exchange_name == "" and key == "":
            raise TopologyError(f"dead letter {letter.id}: nowhere to replay it to (no original key)")
        with translated(f"replay {letter.id}"):
            async with asyncio.timeout(self._timeout):
                exchange = (
                    channel.default_exchange
                    if exchange_name == ""
                    else await channel.get_exchange(exchange_name, ensure=True)
                )
        copy = ladder.copy_of(message, ladder.fresh_headers(letter.headers, self._clock()))
        action = f"replay {letter.id} to exchange {exchange_name!r} with key {key!r}"
        await publish_confirmed(exchange, copy, key, confirm_timeout=self._timeout, action=action)

    async def _ack(self, message: AbstractIncomingMessage) -> None:
        with translated(f"remove {message.message_id} from {DEAD_QUEUE}"):
            async with asyncio.timeout(self._timeout):
                await message.ack()


def _letter(
    message: AbstractIncomingMessage,
    headers: dict[str, Any],
    *,
    reason: str,
    stage: str,
    attempts: int | None,
    last_error: str | None,
    dead_at: datetime | None,
    origin: tuple[str, str],
) -> AmqpDeadLetter:
    message_id = message.message_id or None
    return AmqpDeadLetter(
        id=message_id or "sha256-" + hashlib.sha256(message.body).hexdigest()[:16],
        reason=reason,
        stage=stage,
        attempts=attempts,
        last_error=last_error,
        dead_at=dead_at,
        original_exchange=origin[0],
        original_routing_key=origin[1],
        message_id=message_id,
        type=message.type,
        content_type=message.content_type,
        headers=headers,
        body=message.body,
    )


def _death_of(headers: dict[str, Any], queue: str) -> dict[str, Any]:
    deaths = headers.get("x-death")
    if not isinstance(deaths, list):
        return {}
    entries = [d for d in deaths if isinstance(d, dict)]
    for death in entries:
        if death.get("queue") == queue:
            return death
    return entries[-1] if entries else {}


def _stage_of(queue: str) -> str:
    """The consumer a broker dead letter came from, named like the gateway's own stages."""
    if queue == REPLIES_QUEUE:
        return "replies"
    if queue.startswith(UNIT_QUEUE_PREFIX):
        return "unit-errors" if queue.endswith(UNIT_ERRORS_SUFFIX) else "unit"
    if queue.startswith(ladder.RETRY_QUEUE_PREFIX):
        return "retry"
    return queue or "?"


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None if value is None else str(value)


def _moment(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value)
    return None


__all__ = ["AmqpDeadLetter", "AmqpError", "DeadLetterQueue", "describe"]
