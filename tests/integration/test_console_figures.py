"""The console's figures from the real store (SQLite and PostgreSQL) and the real broker: traffic
since the previous sample, cases published per routing key, overdue cases, queue counts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import aio_pika
import pytest

from connectors.amqp.queue_stats import QueueStats
from connectors.amqp.topology import unit_queue_name
from connectors.db.console_figures import log_traffic_since, overdue_count, published_between
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.case import Case
from gateway.domain.exchange import LogEntry, OutboxMessage
from tests.support.amqp import AMQP_URL, declared_unit
from tests.unit.samples import petition

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def entry(direction: str, operation: str, n: int) -> LogEntry:
    return LogEntry(
        direction=direction,
        peer="000.00.00.G22",
        operation=operation,
        raw=f"<m n='{n}'/>".encode(),
        signature_verdict="valid",
        at=T0 + timedelta(seconds=n),
        message_id=f"m-{n}",
    )


async def test_traffic_is_counted_from_the_previous_sample_on(db_uow: SqlUnitOfWorkFactory) -> None:
    async with db_uow() as uow:
        await uow.message_log.append(entry("in", "SubmitPetition", 1))
        await uow.commit()
    async with db_uow() as uow:
        baseline = await log_traffic_since(uow, None)
    assert baseline.counts == {} and baseline.last_id is not None and baseline.last_id >= 1

    async with db_uow() as uow:
        for n, (direction, operation) in enumerate(
            [
                ("in", "SubmitPetition"),
                ("out", "SubmitPetition"),
                ("out", "ReceiveStatus"),
                ("in", "SubmitPetition"),
            ],
            start=2,
        ):
            await uow.message_log.append(entry(direction, operation, n))
        await uow.commit()
    async with db_uow() as uow:
        moved = await log_traffic_since(uow, baseline.last_id)
        again = await log_traffic_since(uow, moved.last_id)
    assert moved.counts == {
        ("in", "SubmitPetition"): 2,
        ("out", "SubmitPetition"): 1,
        ("out", "ReceiveStatus"): 1,
    }
    assert moved.last_id == baseline.last_id + 4
    assert again.counts == {} and again.last_id == moved.last_id


async def test_published_cases_are_counted_per_routing_key_in_a_half_open_window(
    db_uow: SqlUnitOfWorkFactory,
) -> None:
    async with db_uow() as uow:
        for n, key in enumerate(["unit.CVL.case.new", "unit.CVL.case.new", "unit.CNCC.case.new"], start=1):
            await uow.outbox.add(OutboxMessage(f"o-{n}", "pakn.cases", key, "case.new", f"P{n}", b"{}", T0))
        await uow.commit()
    async with db_uow() as uow:
        ids = [m.id for m in await uow.outbox.pending(10) if m.id is not None]
        await uow.outbox.mark_sent(ids[:2], T0 + timedelta(seconds=10))
        await uow.outbox.mark_sent(ids[2:], T0 + timedelta(seconds=20))
        await uow.commit()
    async with db_uow() as uow:
        first = await published_between(uow, T0, T0 + timedelta(seconds=10))
        second = await published_between(uow, T0 + timedelta(seconds=10), T0 + timedelta(seconds=20))
    assert first == {"unit.CVL.case.new": 2}  # up to and including the end
    assert second == {"unit.CNCC.case.new": 1}  # after the start, not including it


async def test_overdue_counts_open_cases_past_the_portal_s_due_date(db_uow: SqlUnitOfWorkFactory) -> None:
    now = datetime.now(UTC)
    samples = [
        ("LATE-OPEN", now - timedelta(days=2), False),
        ("LATE-ANSWERED", now - timedelta(days=2), True),
        ("NOT-YET", now + timedelta(days=2), False),
        ("NO-DUE", None, False),
    ]
    for petition_id, due_at, answered in samples:
        p = dataclasses.replace(petition(petition_id), due_at=due_at, attachments=())
        case = Case.arrive(p.petition_id, "VBHXH", p.fingerprint(), now - timedelta(days=10))
        async with db_uow() as uow:
            await uow.cases.add(case, p)
            await uow.commit()
        if answered:
            async with db_uow() as uow:
                stored = await uow.cases.get(petition_id, for_update=True)
                assert stored is not None
                stored.assign(now)
                stored.claim("VBHXH", now)
                stored.complete("VBHXH", now)
                await uow.cases.save(stored)
                await uow.commit()
    async with db_uow() as uow:
        late = await overdue_count(uow, now)
    assert late == 1  # only the open one past its date; no due date, no overdue
    async with db_uow() as uow:
        assert await overdue_count(uow, now - timedelta(days=30)) == 0


async def test_queue_counts_by_passive_declares_and_a_shared_last_read() -> None:
    async with declared_unit() as unit:
        connection = await aio_pika.connect(AMQP_URL, timeout=5)
        async with connection:
            channel = await connection.channel()
            for n in range(3):
                await channel.default_exchange.publish(aio_pika.Message(f"{n}".encode()), unit.queue)
        stats = QueueStats(AMQP_URL)
        try:
            missing = unit_queue_name("TNOSUCHQUEUE")
            found = await stats.read([unit.queue, missing, unit.queue + ".errors"])
            assert found[missing] is None  # absent, and the next name is still read on a new channel
            assert found[unit.queue] is not None and found[unit.queue].messages == 3
            assert found[unit.queue].consumers == 0
            assert found[unit.queue + ".errors"] is not None
            assert stats.recent([unit.queue], max_age=60) == {unit.queue: found[unit.queue]}
            assert stats.recent([unit.queue], max_age=0) is None  # too old for this caller
            assert stats.recent(["another.queue"], max_age=60) is None  # not read last time
        finally:
            await stats.close()
