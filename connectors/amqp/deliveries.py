"""What every consumer here does with a delivery before handling it: wait for the next one or for
stop, and drop one whose channel died (the broker redelivers it on the new channel)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from aio_pika.abc import AbstractIncomingMessage
from aiormq.exceptions import ChannelInvalidStateError

from connectors.amqp.mapping import translated

log = logging.getLogger(__name__)
SETTLE_TIMEOUT = 10.0


async def next_delivery(
    inbox: asyncio.Queue[AbstractIncomingMessage], stop: asyncio.Event
) -> AbstractIncomingMessage | None:
    """The next delivery, or None once ``stop`` is set."""
    if stop.is_set():
        return None
    if not inbox.empty():
        return inbox.get_nowait()
    getter = asyncio.ensure_future(inbox.get())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((getter, stopper), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        getter.cancel()
    if getter.done() and not getter.cancelled():
        return getter.result()  # a delivery beats stop: it is in hand, settle it before leaving
    return None


def is_stale(message: AbstractIncomingMessage) -> bool:
    """Its channel is closed: an ack is impossible, and the broker redelivers it anyway."""
    try:
        message.channel  # noqa: B018 (aio-pika's property raises once the channel is closed)
    except ChannelInvalidStateError:
        return True
    return False


async def settle(settling: Awaitable[None], message_id: str | None, *, who: str) -> bool:
    """Ack/nack/reject, bounded; if the link dropped meanwhile the broker redelivers, harmlessly."""
    try:
        with translated(f"settle {message_id}"):
            async with asyncio.timeout(SETTLE_TIMEOUT):
                await settling
    except Exception as exc:
        log.warning("%s: could not settle %s (%s); it will be redelivered", who, message_id, exc)
        return False
    return True
