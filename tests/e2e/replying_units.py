"""Ministry units that reply over AMQP and ride out a broker restart, for the broker-restart fault
test: a claim for every new case, an answer for every third, each published until confirmed."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage

from connectors.amqp.demo_unit import NEW_CASE, DemoSigner, replies_for
from connectors.amqp.topology import REPLIES_EXCHANGE, unit_queue_name

PUBLISH_TIMEOUT = 5.0
THINK = 1.0  # seconds a unit takes before each reply: cases are held unacked, replies in flight
SIGNER = DemoSigner()


def answering(petition_id: str) -> bool:
    """Every third petition (by a stable hash of its id) is answered as well as claimed."""
    return sum(map(ord, petition_id)) % 3 == 0


@dataclass
class RepliesUnit:
    """Every unit of the ministry: consume the unit queues, reply to each new case over AMQP.

    Each reply is published persistent and mandatory, and published again until its confirm came
    (same message_id: the gateway applies it once); the case is acked after its replies. A
    redelivered case sends only the replies not yet confirmed, in order, so a claim always goes
    before its answer. Replies to one case never run concurrently (a lock per petition). A unit
    takes its time (``THINK``), so whenever the node goes down some cases are held and some
    replies are on their way.
    """

    url: str
    units: list[str]
    deadline: float
    seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # pid → case message_ids
    confirmed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # pid → reply types
    deliveries: int = 0
    publish_failures: int = 0
    _locks: dict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    _exchange: AbstractExchange | None = None
    _stopped: bool = False

    async def run(self, stop: asyncio.Event) -> None:
        connection = await aio_pika.connect_robust(self.url, timeout=10, reconnect_interval=0.5)
        try:
            async with connection:
                channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
                await channel.set_qos(prefetch_count=100)
                self._exchange = await channel.get_exchange(REPLIES_EXCHANGE)
                for code in self.units:
                    queue = await channel.declare_queue(unit_queue_name(code), passive=True)
                    await queue.consume(self._on_message)
                await stop.wait()
        finally:
            self._stopped = True  # replies still being retried give up

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        if message.type != NEW_CASE:
            await self._ack(message)
            return
        case = json.loads(message.body)
        pid = str(case["petition_id"])
        self.seen[pid].add(str(message.message_id))
        self.deliveries += 1
        replies = replies_for(case, SIGNER)[: 2 if answering(pid) else 1]  # claim, then answer
        async with self._locks[pid]:
            for reply in replies:
                if reply["type"] in self.confirmed[pid]:
                    continue
                await asyncio.sleep(THINK)
                if await self._publish(reply):
                    self.confirmed[pid].append(reply["type"])
        await self._ack(message)

    async def _publish(self, reply: dict[str, Any]) -> bool:
        body = json.dumps(reply, ensure_ascii=False).encode("utf-8")
        key = f"unit.{reply['unit_code']}.reply.{reply['type']}"
        while time.monotonic() < self.deadline and not self._stopped:
            assert self._exchange is not None
            message = aio_pika.Message(
                body,
                message_id=reply["message_id"],
                correlation_id=reply["petition_id"],
                content_type="application/json",
                type=f"pakn.reply.{reply['type']}",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            )
            try:
                await asyncio.wait_for(self._exchange.publish(message, key, mandatory=True), PUBLISH_TIMEOUT)
            except Exception:  # the node is down or restarting: the same reply again, shortly
                self.publish_failures += 1
                await asyncio.sleep(0.5)
            else:
                return True
        return False

    @staticmethod
    async def _ack(message: AbstractIncomingMessage) -> None:
        with suppress(Exception):  # its channel died with the node: the case comes again
            await asyncio.wait_for(message.ack(), PUBLISH_TIMEOUT)
