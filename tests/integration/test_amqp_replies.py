"""The replies consumer against the real RabbitMQ, with a fake handler: applied → acked; refused →
the unit's error queue names the reply; nobody to tell → pakn.dead with why; transient → through
the delay queues of the retry ladder, then applied, or pakn.dead once the ladder is exhausted.

Each test runs in a virtual host of its own: every gateway started by a test consumes the one
``pakn.gateway.replies`` of its vhost, and on a shared vhost it would take this test's replies.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from jsonschema import Draft202012Validator

from connectors.amqp.connection import connect
from connectors.amqp.errors import TopologyError
from connectors.amqp.reply_consumer import ERROR_TYPE, ReplyConsumer, ReplyRefusal
from connectors.amqp.retry_ladder import retry_queue_name
from connectors.amqp.topology import (
    DEAD_QUEUE,
    REPLIES_EXCHANGE,
    REPLIES_QUEUE,
    declare_topology,
    unit_error_queue_name,
)
from gateway.domain.routing import make_unit
from gateway.ports import StoreConflict, StoreError
from schemas import schema_dir
from tests.support.amqp import WAIT, own_vhost, rabbitmqctl, unique_unit_code

pytestmark = pytest.mark.integration

ERROR_SCHEMA = json.loads((schema_dir() / "unit-error-1.schema.json").read_text(encoding="utf-8"))
TEST_DELAYS = [0.2, 0.5]  # the retry ladder, shortened
ERRORS = Draft202012Validator(ERROR_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


@dataclass
class Handler:
    """A fake ReplyHandler: records each call and does what the test scripted for it."""

    script: list[BaseException | None] = field(default_factory=list)
    calls: list[tuple[bytes, str | None, str]] = field(default_factory=list)
    delay: float = 0.0
    delays: list[float] = field(default_factory=list)  # per call, before ``delay`` applies
    running: int = 0
    most_at_once: int = 0
    called: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, body: bytes, *, message_id: str | None, routing_key: str) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            self.calls.append((body, message_id, routing_key))
            self.called.set()
            delay = self.delays.pop(0) if self.delays else self.delay
            if delay:
                await asyncio.sleep(delay)
            outcome = self.script.pop(0) if self.script else None
            if outcome is not None:
                raise outcome
        finally:
            self.running -= 1


@dataclass
class Bench:
    url: str
    unit: str
    connection: AbstractRobustConnection

    async def publish(self, body: bytes, *, key: str | None = None, message_id: str | None = None) -> str:
        message_id = message_id or str(uuid.uuid4())
        channel = await self.connection.channel()
        try:
            exchange = await channel.get_exchange(REPLIES_EXCHANGE)
            message = aio_pika.Message(
                body,
                message_id=message_id,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            )
            await asyncio.wait_for(exchange.publish(message, key or f"unit.{self.unit}.reply.claim"), 10)
        finally:
            await channel.close()
        return message_id

    async def take(self, queue_name: str, count: int, within: float = WAIT) -> list[AbstractIncomingMessage]:
        """Get and ack ``count`` messages from ``queue_name`` (fails the test if they do not come)."""
        channel = await self.connection.channel()
        got: list[AbstractIncomingMessage] = []
        try:
            queue = await channel.declare_queue(queue_name, passive=True)
            async with asyncio.timeout(within):
                while len(got) < count:
                    message = await queue.get(no_ack=False, fail=False)
                    if message is None:
                        await asyncio.sleep(0.05)
                        continue
                    await message.ack()
                    got.append(message)
        except TimeoutError:
            pytest.fail(f"only {len(got)} of {count} messages arrived in {queue_name} within {within} s")
        finally:
            await channel.close()
        return got

    async def count(self, queue_name: str) -> int:
        channel = await self.connection.channel()
        try:
            queue = await asyncio.wait_for(channel.declare_queue(queue_name, passive=True), 10)
            value = queue.declaration_result.message_count
            assert value is not None
            return value
        finally:
            await channel.close()

    @asynccontextmanager
    async def consuming(self, handler: Handler, **options: float) -> AsyncIterator[ReplyConsumer]:
        """A ReplyConsumer running for the block; stopped (bounded) and checked to end cleanly."""
        options = {"retry_delays": TEST_DELAYS, **options}  # type: ignore[dict-item]
        consumer = ReplyConsumer(self.connection, handler, **options)  # type: ignore[arg-type]
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        try:
            yield consumer
        finally:
            stop.set()
            await asyncio.wait_for(task, WAIT)  # its errors, if any, fail the test


@pytest.fixture
async def bench() -> AsyncIterator[Bench]:
    async with own_vhost() as url:
        unit = unique_unit_code()
        connection = await connect(url, timeout=5)
        try:
            await declare_topology(
                await connection.channel(), [make_unit(unit, "Đơn vị thử nghiệm")], retry_delays=TEST_DELAYS
            )
            yield Bench(url, unit, connection)
        finally:
            with suppress(Exception):
                await asyncio.wait_for(connection.close(), 10)


async def settled(consumer: ReplyConsumer, key: str, n: int = 1) -> None:
    """Wait (bounded) until the consumer has settled ``n`` deliveries that way."""
    async with asyncio.timeout(WAIT):
        while consumer.counts[key] < n:  # noqa: ASYNC110 (the counter is the consumer's, not an event)
            await asyncio.sleep(0.02)


async def back_on_the_queue(bench: Bench, count: int) -> None:
    """Wait (bounded) until `count` unsettled replies are ready on the queue again, and no more."""
    seen = -1
    async with asyncio.timeout(WAIT):
        while (seen := await bench.count(REPLIES_QUEUE)) < count:  # noqa: ASYNC110 (the broker's count)
            await asyncio.sleep(0.1)
    assert seen == count


def reply_body(unit: str, message_id: str) -> bytes:
    return json.dumps({"type": "claim", "unit_code": unit, "message_id": message_id}).encode()


async def test_an_applied_reply_is_acked_and_handed_over_as_it_came(bench: Bench) -> None:
    handler = Handler()
    async with bench.consuming(handler) as consumer:
        message_id = await bench.publish(b'{"type":"claim"}', key=f"unit.{bench.unit}.reply.claim")
        await settled(consumer, "applied")
    assert handler.calls == [(b'{"type":"claim"}', message_id, f"unit.{bench.unit}.reply.claim")]
    # acked, not merely in flight: after the consumer's channel closed nothing came back
    assert await bench.count(REPLIES_QUEUE) == 0
    assert dict(consumer.counts) == {"applied": 1}


async def test_a_refusal_goes_to_the_units_error_queue_naming_the_reply(bench: Bench) -> None:
    refusal = ReplyRefusal(
        "InvalidTransition",
        "Hồ sơ PAKN-1 đang ở trạng thái 08 (Người gửi rút đơn): không thể trả lời.",
        "Case PAKN-1 is 08 (withdrawn): it cannot be answered.",
        bench.unit,
        "PAKN-1",
    )
    handler = Handler(script=[refusal])
    async with bench.consuming(handler) as consumer:
        message_id = await bench.publish(reply_body(bench.unit, "x"), key=f"unit.{bench.unit}.reply.answer")
        [error] = await bench.take(unit_error_queue_name(bench.unit), 1)
        await settled(consumer, "refused")
    doc = json.loads(error.body)
    ERRORS.validate(doc)
    assert doc["reply_message_id"] == message_id
    assert (doc["code"], doc["petition_id"]) == ("InvalidTransition", "PAKN-1")
    assert doc["message_vi"] == refusal.message_vi and doc["message_en"] == refusal.message_en
    assert error.correlation_id == message_id
    assert error.type == ERROR_TYPE == "pakn.reply.error"
    assert error.content_type == "application/json"
    assert error.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert error.message_id and error.message_id != message_id
    assert await bench.count(REPLIES_QUEUE) == 0  # the reply was acked once the unit was told
    assert await bench.count(DEAD_QUEUE) == 0


async def test_a_reply_with_nobody_to_tell_is_dead_lettered(bench: Bench) -> None:
    handler = Handler(script=[ReplyRefusal("InvalidReply", "không đọc được", "unreadable", None, None)])
    async with bench.consuming(handler) as consumer:
        message_id = await bench.publish(b"\x00 not json", key="garbage")
        [dead] = await bench.take(DEAD_QUEUE, 1)
        await settled(consumer, "dead_lettered")
    # published there by the consumer with why (it can never succeed: no retry), then acked
    assert dead.message_id == message_id and dead.body == b"\x00 not json"
    assert dead.headers["x-pakn-reason"] == "InvalidReply"
    assert dead.headers["x-pakn-stage"] == "replies"
    assert dead.headers["x-pakn-attempts"] == 1
    assert "unreadable" in dead.headers["x-pakn-last-error"]
    assert dead.headers["x-pakn-original-exchange"] == REPLIES_EXCHANGE
    assert dead.headers["x-pakn-original-routing-key"] == "garbage"
    assert "x-death" not in dead.headers
    assert await bench.count(REPLIES_QUEUE) == 0


async def test_a_refusal_for_a_unit_without_an_error_queue_is_dead_lettered(bench: Bench) -> None:
    stranger = unique_unit_code()  # a valid code, but no queue was ever declared for it
    handler = Handler(script=[ReplyRefusal("UnknownCase", "không có", "none", stranger, "PAKN-1")])
    async with bench.consuming(handler) as consumer:
        message_id = await bench.publish(b"{}", key=f"unit.{stranger}.reply.claim")
        [dead] = await bench.take(DEAD_QUEUE, 1)
        await settled(consumer, "dead_lettered")
    assert dead.message_id == message_id
    assert consumer.counts["refused"] == 0


async def test_a_transient_failure_goes_through_the_delay_queues_and_is_then_applied(bench: Bench) -> None:
    handler = Handler(script=[StoreError("store unavailable"), StoreConflict("lost a race"), None])
    key = f"unit.{bench.unit}.reply.claim"
    async with bench.consuming(handler) as consumer:
        loop = asyncio.get_running_loop()
        started = loop.time()
        message_id = await bench.publish(b"{}", key=key)
        await settled(consumer, "applied")
        took = loop.time() - started
    assert [call[1] for call in handler.calls] == [message_id] * 3
    # back from the delay queues with its own routing key, so the handler still knows the unit
    assert [call[2] for call in handler.calls] == [key] * 3
    assert (consumer.counts["delayed"], consumer.counts["applied"]) == (2, 1)
    assert consumer.counts["requeued"] == 0
    assert took >= sum(TEST_DELAYS)  # it waited in each step's queue
    assert consumer.last_error is None
    assert await bench.count(REPLIES_QUEUE) == 0
    assert await bench.count(DEAD_QUEUE) == 0


async def test_a_handler_that_hangs_is_cut_off_and_the_reply_requeued(bench: Bench) -> None:
    handler = Handler(delays=[5.0])
    async with bench.consuming(handler, handler_timeout=0.2, min_backoff=0.05) as consumer:
        await bench.publish(b"{}")
        await settled(consumer, "applied")
    assert consumer.counts["delayed"] == 1
    assert len(handler.calls) == 2


async def test_a_reply_failing_past_the_ladder_lands_in_pakn_dead_with_every_header(bench: Bench) -> None:
    handler = Handler(script=[StoreConflict("again")] * 50)
    key = f"unit.{bench.unit}.reply.note"
    async with bench.consuming(handler) as consumer:
        message_id = await bench.publish(b'{"n":1}', key=key)
        [dead] = await bench.take(DEAD_QUEUE, 1)
        await settled(consumer, "dead_lettered")
    assert len(handler.calls) == 1 + len(TEST_DELAYS)  # the first try, then one per step
    assert dead.message_id == message_id and dead.body == b'{"n":1}'
    assert dead.content_type == "application/json"
    assert dead.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert dead.routing_key == key
    headers = dead.headers
    assert headers["x-pakn-reason"] == "RetriesExhausted"
    assert headers["x-pakn-stage"] == "replies"
    assert headers["x-pakn-attempts"] == 3
    assert "StoreConflict: again" in headers["x-pakn-last-error"]
    assert headers["x-pakn-original-exchange"] == REPLIES_EXCHANGE
    assert headers["x-pakn-original-routing-key"] == key
    assert datetime.fromisoformat(headers["x-pakn-dead-at"]).tzinfo is not None
    # the broker counted each round through a delay queue
    rounds = {d["queue"]: d["count"] for d in headers["x-death"]}
    assert rounds == {retry_queue_name("replies", d): 1 for d in TEST_DELAYS}
    assert consumer.last_error is not None and "StoreConflict" in consumer.last_error
    assert await bench.count(REPLIES_QUEUE) == 0
    for delay in TEST_DELAYS:
        assert await bench.count(retry_queue_name("replies", delay)) == 0


async def test_without_its_delay_queue_a_reply_is_requeued_and_the_delivery_limit_still_holds(
    bench: Bench,
) -> None:
    # the ladder's first queue gone (an operator deleted it): the consumer falls back to requeue
    # with backoff, and the replies queue's delivery limit dead-letters it (the broker's x-death)
    channel = await bench.connection.channel()
    await channel.queue_delete(retry_queue_name("replies", TEST_DELAYS[0]))
    await channel.close()
    handler = Handler(script=[StoreError("down")] * 50)
    async with bench.consuming(handler, min_backoff=0.01, max_backoff=0.02) as consumer:
        message_id = await bench.publish(b"{}")
        [dead] = await bench.take(DEAD_QUEUE, 1)
    assert dead.message_id == message_id
    assert dead.headers["x-first-death-reason"] == "delivery_limit"
    assert len(handler.calls) == 6  # delivered, then redelivered up to the limit of 5
    assert consumer.counts["requeued"] >= 5 and consumer.counts["delayed"] == 0


async def test_delay_queues_expire_back_into_the_replies_queue(bench: Bench) -> None:
    vhost = bench.url.rsplit("/", 1)[1]
    lines = await asyncio.to_thread(
        rabbitmqctl, "list_queues", "-p", vhost, "name", "type", "durable", "arguments"
    )
    by_name = {x.split("\t")[0]: x for x in lines.splitlines()}
    for delay in TEST_DELAYS:
        line = by_name[retry_queue_name("replies", delay)]
        assert line.split("\t")[1:3] == ["quorum", "true"]
        assert f'{{"x-message-ttl",{round(delay * 1000)}}}' in line
        assert '{"x-dead-letter-routing-key","pakn.gateway.replies"}' in line
        assert '{"x-dead-letter-strategy","at-least-once"}' in line
    assert retry_queue_name("replies", 0.2) == "pakn.retry.replies.200ms"
    assert retry_queue_name("replies", 3600) == "pakn.retry.replies.1h"


async def test_replies_of_one_petition_are_handled_one_at_a_time_in_the_order_they_came(bench: Bench) -> None:
    handler = Handler(delay=0.02)
    async with bench.consuming(handler, prefetch=50) as consumer:
        sent = [await bench.publish(f'{{"n":{n},"petition_id":"PAKN-A"}}'.encode()) for n in range(20)]
        await settled(consumer, "applied", 20)
    assert [call[1] for call in handler.calls] == sent
    assert handler.most_at_once == 1


async def test_replies_without_a_petition_share_one_lane(bench: Bench) -> None:
    handler = Handler(delay=0.02)
    async with bench.consuming(handler, prefetch=50) as consumer:
        sent = [await bench.publish(body) for body in (b"{}", b"not json", b"[1]", b'{"petition_id":7}')]
        await settled(consumer, "applied", 4)
    assert [call[1] for call in handler.calls] == sent
    assert handler.most_at_once == 1


async def test_a_body_nested_past_the_parsers_depth_goes_to_the_handler_and_the_consumer_goes_on(
    bench: Bench,
) -> None:
    handler = Handler()
    deep = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError, not ValueError
    async with bench.consuming(handler) as consumer:
        first = await bench.publish(deep)
        second = await bench.publish(b'{"petition_id":"PAKN-B"}')
        await settled(consumer, "applied", 2)
    assert [call[1] for call in handler.calls] == [first, second]


async def test_cancelled_the_consumer_stops_at_once_and_the_replies_in_hand_go_back(bench: Bench) -> None:
    handler = Handler(delay=60.0)
    consumer = ReplyConsumer(bench.connection, handler, retry_delays=TEST_DELAYS, concurrency=4)
    task = asyncio.create_task(consumer.run(asyncio.Event()))
    for petition in ("PAKN-C1", "PAKN-C2"):
        await bench.publish(json.dumps({"petition_id": petition}).encode())
    async with asyncio.timeout(WAIT):
        while handler.running < 2:  # noqa: ASYNC110 (the fake's counter, not an event)
            await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 15)  # not the handler's 60 s: the lanes were cancelled too
    assert handler.running == 0 and consumer.counts["applied"] == 0
    await back_on_the_queue(bench, 2)


async def test_a_lane_whose_publish_failed_closes_only_its_own_channel(bench: Bench) -> None:
    consumer = ReplyConsumer(bench.connection, Handler(), retry_delays=TEST_DELAYS)
    first = await consumer._publishing_channel()
    await consumer._close_publisher(first)  # lane A's publish failed on it
    second = await consumer._publishing_channel()  # lane B opened the next one meanwhile
    assert second is not first and first.is_closed
    await consumer._close_publisher(first)  # lane A, late, about the channel that failed it
    assert not second.is_closed and await consumer._publishing_channel() is second
    await consumer._close_publisher()
    assert second.is_closed


@dataclass
class PetitionWatch:
    """A handler that notes, per petition, the replies in the order it took them, and whether two
    replies of one petition were ever in hand at once."""

    delay: float
    taken: dict[str, list[str]] = field(default_factory=dict)
    in_hand: set[str] = field(default_factory=set)
    overlapped: list[str] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0

    async def __call__(self, body: bytes, *, message_id: str | None, routing_key: str) -> None:
        petition = json.loads(body)["petition_id"]
        if petition in self.in_hand:
            self.overlapped.append(petition)
        self.in_hand.add(petition)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        self.taken.setdefault(petition, []).append(message_id or "")
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.running -= 1
            self.in_hand.discard(petition)


async def test_replies_of_different_petitions_are_handled_side_by_side_each_in_order(bench: Bench) -> None:
    watch = PetitionWatch(delay=0.05)
    petitions = [f"PAKN-{n}" for n in range(5)]
    sent: dict[str, list[str]] = {p: [] for p in petitions}
    async with bench.consuming(watch, prefetch=50, concurrency=3) as consumer:  # type: ignore[arg-type]
        for round_ in range(3):
            for petition in petitions:
                for twice in range(2):  # back to back: a consumer blind to petitions would take both at once
                    body = json.dumps({"petition_id": petition, "n": 2 * round_ + twice}).encode()
                    sent[petition].append(await bench.publish(body))
        await settled(consumer, "applied", 30)
    assert watch.taken == sent  # each petition's replies in the order they were published
    assert watch.overlapped == []  # never two of one petition at once
    assert watch.most_at_once == 3  # side by side, up to the concurrency and no further
    assert await bench.count(REPLIES_QUEUE) == 0


async def test_stop_ends_the_consumer_and_an_unsettled_reply_goes_back(bench: Bench) -> None:
    handler = Handler(delay=1.0)
    async with bench.consuming(handler) as consumer:
        await bench.publish(b"{}")
        await asyncio.wait_for(handler.called.wait(), WAIT)
        await bench.publish(b"{}")  # prefetched, never handled
    # the one in hand was settled before leaving; the prefetched one is back on the queue (the broker
    # requeues a closed channel's unacked deliveries on its own time: the count may lag the close)
    assert consumer.counts["applied"] == 1
    await back_on_the_queue(bench, 1)


async def test_stopped_each_lane_settles_the_reply_in_hand_and_the_rest_go_back(bench: Bench) -> None:
    handler = Handler(delay=1.0)
    async with bench.consuming(handler, concurrency=3) as consumer:
        for petition in ("PAKN-X", "PAKN-Y", "PAKN-Z", "PAKN-X", "PAKN-Y", "PAKN-W"):
            await bench.publish(json.dumps({"petition_id": petition}).encode())
        async with asyncio.timeout(WAIT):
            while handler.most_at_once < 3:  # noqa: ASYNC110 (the fake's counter, not an event)
                await asyncio.sleep(0.02)
    assert consumer.counts["applied"] == 3 and len(handler.calls) == 3
    await back_on_the_queue(bench, 3)  # X and Y's second replies, and W's


async def test_error_queues_are_quorum_queues_dead_lettering_to_pakn_dead(bench: Bench) -> None:
    vhost = bench.url.rsplit("/", 1)[1]
    lines = await asyncio.to_thread(rabbitmqctl, "list_queues", "-p", vhost, "name", "type", "arguments")
    [line] = [x for x in lines.splitlines() if x.split("\t")[0] == unit_error_queue_name(bench.unit)]
    assert line.split("\t")[1] == "quorum"
    assert '{"x-dead-letter-exchange","pakn.dead"}' in line and '{"x-delivery-limit",5}' in line
    bindings = await asyncio.to_thread(
        rabbitmqctl, "list_bindings", "-p", vhost, "source_name", "destination_name"
    )
    # bound to nothing but the default exchange (source ""): published to by queue name
    assert {
        b.split("\t")[0] for b in bindings.splitlines() if b.endswith(unit_error_queue_name(bench.unit))
    } == {""}


async def test_without_the_topology_the_consumer_says_so_instead_of_waiting() -> None:
    async with own_vhost() as url:
        connection = await connect(url, timeout=5)
        try:
            consumer = ReplyConsumer(connection, Handler(), broker_timeout=5)
            with pytest.raises(TopologyError, match="declare the topology first"):
                await asyncio.wait_for(consumer.run(asyncio.Event()), WAIT)
        finally:
            await asyncio.wait_for(connection.close(), 10)
