"""The unit listener on the real RabbitMQ: a file per message_id, ack after write, poison dead-lettered."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aio_pika
import pytest

from connectors.amqp.errors import TopologyError
from connectors.amqp.topology import CASES_EXCHANGE, DEAD_EXCHANGE, routing_key_for, unit_queue_name
from connectors.amqp.unit_listener import listen
from tests.support.amqp import (
    AMQP_URL,
    WAIT,
    collect,
    declared_unit,
    delete_queues,
    file_names,
    message_count,
)

pytestmark = pytest.mark.integration


async def publish_raw(unit_code: str, *messages: aio_pika.Message) -> None:
    async with await aio_pika.connect(AMQP_URL, timeout=5) as connection:
        channel = await connection.channel(publisher_confirms=True)
        cases = await channel.get_exchange(CASES_EXCHANGE)
        for message in messages:
            await asyncio.wait_for(cases.publish(message, routing_key_for(unit_code, "case.new")), 10)


def json_message(message_id: str, body: object) -> aio_pika.Message:
    return aio_pika.Message(json.dumps(body).encode(), message_id=message_id, content_type="application/json")


async def test_listener_writes_one_file_per_message_and_acks(tmp_path: Path) -> None:
    async with declared_unit() as unit:
        await publish_raw(unit.code, *(json_message(f"m-{n}", {"n": n}) for n in range(20)))
        seen: list[str] = []
        handled = await asyncio.wait_for(
            listen(
                AMQP_URL, unit.code, tmp_path, max_messages=20, on_message=lambda mid, _: seen.append(mid)
            ),
            WAIT,
        )
        assert handled == 20
        assert seen == [f"m-{n}" for n in range(20)]
        assert file_names(tmp_path) == {f"m-{n}.json" for n in range(20)}
        assert json.loads((tmp_path / "m-7.json").read_text()) == {"n": 7}
        await eventually_empty(unit_queue_name(unit.code))


async def test_a_redelivered_message_overwrites_its_file(tmp_path: Path) -> None:
    async with declared_unit() as unit:
        await publish_raw(unit.code, json_message("same", {"v": 1}), json_message("same", {"v": 2}))
        assert await asyncio.wait_for(listen(AMQP_URL, unit.code, tmp_path, max_messages=2), WAIT) == 2
        assert file_names(tmp_path) == {"same.json"}  # and no temporary file left
        assert json.loads((tmp_path / "same.json").read_text()) == {"v": 2}


async def test_non_json_and_unsafe_ids_are_rejected_to_the_dead_letter_exchange(tmp_path: Path) -> None:
    async with declared_unit() as unit:
        spy = f"test.dead.{unit.code}"
        async with await aio_pika.connect(AMQP_URL, timeout=5) as connection:
            channel = await connection.channel()
            spy_queue = await channel.declare_queue(spy)
            await spy_queue.bind(DEAD_EXCHANGE, f"unit.{unit.code}.#")
        try:
            await publish_raw(
                unit.code,
                aio_pika.Message(b"<not json/>", message_id="poison"),
                json_message("../escape", {"x": 1}),
                json_message("good", {"ok": True}),
            )
            stop = asyncio.Event()
            handled = await asyncio.wait_for(
                listen(AMQP_URL, unit.code, tmp_path, stop=stop, on_message=lambda *_: stop.set()), WAIT
            )
            assert handled == 3
            assert file_names(tmp_path) == {"good.json"}
            assert not (tmp_path.parent / "escape.json").exists()
            dead = await collect(spy, 2)
            assert sorted(m.message_id or "" for m in dead) == ["../escape", "poison"]
            assert {m.headers["x-first-death-reason"] for m in dead} == {"rejected"}
            assert {m.headers["x-first-death-queue"] for m in dead} == {unit_queue_name(unit.code)}
            await eventually_empty(unit_queue_name(unit.code))
        finally:
            await delete_queues(spy)


async def test_listening_to_a_unit_without_a_queue_is_a_topology_error(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="declare the topology first"):
        await asyncio.wait_for(listen(AMQP_URL, "TNOSUCHUNIT", tmp_path, max_messages=1), WAIT)


async def eventually_empty(queue_name: str) -> None:
    counts: list[int] = []

    async def poll() -> None:
        while (count := await message_count(queue_name)) != 0:
            counts.append(count)
            await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(poll(), 10)
    except TimeoutError:
        pytest.fail(f"{queue_name} still holds {counts[-1]} message(s): not acked")
