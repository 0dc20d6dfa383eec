"""The broker link cut under the relay (through a TCP proxy): nothing lost, nothing confirmed falsely.

The shared broker is never restarted: the proxy aborts this test's connections and refuses new
ones, which the client cannot tell from a broker that went away.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aio_pika.abc import AbstractRobustConnection

from connectors.amqp.connection import connect
from connectors.amqp.errors import BrokerUnavailable
from connectors.amqp.outbox_relay import OutboxRelay
from connectors.amqp.topology import CASES_EXCHANGE, routing_key_for, unit_queue_name
from connectors.amqp.unit_listener import listen
from gateway.domain.routing import Unit
from tests.support.amqp import (
    AMQP_URL,
    WAIT,
    close_connection_named,
    collect,
    declared_unit,
    eventually,
    file_names,
    message_count,
)
from tests.support.memory_outbox import MemoryOutbox, outbox_row
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration

PUBLISH_TIMEOUT = 1.0


def broker_proxy() -> TcpProxy:
    target = urlsplit(AMQP_URL)
    return TcpProxy(target.hostname or "127.0.0.1", target.port or 5672)


def fast_relay(connection: AbstractRobustConnection, source: MemoryOutbox) -> OutboxRelay:
    return OutboxRelay(
        connection,
        source,
        batch_size=200,
        publish_timeout=PUBLISH_TIMEOUT,
        poll_interval=0.1,
        min_backoff=0.1,
        max_backoff=0.5,
    )


async def assert_nothing_confirmed_while_cut(source: MemoryOutbox, total: int) -> int:
    # rows whose confirm arrived before the cut may still be reported for up to one publish timeout
    await asyncio.sleep(PUBLISH_TIMEOUT * 2)
    before = len(source.confirmed_ids)
    await asyncio.sleep(2.0)
    assert len(source.confirmed_ids) == before, "a row was confirmed while the broker was unreachable"
    assert before < total
    return before


async def drain_into_files(unit: Unit, out_dir: Path, expected: set[str]) -> None:
    """Run the unit listener until every expected message_id has its file."""
    stop = asyncio.Event()
    written: set[str] = set()

    def note(message_id: str, _: Path) -> None:
        written.add(message_id)
        if expected <= written:
            stop.set()

    await asyncio.wait_for(listen(AMQP_URL, unit.code, out_dir, stop=stop, on_message=note), WAIT)
    assert file_names(out_dir) == {f"{message_id}.json" for message_id in expected}


async def test_link_cut_mid_stream_loses_nothing_and_confirms_each_row_once(tmp_path: Path) -> None:
    total = 2000
    async with declared_unit() as unit, broker_proxy() as proxy:
        key = routing_key_for(unit.code, "case.new")
        rows = [outbox_row(n, CASES_EXCHANGE, key) for n in range(1, total + 1)]
        source = MemoryOutbox(rows)
        source.on_confirmed.append(lambda: proxy.pause() if source.confirm_calls == 1 else None)
        connection = await connect(proxy.proxied(AMQP_URL), timeout=5, reconnect_interval=0.2)
        stop = asyncio.Event()
        relay = fast_relay(connection, source)
        task = asyncio.create_task(relay.run(stop))
        try:
            await eventually(lambda: proxy.paused, what="the first batch confirmed")
            assert await assert_nothing_confirmed_while_cut(source, total) == 200
            assert relay.last_error is not None  # it saw the failure and is backing off

            proxy.resume()
            await eventually(lambda: len(source.confirmed_ids) == total, what="every row confirmed")
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await asyncio.wait_for(connection.close(), 10)

        assert set(source.confirm_counts.values()) == {1}
        assert proxy.accepted >= 2  # the robust connection really reconnected
        await drain_into_files(unit, tmp_path, {row.message_id for row in rows})


async def test_link_cut_while_idle_then_rows_arrive(tmp_path: Path) -> None:
    async with declared_unit() as unit, broker_proxy() as proxy:
        source = MemoryOutbox()
        connection = await connect(proxy.proxied(AMQP_URL), timeout=5, reconnect_interval=0.2)
        stop = asyncio.Event()
        relay = fast_relay(connection, source)
        task = asyncio.create_task(relay.run(stop))
        try:
            await asyncio.sleep(0.3)
            proxy.pause()
            rows = [outbox_row(n, CASES_EXCHANGE, routing_key_for(unit.code, "case.new")) for n in range(50)]
            for row in rows:
                source.add(row)
            relay.wake()
            assert await assert_nothing_confirmed_while_cut(source, len(rows)) == 0

            proxy.resume()
            await eventually(lambda: len(source.confirmed_ids) == len(rows), what="every row confirmed")
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await asyncio.wait_for(connection.close(), 10)

        assert set(source.confirm_counts.values()) == {1}
        await drain_into_files(unit, tmp_path, {row.message_id for row in rows})


async def test_stalled_link_times_out_instead_of_hanging_then_recovers(tmp_path: Path) -> None:
    total = 600
    async with declared_unit() as unit, broker_proxy() as proxy:
        key = routing_key_for(unit.code, "case.new")
        rows = [outbox_row(n, CASES_EXCHANGE, key) for n in range(1, total + 1)]
        source = MemoryOutbox(rows)
        source.on_confirmed.append(lambda: proxy.stall() if source.confirm_calls == 1 else None)
        connection = await connect(proxy.proxied(AMQP_URL), timeout=5, reconnect_interval=0.2)
        stop = asyncio.Event()
        relay = fast_relay(connection, source)
        task = asyncio.create_task(relay.run(stop))
        try:
            await eventually(
                lambda: any(error.startswith("Amqp.PublishTimeout:") for _, error in source.failures),
                within=PUBLISH_TIMEOUT * 5,
                what="publishes on the stalled link timing out",
            )
            assert await assert_nothing_confirmed_while_cut(source, total) == 200
            proxy.resume()
            await eventually(lambda: len(source.confirmed_ids) == total, what="every row confirmed")
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await asyncio.wait_for(connection.close(), 10)

        assert set(source.confirm_counts.values()) == {1}
        await drain_into_files(unit, tmp_path, {row.message_id for row in rows})


async def test_broker_closing_the_connection_as_on_restart_is_survived(tmp_path: Path) -> None:
    async with declared_unit() as unit:
        name = f"pakn-test-relay-{unit.code}"
        key = routing_key_for(unit.code, "case.new")
        source = MemoryOutbox([outbox_row(n, CASES_EXCHANGE, key) for n in range(100)])
        connection = await connect(f"{AMQP_URL}?name={name}", timeout=5, reconnect_interval=0.2)
        stop = asyncio.Event()
        relay = fast_relay(connection, source)
        task = asyncio.create_task(relay.run(stop))
        try:
            await eventually(lambda: len(source.confirmed_ids) == 100, what="first rows confirmed")
            await asyncio.to_thread(close_connection_named, name)  # CONNECTION_FORCED, like a shutdown
            later = [outbox_row(n, CASES_EXCHANGE, key) for n in range(100, 1100)]
            for row in later:
                source.add(row)
            relay.wake()
            await eventually(lambda: len(source.confirmed_ids) == 1100, what="rows after the close")
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await asyncio.wait_for(connection.close(), 10)

        assert set(source.confirm_counts.values()) == {1}
        await drain_into_files(unit, tmp_path, set(source.rows))


async def test_listener_survives_a_cut_and_redelivery_rewrites_the_same_files(tmp_path: Path) -> None:
    total = 500
    async with declared_unit() as unit, broker_proxy() as proxy:
        key = routing_key_for(unit.code, "case.new")
        rows = [outbox_row(n, CASES_EXCHANGE, key) for n in range(total)]
        async with await connect(AMQP_URL, timeout=5) as connection:
            assert (
                await asyncio.wait_for(OutboxRelay(connection, MemoryOutbox(rows)).run_once(), WAIT) == total
            )

        expected = {row.message_id for row in rows}
        written: list[str] = []
        stop = asyncio.Event()

        def note(message_id: str, _: Path) -> None:
            written.append(message_id)
            if len(written) == 100:
                proxy.pause()
                asyncio.get_running_loop().call_later(1.0, proxy.resume)
            if expected <= set(written):
                stop.set()

        url = proxy.proxied(AMQP_URL)
        await asyncio.wait_for(listen(url, unit.code, tmp_path, stop=stop, on_message=note), WAIT)
        assert proxy.accepted >= 2  # the consumer came back on a new connection
        assert file_names(tmp_path) == {f"{message_id}.json" for message_id in expected}
        # an ack lost in the cut brings its message back, maybe after the listener stopped: any
        # message still queued must be such a redelivery, never something unwritten
        left = await message_count(unit_queue_name(unit.code))
        assert {m.message_id for m in await collect(unit_queue_name(unit.code), left)} <= expected


async def test_run_once_without_a_link_raises_and_leaves_the_rows_alone() -> None:
    async with declared_unit() as unit, broker_proxy() as proxy:
        row = outbox_row(1, CASES_EXCHANGE, routing_key_for(unit.code, "case.new"))
        source = MemoryOutbox([row])
        connection = await connect(proxy.proxied(AMQP_URL), timeout=5, reconnect_interval=0.2)
        try:
            proxy.pause()
            relay = fast_relay(connection, source)
            with pytest.raises(BrokerUnavailable):
                await asyncio.wait_for(relay.run_once(), WAIT)
            assert (source.confirm_calls, source.failures) == (0, [])
            assert await source.pending(10) == [row]

            proxy.resume()
            await eventually(lambda: connection.connected.is_set(), what="reconnection")
            assert await asyncio.wait_for(relay.run_once(), WAIT) == 1
        finally:
            await asyncio.wait_for(connection.close(), 10)
