"""One outbox row → one AMQP message, published mandatory and confirmed, failures mapped.

Properties are the contract with unit consumers (DESIGN §3): persistent, JSON, and ``message_id``
(their idempotency key), ``correlation_id`` and ``type`` always set.
"""

from __future__ import annotations

import asyncio

import aio_pika
import aiormq
from aio_pika.abc import AbstractExchange

from connectors.amqp.errors import PublishFailed, Unroutable
from connectors.amqp.mapping import publish_error
from gateway.domain.exchange import OutboxMessage

APP_ID = "pakn-gateway"
CONTENT_TYPE = "application/json"


def to_amqp_message(message: OutboxMessage) -> aio_pika.Message:
    return aio_pika.Message(
        message.body,
        content_type=CONTENT_TYPE,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        type=message.type,
        timestamp=message.created_at,
        app_id=APP_ID,
    )


async def publish(exchange: AbstractExchange, message: OutboxMessage, *, confirm_timeout: float) -> None:
    """Return once the broker confirmed the message; raise an ``AmqpError`` otherwise.

    ``Unroutable`` when no queue is bound for the routing key (needs ``mandatory`` and a channel
    opened with ``on_return_raises=True``), ``PublishFailed`` on a nack, ``PublishTimeout`` when no
    confirm came in ``confirm_timeout`` seconds, ``BrokerUnavailable`` when the link or channel is gone.
    """
    # no message id in the text: rows failing the same way share one message (the relay groups them)
    action = f"publish to exchange {message.exchange!r} with key {message.routing_key!r}"
    await publish_confirmed(
        exchange,
        to_amqp_message(message),
        message.routing_key,
        confirm_timeout=confirm_timeout,
        action=action,
    )


async def publish_confirmed(
    exchange: AbstractExchange,
    message: aio_pika.Message,
    routing_key: str,
    *,
    confirm_timeout: float,
    action: str,
) -> None:
    """``publish`` for a message built elsewhere (a retry's or a replay's copy); same errors."""
    try:
        # the timeout is ours, not aio-pika's: on a broken robust connection a publish can wait for
        # the link before its own timeout even starts
        result = await asyncio.wait_for(
            exchange.publish(message, routing_key, mandatory=True), confirm_timeout
        )
    except (Exception, asyncio.CancelledError) as exc:
        current = asyncio.current_task()
        if isinstance(exc, asyncio.CancelledError) and current is not None and current.cancelling():
            raise  # we are being cancelled ourselves: not a publish failure
        raise publish_error(exc, action, confirm_timeout) from exc
    if isinstance(result, aiormq.spec.Basic.Ack):
        return
    if result is None:
        raise PublishFailed(f"{action}: the channel has no publisher confirms, so nothing is known")
    if isinstance(result, aiormq.abc.DeliveredMessage):
        raise Unroutable(f"{action}: returned by the broker, no queue bound")
    raise PublishFailed(f"{action}: unexpected confirm {result!r}")
