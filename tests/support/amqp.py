"""Building blocks for tests against the real RabbitMQ: unique names, clean-up, bounded waits."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from urllib.parse import quote

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage

from connectors.amqp.connection import DEFAULT_URL, check_reachable
from connectors.amqp.topology import DEAD_QUEUE, declare_topology, unit_error_queue_name, unit_queue_name
from gateway.domain.routing import Unit, make_unit

AMQP_URL = os.environ.get("PAKN_AMQP_URL", DEFAULT_URL)
WAIT = 30.0  # upper bound for anything a test waits for; a broken broker fails, never hangs


def unique_unit_code() -> str:
    """A unit code no other test (or engineer) uses on the shared broker."""
    return "T" + secrets.token_hex(5).upper()


async def require_broker() -> None:
    reason = await check_reachable(AMQP_URL, timeout=5)
    if reason is not None:
        pytest.fail(f"RabbitMQ is needed for integration tests: {reason}")


@asynccontextmanager
async def declared_unit(*, delivery_limit: int = 5) -> AsyncIterator[Unit]:
    """A fresh unit whose queue exists for the block and is deleted after it."""
    await require_broker()
    unit = make_unit(unique_unit_code(), "Đơn vị thử nghiệm")
    async with await aio_pika.connect(AMQP_URL, timeout=5) as connection:
        channel = await connection.channel()
        await declare_topology(channel, [unit], delivery_limit=delivery_limit)
    try:
        yield unit
    finally:
        await delete_queues(unit_queue_name(unit.code), unit_error_queue_name(unit.code))
        await remove_dead_letters(unit.code)


async def delete_queues(*names: str) -> None:
    async with await aio_pika.connect(AMQP_URL, timeout=5) as connection:
        for name in names:
            channel = await connection.channel()  # a failed delete closes its channel
            with suppress(aio_pika.exceptions.AMQPError):
                await asyncio.wait_for(channel.queue_delete(name), 10)


async def message_count(queue_name: str) -> int:
    async with await aio_pika.connect(AMQP_URL, timeout=5) as connection:
        channel = await connection.channel()
        queue = await asyncio.wait_for(channel.declare_queue(queue_name, passive=True), 10)
        count = queue.declaration_result.message_count
        assert count is not None
        return count


async def collect(queue_name: str, count: int, *, within: float = WAIT) -> list[AbstractIncomingMessage]:
    """Consume and ack ``count`` messages (fails the test if they do not all come in time)."""
    if count <= 0:
        return []
    got: list[AbstractIncomingMessage] = []
    done = asyncio.Event()

    async def take(message: AbstractIncomingMessage) -> None:
        # aio-pika runs each callback as its own task: count a message only once its ack is sent,
        # or closing the connection on the last one would requeue others still acking
        await message.ack()
        got.append(message)
        if len(got) >= count:
            done.set()

    async with await aio_pika.connect(AMQP_URL, timeout=5) as connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=200)
        queue = await channel.declare_queue(queue_name, passive=True)
        tag = await queue.consume(take)
        try:
            await asyncio.wait_for(done.wait(), within)
        except TimeoutError:
            pytest.fail(f"only {len(got)} of {count} messages arrived in {queue_name} within {within} s")
        # without this round trip a quorum queue may drop the last acks (rabbitmq-server#10327)
        await asyncio.wait_for(queue.cancel(tag), 10)
    return got


async def eventually(condition: Callable[[], bool], *, within: float = WAIT, what: str = "condition") -> None:
    async def poll() -> None:
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(poll(), within)
    except TimeoutError:
        pytest.fail(f"{what} not reached within {within} s")


def file_names(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


def rabbitmqctl(*args: str) -> str:
    """Ask the broker node directly (what a declaration cannot show, such as the real queue type)."""
    result = subprocess.run(
        ["rabbitmqctl", "--quiet", *args], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout


async def remove_dead_letters(unit_code: str, *, scan_limit: int = 10_000) -> int:
    """Take this test unit's messages out of the shared ``pakn.dead`` queue; leave the others.

    Others' messages are held unacked while scanning and put back with a requeue, which returns
    them to their place in the (classic) queue; only their ``redelivered`` flag changes.
    """
    prefix = f"unit.{unit_code}."
    removed = 0
    async with await aio_pika.connect(AMQP_URL, timeout=5) as connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(DEAD_QUEUE, passive=True)
        others: list[AbstractIncomingMessage] = []
        async with asyncio.timeout(WAIT):
            for _ in range(scan_limit):
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                if (message.routing_key or "").startswith(prefix):
                    await message.ack()
                    removed += 1
                else:
                    others.append(message)
            for message in others:
                await message.nack(requeue=True)
    return removed


def close_connection_named(name: str, reason: str = "closed by a fault test") -> None:
    """Have the broker close one connection (``?name=`` in its URL), as it does when it shuts down."""
    for line in rabbitmqctl("list_connections", "pid", "client_properties").splitlines():
        if f'{{"connection_name","{name}"}}' in line:
            rabbitmqctl("close_connection", line.split("\t")[0], reason)
            return
    pytest.fail(f"no connection named {name!r} on the broker")


@asynccontextmanager
async def own_vhost() -> AsyncIterator[str]:
    """A fresh virtual host for one test (its URL); deleted with everything in it afterwards."""
    await require_broker()
    name = f"pakn_test_{secrets.token_hex(4)}"
    await asyncio.to_thread(rabbitmqctl, "add_vhost", name)
    try:
        await asyncio.to_thread(rabbitmqctl, "set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield f"{AMQP_URL.rstrip('/')}/{quote(name, safe='')}"
    finally:
        await asyncio.to_thread(rabbitmqctl, "delete_vhost", name)
