"""The private RabbitMQ node of the broker-restart fault test: it keeps quorum messages across a
clean restart and a `kill -9`, and leaves nothing running after its block, even one that fails."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import aio_pika
import pytest

from tests.support.amqp import rabbitmqctl
from tests.support.private_broker import PrivateBroker, available

pytestmark = pytest.mark.fault

QUEUE = "pakn.test.private"


async def publish(url: str, count: int) -> None:
    async with await aio_pika.connect(url, timeout=10) as connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        messages = [aio_pika.Message(b"x" * 2000, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)] * count
        await asyncio.wait_for(
            asyncio.gather(*(channel.default_exchange.publish(m, QUEUE) for m in messages)), 30
        )


async def depth(url: str) -> int:
    async with await aio_pika.connect(url, timeout=10) as connection:
        channel = await connection.channel()
        queue = await asyncio.wait_for(channel.declare_queue(QUEUE, passive=True), 10)
        count = queue.declaration_result.message_count
        assert count is not None
        return count


async def recovered_depth(url: str, expected: int, timeout: float = 30.0) -> int:
    """The depth once the restarted queue has replayed its log, bounded by `timeout`.

    Right after a restart a quorum queue may answer before it has applied the entries of its
    previous term (a Raft leader commits those only with an entry of its own new term), so an
    early count can be short of what was confirmed; the count it settles on is the one that
    matters. A count above `expected` is returned at once: that would be duplicated messages.
    """
    deadline = time.monotonic() + timeout
    while True:
        count = await depth(url)
        if count >= expected or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.2)


def listening(port: int, *, settle: float = 5.0) -> bool:
    """Still accepting after `settle` seconds (the kernel closes a killed VM's sockets soon, not at once)."""
    deadline = time.monotonic() + settle
    while True:
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.2)


async def test_a_private_node_keeps_quorum_messages_and_leaves_nothing_behind(tmp_path: Path) -> None:
    reason = available()
    if reason is not None:
        pytest.fail(reason)
    shared_before = await asyncio.to_thread(rabbitmqctl, "eval", "os:getpid().")
    broker = PrivateBroker(tmp_path / "broker")
    assert broker.port != 5672 and broker.node != "rabbit@localhost"
    with pytest.raises(RuntimeError, match="a failure inside the block"), broker:
        await asyncio.to_thread(broker.start)
        assert "0 plugins" in broker.log_path.read_text()  # no management listener on 15672
        await publish(broker.url, 50)
        await asyncio.to_thread(broker.stop)  # clean: the queue's Raft member is saved for good
        assert not listening(broker.port) and broker.leftovers() == []
        await asyncio.to_thread(broker.start)
        assert await recovered_depth(broker.url, 50) == 50
        await publish(broker.url, 50)
        await asyncio.to_thread(broker.kill)
        assert not listening(broker.port) and broker.leftovers() == []
        await asyncio.to_thread(broker.start)
        assert await recovered_depth(broker.url, 100) == 100  # confirmed means on disk, even through SIGKILL
        assert broker.starts == 3
        raise RuntimeError("a failure inside the block")
    assert broker.leftovers() == [] and not listening(broker.port)  # stopped all the same
    assert await asyncio.to_thread(rabbitmqctl, "eval", "os:getpid().") == shared_before
