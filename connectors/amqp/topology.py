"""The broker topology the gateway relies on, as named constants and one idempotent declaration.

Names live here and nowhere else, so the relay, the unit listeners, the replies consumer and an
operator's replay tool cannot drift apart. Unit queues are quorum queues (replicated, and they count
deliveries): a message redelivered more than ``delivery_limit`` times dead-letters to ``pakn.dead``
instead of looping forever. The limit is set explicitly because RabbitMQ before 4.0 has no default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel, AbstractExchange

from connectors.amqp.errors import TopologyError
from connectors.amqp.mapping import translated
from connectors.amqp.retry_ladder import (
    DEFAULT_RETRY_DELAYS,
    checked_delays,
    retry_queue_arguments,
    retry_queue_name,
)
from gateway.domain.routing import QUEUE_PREFIX, UNIT_CODE, Unit

CASES_EXCHANGE = "pakn.cases"
DEAD_EXCHANGE = "pakn.dead"
DEAD_QUEUE = "pakn.dead"
REPLIES_EXCHANGE = "pakn.replies"
REPLIES_QUEUE = "pakn.gateway.replies"
REPLIES_STAGE = "replies"  # the replies consumer's name in delay queues and dead-letter headers
UNIT_QUEUE_PREFIX = QUEUE_PREFIX  # "pakn.unit."
UNIT_KEY_PREFIX = "unit."
UNIT_ERRORS_SUFFIX = ".errors"
DEFAULT_DELIVERY_LIMIT = 5
DECLARE_TIMEOUT = 10.0


def _checked(unit_code: str) -> str:
    # a dot or a wildcard in a code would make its binding catch other units' cases
    if not UNIT_CODE.match(unit_code):
        raise TopologyError(f"unit code {unit_code!r} must match {UNIT_CODE.pattern}")
    return unit_code


def unit_queue_name(unit_code: str) -> str:
    return UNIT_QUEUE_PREFIX + _checked(unit_code)


def unit_error_queue_name(unit_code: str) -> str:
    """``pakn.unit.<CODE>.errors``: refusals of the unit's replies (no binding: default exchange)."""
    return unit_queue_name(unit_code) + UNIT_ERRORS_SUFFIX


def unit_binding_key(unit_code: str) -> str:
    """The pattern binding a unit's queue to ``pakn.cases``: every event about that unit."""
    return f"{UNIT_KEY_PREFIX}{_checked(unit_code)}.#"


def routing_key_for(unit_code: str, event: str) -> str:
    """``unit.<CODE>.<event>``, e.g. ``routing_key_for("CVL", "case.new") == "unit.CVL.case.new"``."""
    if not event or event.startswith(".") or event.endswith(".") or ".." in event:
        raise TopologyError(f"event {event!r} must be non-empty dot-separated words")
    return f"{UNIT_KEY_PREFIX}{_checked(unit_code)}.{event}"


def quorum_arguments(delivery_limit: int) -> dict[str, Any]:
    """Arguments of every consumed queue: quorum, dead-lettered to ``pakn.dead`` past the limit."""
    if delivery_limit < 1:
        raise TopologyError(f"delivery limit must be at least 1, not {delivery_limit}")
    return {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": DEAD_EXCHANGE,
        "x-delivery-limit": delivery_limit,
    }


async def declare_topology(
    channel: AbstractChannel,
    units: Iterable[Unit],
    *,
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    step_timeout: float = DECLARE_TIMEOUT,
) -> None:
    """Declare exchanges, queues and bindings; running it again with the same arguments is a no-op.

    ``delivery_limit`` applies to the unit queues and their error queues; the replies queue always
    has the default limit. ``retry_delays`` are the replies consumer's delay queues
    (``connectors.amqp.retry_ladder``), each dead-lettering back to ``pakn.gateway.replies``.

    A queue that already exists with other arguments (another delivery limit, a classic queue)
    raises ``TopologyError`` and leaves the channel closed by the broker: use a fresh channel after.
    """
    arguments = quorum_arguments(delivery_limit)
    try:
        delays = checked_delays(retry_delays)
    except ValueError as exc:
        raise TopologyError(str(exc)) from exc
    unit_codes = [_checked(unit.code) for unit in units]

    async def declare_exchange(name: str) -> AbstractExchange:
        # asyncio.timeout, not aio-pika's timeout=: a robust channel first waits, unbounded, for the link
        with translated(f"declare exchange {name}"):
            async with asyncio.timeout(step_timeout):
                return await channel.declare_exchange(name, ExchangeType.TOPIC, durable=True)

    async def declare_bound_queue(
        name: str, exchange: AbstractExchange | None, key: str, queue_arguments: dict[str, Any] | None
    ) -> None:
        with translated(f"declare queue {name}"):
            async with asyncio.timeout(step_timeout):
                queue = await channel.declare_queue(name, durable=True, arguments=queue_arguments)
                if exchange is not None:
                    await queue.bind(exchange, key)

    dead = await declare_exchange(DEAD_EXCHANGE)
    await declare_bound_queue(DEAD_QUEUE, dead, "#", None)
    cases = await declare_exchange(CASES_EXCHANGE)
    replies = await declare_exchange(REPLIES_EXCHANGE)
    # the replies queue is shared by every unit: its limit is fixed, or declaring units with another
    # limit would fail with PRECONDITION_FAILED on it
    await declare_bound_queue(REPLIES_QUEUE, replies, "#", quorum_arguments(DEFAULT_DELIVERY_LIMIT))
    for delay in delays:
        name = retry_queue_name(REPLIES_STAGE, delay)
        await declare_bound_queue(name, None, "", retry_queue_arguments(delay, REPLIES_QUEUE))
    for code in unit_codes:
        await declare_bound_queue(unit_queue_name(code), cases, unit_binding_key(code), arguments)
        await declare_bound_queue(unit_error_queue_name(code), None, "", arguments)
