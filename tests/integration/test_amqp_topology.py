"""The broker topology against the real RabbitMQ: idempotent, quorum, dead-lettering, delivery limit."""

from __future__ import annotations

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage

from connectors.amqp.connection import check_reachable, connect
from connectors.amqp.errors import BrokerUnavailable, TopologyError
from connectors.amqp.topology import (
    CASES_EXCHANGE,
    DEAD_EXCHANGE,
    DEAD_QUEUE,
    REPLIES_EXCHANGE,
    REPLIES_QUEUE,
    declare_topology,
    routing_key_for,
    unit_binding_key,
    unit_queue_name,
)
from tests.support.amqp import AMQP_URL, collect, declared_unit, delete_queues, rabbitmqctl

pytestmark = pytest.mark.integration


def queue_line(name: str) -> str:
    lines = [
        line
        for line in rabbitmqctl("list_queues", "name", "type", "durable", "arguments").splitlines()
        if line.split("\t")[0] == name
    ]
    assert len(lines) == 1, f"queue {name} not listed by rabbitmqctl"
    return lines[0]


def test_routing_keys_follow_the_unit_pattern() -> None:
    assert routing_key_for("CVL", "case.new") == "unit.CVL.case.new"
    assert unit_binding_key("CVL") == "unit.CVL.#"
    assert unit_queue_name("CVL") == "pakn.unit.CVL"
    for bad_code in ("cvl", "C.V", "C#", ""):
        with pytest.raises(TopologyError):
            routing_key_for(bad_code, "case.new")
    with pytest.raises(TopologyError):
        routing_key_for("CVL", "")


async def test_declare_twice_is_idempotent_and_queues_are_quorum_with_dead_lettering() -> None:
    async with declared_unit(delivery_limit=7) as unit:
        connection = await connect(AMQP_URL, timeout=5)
        async with connection:
            await declare_topology(await connection.channel(), [unit], delivery_limit=7)  # again: no-op

        line = queue_line(unit_queue_name(unit.code))
        name, queue_type, durable, arguments = line.split("\t")
        assert (queue_type, durable) == ("quorum", "true")
        assert '{"x-dead-letter-exchange","pakn.dead"}' in arguments
        assert '{"x-delivery-limit",7}' in arguments
        assert '{"x-queue-type","quorum"}' in arguments
        assert queue_line(REPLIES_QUEUE).split("\t")[1:3] == ["quorum", "true"]
        assert queue_line(DEAD_QUEUE).split("\t")[2] == "true"

        bindings = rabbitmqctl("list_bindings", "source_name", "destination_name", "routing_key")
        assert f"{CASES_EXCHANGE}\t{name}\tunit.{unit.code}.#" in bindings.splitlines()
        assert f"{DEAD_EXCHANGE}\t{DEAD_QUEUE}\t#" in bindings.splitlines()
        assert f"{REPLIES_EXCHANGE}\t{REPLIES_QUEUE}\t#" in bindings.splitlines()
        exchanges = rabbitmqctl("list_exchanges", "name", "type", "durable").splitlines()
        for exchange in (CASES_EXCHANGE, DEAD_EXCHANGE, REPLIES_EXCHANGE):
            assert f"{exchange}\ttopic\ttrue" in exchanges


async def test_declaring_with_another_delivery_limit_is_a_topology_error() -> None:
    async with declared_unit(delivery_limit=5) as unit:
        connection = await connect(AMQP_URL, timeout=5)
        async with connection:
            with pytest.raises(TopologyError, match="x-delivery-limit"):
                await declare_topology(await connection.channel(), [unit], delivery_limit=6)


async def test_a_message_redelivered_past_the_limit_is_dead_lettered() -> None:
    async with declared_unit(delivery_limit=2) as unit:
        spy = f"test.dead.{unit.code}"
        async with await aio_pika.connect(AMQP_URL, timeout=5) as connection:
            channel = await connection.channel()
            spy_queue = await channel.declare_queue(spy, auto_delete=False)
            await spy_queue.bind(DEAD_EXCHANGE, f"unit.{unit.code}.#")
            cases = await channel.get_exchange(CASES_EXCHANGE)
            await cases.publish(
                aio_pika.Message(b"{}", message_id="poison"), routing_key_for(unit.code, "case.new")
            )
            queue = await channel.declare_queue(unit_queue_name(unit.code), passive=True)
            deliveries = 0

            async def refuse(message: AbstractIncomingMessage) -> None:
                nonlocal deliveries
                deliveries += 1
                await message.nack(requeue=True)

            await queue.consume(refuse)
            try:
                (dead,) = await collect(spy, 1)
            finally:
                await delete_queues(spy)
        assert dead.message_id == "poison"
        assert deliveries == 3  # delivered, redelivered twice, then over the limit of 2
        assert dead.headers["x-first-death-reason"] == "delivery_limit"


async def test_connect_failure_says_how_to_start_rabbitmq() -> None:
    with pytest.raises(BrokerUnavailable, match="rabbitmq-server -detached"):
        await connect("amqp://guest:guest@127.0.0.1:1/", timeout=2)
    reason = await check_reachable("amqp://guest:guest@127.0.0.1:1/", timeout=2)
    assert reason is not None and "rabbitmq-server -detached" in reason
    assert await check_reachable(AMQP_URL, timeout=5) is None
