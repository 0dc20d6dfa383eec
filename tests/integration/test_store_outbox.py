"""The outbox: committed rows wait, oldest first, until the relay marks them sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.db.queries import outbox_pending_count
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.exchange import OutboxMessage
from gateway.ports import StoreConflict

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)


def message(n: int) -> OutboxMessage:
    body = f'{{"seq": {n}, "title": "Phản ánh số {n}"}}'.encode()
    return OutboxMessage(
        f"out-{n}", "pakn.cases", f"unit.U{n}", "case.new", f"PAKN-{n}", body, T0 + timedelta(seconds=n)
    )


async def test_add_pending_mark_failed_mark_sent_and_lag(db_uow: SqlUnitOfWorkFactory) -> None:
    async with db_uow() as uow:
        assert await uow.outbox.lag() == (0, None)
        for n in (1, 2, 3):
            await uow.outbox.add(message(n))
        await uow.commit()

    async with db_uow() as uow:
        first_two = await uow.outbox.pending(2)
    assert [m.message_id for m in first_two] == ["out-1", "out-2"]
    assert all(m.id is not None for m in first_two)
    assert first_two[0].id is not None and first_two[1].id is not None
    assert first_two[0].id < first_two[1].id
    assert first_two[1].body == message(2).body
    assert first_two[1].created_at == message(2).created_at and first_two[1].created_at.tzinfo is UTC
    assert first_two[0] == OutboxMessage(**{**message(1).__dict__, "id": first_two[0].id})
    ids = [first_two[0].id, first_two[1].id]

    async with db_uow() as uow:
        await uow.outbox.mark_failed(ids[:1], "broker unreachable: kết nối bị từ chối")
        await uow.outbox.mark_failed(ids[:1], "broker unreachable again")
        await uow.commit()
    async with db_uow() as uow:
        still = await uow.outbox.pending(10)
        lag = await uow.outbox.lag()
    assert [(m.message_id, m.attempts) for m in still] == [("out-1", 2), ("out-2", 0), ("out-3", 0)]
    assert lag == (3, T0 + timedelta(seconds=1))

    async with db_uow() as uow:
        await uow.outbox.mark_sent(ids, T0 + timedelta(minutes=1))
        await uow.outbox.mark_sent([], T0)
        await uow.commit()
    async with db_uow() as uow:
        left = await uow.outbox.pending(10)
        lag = await uow.outbox.lag()
        count = await outbox_pending_count(uow)
    assert [m.message_id for m in left] == ["out-3"]
    assert lag == (1, T0 + timedelta(seconds=3))
    assert count == 1


async def test_failing_a_sent_row_changes_nothing(db_uow: SqlUnitOfWorkFactory) -> None:
    async with db_uow() as uow:
        await uow.outbox.add(message(1))
        await uow.commit()
    async with db_uow() as uow:
        (row,) = await uow.outbox.pending(1)
        assert row.id is not None
        await uow.outbox.mark_sent([row.id], T0)
        await uow.outbox.mark_failed([row.id], "late nack")
        await uow.commit()
    async with db_uow() as uow:
        assert await uow.outbox.pending(10) == []
        assert await uow.outbox.lag() == (0, None)


async def test_a_message_id_is_added_once(db_uow: SqlUnitOfWorkFactory) -> None:
    async with db_uow() as uow:
        await uow.outbox.add(message(1))
        await uow.commit()
    async with db_uow() as uow:
        with pytest.raises(StoreConflict):
            await uow.outbox.add(message(1))
