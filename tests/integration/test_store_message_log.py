"""The message log's hash chain verifies, and any edit made behind the store's back is found."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.log_chain import GENESIS
from connectors.db.message_log_store import verify_chain
from connectors.db.queries import message_log_head
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.exchange import LogEntry

pytestmark = pytest.mark.integration

T0 = datetime(2025, 7, 1, 1, 2, 3, 456789, tzinfo=UTC)
PETITION_XML = "<PetitionMessage><Title>Phản ánh về bảo hiểm thất nghiệp</Title></PetitionMessage>"


def entry(n: int) -> LogEntry:
    return LogEntry(
        direction="in" if n % 2 else "out",
        peer="000.00.00.G22",
        operation="SubmitPetition",
        raw=PETITION_XML.encode("utf-8") + bytes([n]),
        signature_verdict="valid",
        at=T0 + timedelta(seconds=n),
        message_id=f"m-{n}",
        signer="CN=Văn phòng Chính phủ,O=VPCP,C=VN",
        outcome="accepted",
    )


async def append(db_uow: SqlUnitOfWorkFactory, count: int) -> list[int]:
    ids = []
    for n in range(count):
        async with db_uow() as uow:
            ids.append(await uow.message_log.append(entry(n)))
            await uow.commit()
    return ids


async def test_chain_links_and_verifies(db_uow: SqlUnitOfWorkFactory) -> None:
    ids = await append(db_uow, 4)
    assert ids == sorted(ids) and len(set(ids)) == 4
    async with db_uow() as uow:
        assert await verify_chain(uow) == (True, None)
        assert await verify_chain(uow.session) == (True, None)
        head = await message_log_head(uow)
        rows = (
            await uow.session.execute(
                text("SELECT id, prev_hash, entry_hash, raw_sha256, raw FROM message_log ORDER BY id")
            )
        ).all()
    assert rows[0].prev_hash == GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.entry_hash for r in rows[:-1]]
    assert all(r.raw_sha256 == hashlib.sha256(r.raw).hexdigest() for r in rows)
    assert bytes(rows[2].raw) == entry(2).raw
    assert (head.entries, head.last_id, head.last_hash) == (4, ids[-1], rows[-1].entry_hash)


TAMPERING = {
    "raw bytes": "UPDATE message_log SET raw = :forged WHERE id = :id",
    "raw bytes and their digest": (
        "UPDATE message_log SET raw = :forged, raw_sha256 = :forged_sha WHERE id = :id"
    ),
    "metadata": "UPDATE message_log SET outcome = 'Client.SignatureInvalid' WHERE id = :id",
    "timestamp": "UPDATE message_log SET created_at = :later WHERE id = :id",
}


@pytest.mark.parametrize("what", sorted(TAMPERING))
async def test_tampering_with_a_row_is_reported(db_uow: SqlUnitOfWorkFactory, what: str) -> None:
    ids = await append(db_uow, 4)
    forged = PETITION_XML.replace("bảo hiểm", "bảo hành").encode("utf-8")
    params = {
        "id": ids[1],
        "forged": forged,
        "forged_sha": hashlib.sha256(forged).hexdigest(),
        "later": T0 + timedelta(days=1),
    }
    async with db_uow() as uow:
        await uow.session.execute(
            text(TAMPERING[what]), {k: v for k, v in params.items() if f":{k}" in TAMPERING[what]}
        )
        await uow.commit()
    async with db_uow() as uow:
        assert await verify_chain(uow) == (False, ids[1])


async def test_deleting_a_row_is_reported_at_the_next(db_uow: SqlUnitOfWorkFactory) -> None:
    ids = await append(db_uow, 4)
    async with db_uow() as uow:
        await uow.session.execute(text("DELETE FROM message_log WHERE id = :id"), {"id": ids[1]})
        await uow.commit()
    async with db_uow() as uow:
        assert await verify_chain(uow) == (False, ids[2])


async def test_concurrent_appends_keep_one_chain(db_uow: SqlUnitOfWorkFactory) -> None:
    async def one(n: int) -> int:
        async with db_uow() as uow:
            entry_id = await uow.message_log.append(entry(n))
            await asyncio.sleep(0.005)  # hold the transaction open: others must wait, not fork
            await uow.commit()
            return entry_id

    ids = await asyncio.gather(*(one(n) for n in range(12)))
    assert len(set(ids)) == 12
    async with db_uow() as uow:
        assert await verify_chain(uow) == (True, None)
        assert (await message_log_head(uow)).entries == 12


async def test_entries_of_one_transaction_chain_in_order_under_one_lock(
    db_uow: SqlUnitOfWorkFactory, db_engine: AsyncEngine
) -> None:
    inserts: list[int] = []
    head_reads: list[int] = []

    def count(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        text_ = " ".join(statement.split()).upper()
        if text_.startswith("INSERT INTO MESSAGE_LOG"):
            inserts.append(1)
        if text_.startswith("SELECT MESSAGE_LOG.ENTRY_HASH"):
            head_reads.append(1)

    first = await append(db_uow, 2)
    event.listen(db_engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db_uow() as uow:
            ids = [await uow.message_log.append(entry(n)) for n in range(10, 30)]
            more = [await uow.message_log.append(entry(n)) for n in (40, 41)]
            await uow.commit()
    finally:
        event.remove(db_engine.sync_engine, "before_cursor_execute", count)
    assert len(ids) == 20 and ids == sorted(ids) and ids[0] > first[-1] and more[0] > ids[-1]
    assert len(inserts) == 22  # one per entry (BENCHMARKS.md, fourth round: a multi-row form was slower)
    assert len(head_reads) == 1  # the chain's head read once for the transaction, then carried on
    async with db_uow() as uow:
        assert await verify_chain(uow) == (True, None)
        rows = (await uow.session.execute(text("SELECT id, message_id FROM message_log ORDER BY id"))).all()
    assert [r.message_id for r in rows] == [f"m-{n}" for n in [0, 1, *range(10, 30), 40, 41]]
    assert [r.id for r in rows] == [*first, *ids, *more]


async def test_several_entries_per_transaction_beside_single_appenders_keep_one_chain(
    db_uow: SqlUnitOfWorkFactory,
) -> None:
    async def together(n: int) -> list[int]:
        async with db_uow() as uow:
            ids = [await uow.message_log.append(entry(n + k)) for k in range(3)]
            await asyncio.sleep(0.005)
            await uow.commit()
            return ids

    async def single(n: int) -> list[int]:
        async with db_uow() as uow:
            entry_id = await uow.message_log.append(entry(n))
            await uow.commit()
            return [entry_id]

    results = await asyncio.gather(*(together(n) if n % 2 else single(n) for n in range(0, 60, 5)))
    assert sum(len(r) for r in results) == 6 * 3 + 6
    async with db_uow() as uow:
        assert await verify_chain(uow) == (True, None)
        assert (await message_log_head(uow)).entries == 24


@pytest.mark.parametrize("end", ["rollback", "release"])
async def test_entries_after_a_savepoint_follow_the_true_head(db_uow: SqlUnitOfWorkFactory, end: str) -> None:
    """What a savepoint appended is gone once it rolls back: the next entry must not follow it (the
    head this transaction remembered is dropped inside a savepoint and read again)."""
    async with db_uow() as uow:
        kept = [await uow.message_log.append(entry(n)) for n in (0, 1)]
        savepoint = await uow.session.begin_nested()
        inner = [await uow.message_log.append(entry(n)) for n in (2, 3)]
        await (savepoint.commit() if end == "release" else savepoint.rollback())
        after = await uow.message_log.append(entry(4))
        await uow.commit()
    assert inner[-1] > inner[0] > kept[-1] and after > (inner[-1] if end == "release" else kept[-1])
    async with db_uow() as uow:
        assert await verify_chain(uow) == (True, None)
        rows = (await uow.session.execute(text("SELECT id, message_id FROM message_log ORDER BY id"))).all()
    stored = [*kept, *inner, after] if end == "release" else [*kept, after]
    assert [r.id for r in rows] == stored
    numbers = [0, 1, 2, 3, 4] if end == "release" else [0, 1, 4]
    assert [r.message_id for r in rows] == [f"m-{n}" for n in numbers]
