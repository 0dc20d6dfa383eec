"""Several gateway instances share one national outbox: a claim takes heads out of line for a lease,
so two instances never send the same message at once, and a crashed claimer's messages come back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.tables import NationalOutboxRow
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from tests.support.national_outbox import fill

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


async def test_concurrent_claims_take_disjoint_heads(db_uow: SqlUnitOfWorkFactory, db_url: str) -> None:
    await fill(db_uow, 6)
    if db_url.startswith("postgresql"):
        # both transactions open at once: the second skips the rows the first holds, it does not wait
        async with db_uow() as first, db_uow() as second:
            a = await first.national.claim(NOW, 3, NOW + LEASE)
            b = await second.national.claim(NOW, 100, NOW + LEASE)
            await first.commit()
            await second.commit()
    else:  # SQLite: write transactions run one after the other (BEGIN IMMEDIATE)
        async with db_uow() as first:
            a = await first.national.claim(NOW, 3, NOW + LEASE)
            await first.commit()
        async with db_uow() as second:
            b = await second.national.claim(NOW, 100, NOW + LEASE)
            await second.commit()
    taken_a, taken_b = {m.id for m in a}, {m.id for m in b}
    assert len(taken_a) == 3 and taken_a.isdisjoint(taken_b)
    assert {m.payload["Seq"] for m in a + b} == {1}  # heads only: nothing overtakes its Seq 1
    assert {m.petition_id for m in a + b} == {f"P-{n}" for n in range(6)}
    async with db_uow() as third:  # everything due is claimed: nothing left for a third instance
        assert await third.national.claim(NOW + timedelta(seconds=1), 100, NOW + LEASE) == []


async def test_a_claim_lapses_after_its_lease_and_a_release_puts_it_back_at_once(
    db_uow: SqlUnitOfWorkFactory,
) -> None:
    await fill(db_uow, 2)
    async with db_uow() as uow:
        claimed = await uow.national.claim(NOW, 100, NOW + LEASE)
        await uow.commit()
    assert len(claimed) == 2
    async with db_uow() as uow:
        assert await uow.national.claim(NOW + LEASE - timedelta(seconds=1), 100, NOW + 2 * LEASE) == []
        # the claimer died: at the lease's end the same messages (same MessageIds) are due again
        again = await uow.national.claim(NOW + LEASE, 100, NOW + 2 * LEASE)
        await uow.commit()
    assert [m.message_id for m in again] == [m.message_id for m in claimed]
    async with db_uow() as uow:
        await uow.national.release(again[0].id or 0, NOW + LEASE)
        await uow.commit()
    async with db_uow() as uow:
        [back] = await uow.national.claim(NOW + LEASE, 100, NOW + 3 * LEASE)
    assert back.message_id == again[0].message_id


async def test_unexpected_failures_are_counted_apart_and_a_replay_starts_them_over(
    db_uow: SqlUnitOfWorkFactory,
) -> None:
    await fill(db_uow, 1)
    async with db_uow() as uow:
        [head] = await uow.national.claim(NOW, 10, NOW + LEASE)
        assert head.id is not None and head.unexpected_failures == 0
        await uow.national.reschedule(head.id, NOW, "HTTP.503: down")  # an outage: not counted apart
        await uow.national.reschedule(head.id, NOW, "Gateway.UnexpectedError: bug", unexpected=True)
        await uow.commit()
    async with db_uow() as uow:
        [again] = await uow.national.claim(NOW, 10, NOW + LEASE)
        assert (again.id, again.attempts, again.unexpected_failures) == (head.id, 2, 1)
        await uow.national.mark_dead(head.id, "Gateway.UnexpectedError: bug (2 tries)", NOW)
        assert await uow.national.replay(head.id, NOW)
        await uow.commit()
    async with db_uow() as uow:
        [replayed] = await uow.national.claim(NOW, 10, NOW + LEASE)
    assert (replayed.state, replayed.unexpected_failures) == ("pending", 0)


async def test_claims_and_deliveries_of_any_size_reuse_a_few_statements(
    db_uow: SqlUnitOfWorkFactory, db_engine: AsyncEngine
) -> None:
    """asyncpg prepares a statement per text: an IN list of every length would be a text each."""
    await fill(db_uow, 40)
    texts: dict[str, set[str]] = {"lease": set(), "delivered": set()}

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        flat = " ".join(statement.split()).upper()
        if flat.startswith("UPDATE NATIONAL_OUTBOX SET NEXT_ATTEMPT_AT"):
            texts["lease"].add(flat)
        elif flat.startswith("UPDATE NATIONAL_OUTBOX SET STATE"):
            texts["delivered"].add(flat)

    event.listen(db_engine.sync_engine, "before_cursor_execute", note)
    try:
        claimed: list[int] = []
        for size in (1, 2, 3, 5, 6, 7, 9, 7):  # 40 heads in claims of eight sizes
            async with db_uow() as uow:
                taken = await uow.national.claim(NOW, size, NOW + LEASE)
                assert len(taken) == size
                await uow.national.mark_delivered([m.id or 0 for m in taken], NOW)
                await uow.commit()
            claimed += [m.id or 0 for m in taken]
    finally:
        event.remove(db_engine.sync_engine, "before_cursor_execute", note)
    assert len(texts["lease"]) == len(texts["delivered"]) == 5  # lists of 1, 2, 4, 8, 16 ids: not 7 lengths
    async with db_uow() as uow:  # through the mapped table: its timestamps come back aware, in UTC
        rows = (await uow.session.execute(select(NationalOutboxRow))).scalars().all()
    assert len(claimed) == len(set(claimed)) == 40
    assert sorted(claimed) == sorted(r.id for r in rows if r.state == "delivered")
    # the padding (an id repeated) leased no other row: each one not claimed is still due at once
    untouched = [r for r in rows if r.id not in set(claimed)]
    assert len(untouched) == 40 and {r.state for r in untouched} == {"pending"}
    assert all(r.next_attempt_at <= NOW for r in untouched)


async def test_a_claim_and_its_deliveries_longer_than_one_id_list(db_uow: SqlUnitOfWorkFactory) -> None:
    await fill(db_uow, 600)  # more heads than one padded IN list holds (key_lists.LONGEST)
    async with db_uow() as uow:
        taken = await uow.national.claim(NOW, 1000, NOW + LEASE)
        await uow.commit()
    assert len(taken) == 600
    async with db_uow() as uow:  # every one out of line for its lease, not only the first list's
        assert await uow.national.claim(NOW + timedelta(seconds=1), 1000, NOW + LEASE) == []
        await uow.national.mark_delivered([m.id or 0 for m in taken], NOW)
        await uow.commit()
    async with db_uow() as uow:
        query = text("SELECT state, count(*) FROM national_outbox GROUP BY state")
        assert dict((await uow.session.execute(query)).all()) == {"delivered": 600, "pending": 600}
