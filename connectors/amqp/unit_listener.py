"""A reference consumer for a unit: each case becomes ``<out_dir>/<message_id>.json``.

It is what a unit with an AMQP client runs (and what the tests use to see what units see). It acks
only after the file is durably on disk (write a temporary file, fsync, rename, fsync the folder),
so a crash never loses a case; a redelivery rewrites the same file, so duplicates are harmless.
A body that is not JSON, or a message without a usable id, is rejected without requeue: the broker
dead-letters it to ``pakn.dead`` where an operator can look at it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from connectors.amqp.connection import connect
from connectors.amqp.deliveries import is_stale, next_delivery, settle
from connectors.amqp.errors import ListenerError
from connectors.amqp.mapping import translated
from connectors.amqp.topology import unit_queue_name

log = logging.getLogger(__name__)

# a message id becomes a file name: nothing that could climb out of out_dir or hide as a dotfile
SAFE_MESSAGE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
BROKER_TIMEOUT = 10.0

OnMessage = Callable[[str, Path], None]


async def listen(
    url: str,
    unit_code: str,
    out_dir: Path,
    *,
    prefetch: int = 50,
    stop: asyncio.Event | None = None,
    on_message: OnMessage | None = None,
    max_messages: int | None = None,
    broker_timeout: float = BROKER_TIMEOUT,
) -> int:
    """Consume ``pakn.unit.<unit_code>`` until ``stop`` is set or ``max_messages`` were handled.

    Returns how many deliveries were handled (written or rejected). ``on_message(message_id, path)``
    is called after each written file is acked. Raises ``ListenerError`` if a file cannot be
    written (the message is requeued first), ``BrokerUnavailable``/``TopologyError`` at start.
    """
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    stop = stop or asyncio.Event()
    connection = await connect(url, timeout=broker_timeout)
    try:
        with translated(f"consume {unit_queue_name(unit_code)}"):
            async with asyncio.timeout(broker_timeout):
                channel = await connection.channel()
                await channel.set_qos(prefetch_count=prefetch)
                queue = await channel.declare_queue(unit_queue_name(unit_code), passive=True)
        return await _consume(queue, out_dir, stop, on_message, max_messages, broker_timeout)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection.close(), broker_timeout)  # unacked messages requeue


async def _consume(
    queue: AbstractQueue,
    out_dir: Path,
    stop: asyncio.Event,
    on_message: OnMessage | None,
    max_messages: int | None,
    broker_timeout: float,
) -> int:
    inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
    with translated(f"consume {queue.name}"):
        async with asyncio.timeout(broker_timeout):
            consumer_tag = await queue.consume(inbox.put)
    handled = 0
    try:
        while max_messages is None or handled < max_messages:
            message = await next_delivery(inbox, stop)
            if message is None:
                break
            if is_stale(message):
                continue  # its channel died with the link: the broker redelivers it on the new one
            await _handle(message, out_dir, on_message)
            handled += 1
    finally:
        # A quorum queue may drop acks that arrive just before their channel closes and redeliver
        # those messages (rabbitmq-server#10327); the basic.cancel round trip lets them land first.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(queue.cancel(consumer_tag), broker_timeout)
    return handled


async def _handle(message: AbstractIncomingMessage, out_dir: Path, on_message: OnMessage | None) -> None:
    message_id = message.message_id or ""
    problem = _problem(message_id, message.body)
    if problem is not None:
        log.warning("unit listener: rejecting %r to the dead-letter queue: %s", message_id, problem)
        await settle(message.reject(requeue=False), message_id, who="unit listener")
        return
    path = out_dir / f"{message_id}.json"
    try:
        await asyncio.to_thread(_write_atomically, path, message.body)
    except OSError as exc:
        await settle(message.nack(requeue=True), message_id, who="unit listener")
        raise ListenerError(f"cannot write {path}: {exc}; message requeued") from exc
    if await settle(message.ack(), message_id, who="unit listener") and on_message is not None:
        on_message(message_id, path)


def _problem(message_id: str, body: bytes) -> str | None:
    if not SAFE_MESSAGE_ID.match(message_id):
        return f"message_id {message_id!r} is missing or not usable as a file name"
    try:
        json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"body is not JSON ({exc})"
    return None


def _write_atomically(path: Path, body: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("wb") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the rename itself durable
    finally:
        os.close(directory)
