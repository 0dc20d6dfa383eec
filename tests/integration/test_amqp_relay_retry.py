"""The relay's retry of rows the broker will not take, on the real store and broker: a row that is
unroutable waits on the retry ladder (10 s, 1 min, 10 min, 1 h, configurable) instead of being
handed out again at every batch, so a full batch of them cannot stop every other unit's cases;
a link failure delays no row (the relay's own backoff paces the whole outbox then)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from connectors.amqp.connection import connect
from connectors.amqp.outbox_relay import OutboxRelay
from connectors.amqp.topology import CASES_EXCHANGE, routing_key_for, unit_queue_name
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.exchange import OutboxMessage
from gateway.inbound.delivery import StoreOutboxSource
from tests.support.amqp import AMQP_URL, WAIT, collect, declared_unit

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
LADDER = (10.0, 60.0, 600.0, 3600.0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def rows(db_uow: SqlUnitOfWorkFactory, prefix: str) -> list[tuple[int, datetime | None, str | None]]:
    query = text(
        "SELECT attempts, next_attempt_at, last_error FROM outbox WHERE message_id LIKE :p ORDER BY id"
    )
    async with db_uow() as uow:
        found = (await uow.session.execute(query, {"p": f"{prefix}%"})).all()
    return [(a, _utc(n), e) for a, n, e in found]


def _utc(value: object) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def test_unroutable_rows_wait_on_the_ladder_and_do_not_block_the_others(
    db_uow: SqlUnitOfWorkFactory,
) -> None:
    clock = Clock()
    async with declared_unit() as unit:
        nowhere = routing_key_for(f"{unit.code}X", "case.new")  # no queue is bound for it
        key = routing_key_for(unit.code, "case.new")
        async with db_uow() as uow:
            for n in range(50):  # a whole batch of rows that can never be routed, first in line
                await uow.outbox.add(OutboxMessage(f"lost-{unit.code}-{n}", CASES_EXCHANGE, nowhere,
                                                   "case.new", f"P-{n}", b"{}", T0))
            for n in range(20):
                body = json.dumps({"seq": n}).encode()
                await uow.outbox.add(OutboxMessage(f"ok-{unit.code}-{n}", CASES_EXCHANGE, key,
                                                   "case.new", f"Q-{n}", body, T0))
            await uow.commit()

        source = StoreOutboxSource(db_uow, clock, retry_delays=LADDER)
        async with await connect(AMQP_URL, timeout=5) as connection:
            relay = OutboxRelay(connection, source, batch_size=50)
            assert await asyncio.wait_for(relay.run_once(), WAIT) == 0  # all 50 came back
            lost = await rows(db_uow, f"lost-{unit.code}")
            assert {(a, n) for a, n, _ in lost} == {(1, T0 + timedelta(seconds=10))}
            assert all(e is not None and e.startswith("Amqp.Unroutable") for _, _, e in lost)

            # Not due yet: the next batch is the other unit's cases, which go out.
            assert await asyncio.wait_for(relay.run_once(), WAIT) == 20
            assert await asyncio.wait_for(relay.run_once(), WAIT) == 0

            # Each failure waits one step longer; after the last step, the last delay again.
            for attempt, delay in enumerate((60.0, 600.0, 3600.0, 3600.0), start=2):
                clock.now += timedelta(seconds=LADDER[min(attempt - 2, len(LADDER) - 1)])
                assert await asyncio.wait_for(relay.run_once(), WAIT) == 0
                expected = (attempt, clock.now + timedelta(seconds=delay))
                assert {(a, n) for a, n, _ in await rows(db_uow, f"lost-{unit.code}")} == {expected}
            await relay.close()
        delivered = await collect(unit_queue_name(unit.code), 20)
        assert {m.message_id for m in delivered} == {f"ok-{unit.code}-{n}" for n in range(20)}


async def test_a_link_failure_delays_no_row(db_uow: SqlUnitOfWorkFactory) -> None:
    clock = Clock()
    async with db_uow() as uow:
        await uow.outbox.add(OutboxMessage("link-1", CASES_EXCHANGE, "unit.X.case.new", "case.new", "P",
                                           b"{}", T0))
        await uow.commit()
    source = StoreOutboxSource(db_uow, clock, retry_delays=LADDER)
    [row] = await source.pending(10)
    await source.failed([row], "Amqp.BrokerUnavailable: publish: the channel closed before the confirm")
    await source.failed([row], "Amqp.PublishTimeout: publish: no publisher confirm within 10 s")
    assert [(a, n) for a, n, _ in await rows(db_uow, "link-")] == [(2, None)]
    assert [m.message_id for m in await source.pending(10)] == ["link-1"]  # due at once
