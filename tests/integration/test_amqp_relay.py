"""The outbox relay against the real RabbitMQ: pipelined, confirmed exactly once, failures reported."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest
from aio_pika import DeliveryMode

from connectors.amqp.connection import connect
from connectors.amqp.outbox_relay import OutboxRelay
from connectors.amqp.topology import CASES_EXCHANGE, routing_key_for, unit_queue_name
from tests.support.amqp import AMQP_URL, WAIT, collect, declared_unit, eventually, message_count
from tests.support.memory_outbox import MemoryOutbox, outbox_row

pytestmark = pytest.mark.integration


async def test_relay_publishes_1000_rows_each_confirmed_once_with_properties() -> None:
    async with declared_unit() as unit:
        key = routing_key_for(unit.code, "case.new")
        rows = [outbox_row(n, CASES_EXCHANGE, key) for n in range(1, 1001)]
        source = MemoryOutbox(rows)
        connection = await connect(AMQP_URL, timeout=5)
        async with connection:
            relay = OutboxRelay(connection, source, batch_size=500, publish_timeout=10)
            started = time.perf_counter()
            async with asyncio.timeout(WAIT):
                assert [await relay.run_once() for _ in range(3)] == [500, 500, 0]
            elapsed = time.perf_counter() - started
            await relay.close()

        assert source.failures == []
        assert source.confirm_calls == 2  # one call per batch, not one per row
        assert set(source.confirm_counts.values()) == {1}
        assert source.confirmed_ids == {row.message_id for row in rows}
        print(f"relay: 1000 rows confirmed in {elapsed:.3f} s")

        messages = await collect(unit_queue_name(unit.code), 1000)
        by_id = {row.message_id: row for row in rows}
        assert sorted(m.message_id or "" for m in messages) == sorted(by_id)
        for message in messages:
            row = by_id[message.message_id or ""]
            assert message.correlation_id == row.correlation_id
            assert message.type == "case.new"
            assert message.content_type == "application/json"
            assert message.delivery_mode == DeliveryMode.PERSISTENT
            assert message.app_id == "pakn-gateway"
            assert message.timestamp is not None
            assert message.body == row.body
        assert await message_count(unit_queue_name(unit.code)) == 0  # nothing published twice


async def test_unroutable_row_is_failed_not_confirmed_and_does_not_spoil_the_batch() -> None:
    async with declared_unit() as unit:
        routable = outbox_row(1, CASES_EXCHANGE, routing_key_for(unit.code, "case.new"))
        nowhere = outbox_row(2, CASES_EXCHANGE, routing_key_for(f"NOBODY{secrets.token_hex(3).upper()}", "x"))
        source = MemoryOutbox([routable, nowhere])
        async with await connect(AMQP_URL, timeout=5) as connection:
            relay = OutboxRelay(connection, source, publish_timeout=10)
            async with asyncio.timeout(WAIT):
                assert await relay.run_once() == 1

        assert source.confirmed_ids == {routable.message_id}
        [(failed_ids, error)] = source.failures
        assert failed_ids == [nowhere.message_id]
        assert error.startswith("Amqp.Unroutable:")
        assert [row.message_id for row in await source.pending(10)] == [nowhere.message_id]
        assert await message_count(unit_queue_name(unit.code)) == 1


async def test_missing_exchange_fails_only_its_rows_and_the_relay_goes_on() -> None:
    async with declared_unit() as unit:
        key = routing_key_for(unit.code, "case.new")
        lost = outbox_row(1, f"pakn.missing.{secrets.token_hex(4)}", key)
        fine = outbox_row(2, CASES_EXCHANGE, key)
        source = MemoryOutbox([lost, fine])
        async with await connect(AMQP_URL, timeout=5) as connection:
            relay = OutboxRelay(connection, source, publish_timeout=5)
            async with asyncio.timeout(WAIT):
                assert await relay.run_once() == 1
                later = outbox_row(3, CASES_EXCHANGE, key)
                source.add(later)
                assert await relay.run_once() == 1  # the channel the broker closed was reopened

        assert source.confirmed_ids == {fine.message_id, later.message_id}
        assert all(error.startswith("Amqp.TopologyError:") for _, error in source.failures)
        assert {ids[0] for ids, _ in source.failures} == {lost.message_id}


async def test_run_publishes_at_once_when_woken_and_stops_when_told() -> None:
    async with declared_unit() as unit:
        source = MemoryOutbox()
        stop = asyncio.Event()
        async with await connect(AMQP_URL, timeout=5) as connection:
            relay = OutboxRelay(connection, source, poll_interval=60)  # only wake() can be this quick
            task = asyncio.create_task(relay.run(stop))
            await asyncio.sleep(0.2)  # the loop is now asleep for its long poll
            row = outbox_row(1, CASES_EXCHANGE, routing_key_for(unit.code, "case.new"))
            source.add(row)
            relay.wake()
            await eventually(lambda: row.message_id in source.confirmed_ids, within=5, what="woken publish")
            stop.set()
            await asyncio.wait_for(task, 5)
        assert relay.last_error is None
