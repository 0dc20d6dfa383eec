"""Delayed retry without a plugin: per-delay TTL queues that dead-letter back to the queue they serve.

A consumer that fails for a reason that may pass republishes the delivery (same body, properties and
message_id) to the delay queue of its next step and acks the original only once that publish is
confirmed; when the TTL runs out the broker moves it back (``x-death`` counts each round). After the
last step, or for a message that can never succeed, it goes to ``pakn.dead`` with the headers below,
which ``connectors.amqp.dead_letters`` reads back for the operator.

Delay queues are named by their delay (``pakn.retry.replies.10s``), not by their step: changing the
ladder in the settings then declares new queues instead of failing on the old ones' ``x-message-ttl``
(PRECONDITION_FAILED), and the old ones still drain back by themselves.

They are quorum queues: RabbitMQ 3.10 does honour ``x-message-ttl`` on quorum queues (checked on
3.10.8: the message expires and dead-letters with ``x-death``), and a quorum queue can dead-letter
``at-least-once`` (with ``x-overflow: reject-publish``), which a classic queue cannot; a delayed
reply is then neither lost with a node nor on its way back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

RETRY_QUEUE_PREFIX = "pakn.retry."
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (10.0, 60.0, 600.0, 3600.0)

ATTEMPT = "x-pakn-attempt"  # failed attempts so far, on a message waiting in a delay queue
LAST_ERROR = "x-pakn-last-error"
REASON = "x-pakn-reason"
STAGE = "x-pakn-stage"
ATTEMPTS = "x-pakn-attempts"
ORIGINAL_EXCHANGE = "x-pakn-original-exchange"
ORIGINAL_ROUTING_KEY = "x-pakn-original-routing-key"
DEAD_AT = "x-pakn-dead-at"
REPLAYED_AT = "x-pakn-replayed-at"

# what the broker and this module add on the way; a replayed message starts without them
TRANSIT_HEADERS = frozenset(
    {ATTEMPT, LAST_ERROR, REASON, STAGE, ATTEMPTS, ORIGINAL_EXCHANGE, ORIGINAL_ROUTING_KEY, DEAD_AT}
)
BROKER_HEADERS = ("x-death", "x-delivery-count", "x-first-death-", "x-last-death-")
MAX_ERROR = 1000  # header values travel with every copy: keep them short


def delay_label(seconds: float) -> str:
    """``10s``, ``1m``, ``1h``, ``200ms``: the delay as a queue name can show it."""
    ms = round(seconds * 1000)
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def retry_queue_name(stage: str, seconds: float) -> str:
    return f"{RETRY_QUEUE_PREFIX}{stage}.{delay_label(seconds)}"


def retry_queue_arguments(seconds: float, back_to: str) -> dict[str, Any]:
    """A delay queue: expires after ``seconds`` and dead-letters, at least once, to queue ``back_to``."""
    return {
        "x-queue-type": "quorum",
        "x-message-ttl": round(seconds * 1000),
        "x-dead-letter-exchange": "",  # the default exchange: routed by queue name
        "x-dead-letter-routing-key": back_to,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",  # required by at-least-once
    }


def checked_delays(delays: Sequence[float]) -> tuple[float, ...]:
    if not delays or any(d <= 0 for d in delays):
        raise ValueError("retry delays must be a non-empty list of positive seconds")
    if len({delay_label(d) for d in delays}) != len(delays):
        raise ValueError("retry delays must differ (to the millisecond)")
    return tuple(delays)


def is_own_round_trip(message: AbstractIncomingMessage) -> bool:
    """Came back from a delay queue (the default exchange), not from a unit's publish.

    Only then are the ``x-pakn-*`` headers believed: a unit publishes to ``pakn.replies`` and could
    set any header there; write access to the default exchange is the gateway's (broker permissions).
    """
    return message.exchange == "" and bool(message.headers.get(ORIGINAL_ROUTING_KEY))


def origin(message: AbstractIncomingMessage) -> tuple[str, str]:
    """The exchange and routing key the message was first published with."""
    if is_own_round_trip(message):
        headers = message.headers
        return str(headers.get(ORIGINAL_EXCHANGE) or ""), str(headers[ORIGINAL_ROUTING_KEY])
    return message.exchange or "", message.routing_key or ""


def attempts_so_far(message: AbstractIncomingMessage) -> int:
    if not is_own_round_trip(message):
        return 0
    value = message.headers.get(ATTEMPT)
    return value if isinstance(value, int) and value >= 0 else 0


def copy_of(message: AbstractIncomingMessage, headers: Mapping[str, Any]) -> aio_pika.Message:
    """The same message (body, properties, message_id) with ``headers`` instead of its own."""
    return aio_pika.Message(
        message.body,
        headers=dict(headers),
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        priority=message.priority,
        correlation_id=message.correlation_id,
        message_id=message.message_id,
        timestamp=message.timestamp,
        type=message.type,
        user_id=None,  # the broker checks user_id against the publisher's login: never copy it
        app_id=message.app_id,
    )


def retry_headers(message: AbstractIncomingMessage, attempt: int, error: str) -> dict[str, Any]:
    exchange, routing_key = origin(message)
    return {
        **message.headers,
        ATTEMPT: attempt,
        LAST_ERROR: clip(error),
        ORIGINAL_EXCHANGE: exchange,
        ORIGINAL_ROUTING_KEY: routing_key,
    }


def dead_headers(
    message: AbstractIncomingMessage, *, reason: str, stage: str, attempts: int, error: str, at: datetime
) -> dict[str, Any]:
    exchange, routing_key = origin(message)
    headers = {k: v for k, v in message.headers.items() if k != ATTEMPT}
    return {
        **headers,
        REASON: reason,
        STAGE: stage,
        ATTEMPTS: attempts,
        LAST_ERROR: clip(error),
        ORIGINAL_EXCHANGE: exchange,
        ORIGINAL_ROUTING_KEY: routing_key,
        DEAD_AT: at.isoformat(),
    }


def fresh_headers(headers: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """A dead letter's headers without what its journey added, for a replay through the normal path."""
    kept = {k: v for k, v in headers.items() if k not in TRANSIT_HEADERS and not k.startswith(BROKER_HEADERS)}
    return {**kept, REPLAYED_AT: at.isoformat()}


def clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"
