"""The relay on the real store and the real broker: committed rows reach the unit queue, marked sent."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from connectors.amqp.connection import connect
from connectors.amqp.outbox_relay import OutboxRelay
from connectors.amqp.topology import CASES_EXCHANGE, routing_key_for, unit_queue_name
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.exchange import OutboxMessage
from gateway.inbound.delivery import StoreOutboxSource
from tests.support.amqp import AMQP_URL, WAIT, collect, declared_unit

pytestmark = pytest.mark.integration


async def test_committed_rows_are_published_and_marked_sent(db_uow: SqlUnitOfWorkFactory) -> None:
    async with declared_unit() as unit:
        key = routing_key_for(unit.code, "case.new")
        nowhere = routing_key_for("TNOBODYHERE", "case.new")
        async with db_uow() as uow:
            for n in range(300):
                body = json.dumps({"seq": n}).encode()
                await uow.outbox.add(
                    OutboxMessage(f"{unit.code}-{n}", CASES_EXCHANGE, key, "case.new", f"P-{n}", body, now())
                )
            await uow.outbox.add(
                OutboxMessage(f"{unit.code}-lost", CASES_EXCHANGE, nowhere, "case.new", "P-x", b"{}", now())
            )
            await uow.commit()

        async with await connect(AMQP_URL, timeout=5) as connection:
            relay = OutboxRelay(
                connection, StoreOutboxSource(db_uow, lambda: datetime.now(UTC)), batch_size=500
            )
            assert await asyncio.wait_for(relay.run_once(), WAIT) == 300
            await relay.close()

        async with db_uow() as uow:
            [left] = await uow.outbox.pending(10)
        assert (left.message_id, left.attempts) == (f"{unit.code}-lost", 1)
        messages = await collect(unit_queue_name(unit.code), 300)
        assert {m.message_id for m in messages} == {f"{unit.code}-{n}" for n in range(300)}


def now() -> datetime:
    return datetime.now(UTC)
