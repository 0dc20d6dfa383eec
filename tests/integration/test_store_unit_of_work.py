"""The unit of work: nothing without commit, library errors mapped to the ports' errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.engine import make_engine, make_sessions
from connectors.db.message_log_store import verify_chain
from connectors.db.queries import message_log_head, outbox_pending_count
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.case import Case
from gateway.domain.exchange import LogEntry, OutboxMessage, Receipt
from gateway.domain.petition import Channel, Kind, Petition, Sender, SenderType
from gateway.ports import StoreConflict, StoreError

pytestmark = pytest.mark.integration

AT = datetime(2025, 5, 2, 8, 0, tzinfo=UTC)


def petition() -> Petition:
    return Petition(
        "PAKN-RB-1",
        Kind.HOI_DAP,
        Sender(SenderType.DOANH_NGHIEP, "Công ty TNHH Ánh Dương"),
        "Hỏi về mức đóng bảo hiểm",
        "Nội dung câu hỏi",
        Channel.APP,
        AT,
        0,
        False,
    )


async def write_everything(uow_factory: SqlUnitOfWorkFactory, *, fail: bool) -> None:
    async with uow_factory() as uow:
        p = petition()
        await uow.cases.add(Case.arrive(p.petition_id, "U1", p.fingerprint(), AT), p)
        await uow.receipts.remember(
            Receipt("m-1", "r-1", True), operation="SubmitPetition", petition_id=p.petition_id, at=AT
        )
        await uow.outbox.add(OutboxMessage("o-1", "pakn.cases", "U1", "case.new", p.petition_id, b"{}", AT))
        await uow.message_log.append(LogEntry("in", "000.00.00.G22", "SubmitPetition", b"<x/>", "valid", AT))
        await uow.tokens.add("U1", "h" * 64, "console", AT)
        if fail:
            raise RuntimeError("the handler failed after writing")


@pytest.mark.parametrize("fail", [False, True], ids=["no-commit", "exception"])
async def test_leaving_without_commit_leaves_nothing(db_uow: SqlUnitOfWorkFactory, fail: bool) -> None:
    if fail:
        with pytest.raises(RuntimeError):
            await write_everything(db_uow, fail=True)
    else:
        await write_everything(db_uow, fail=False)
    async with db_uow() as uow:
        assert await uow.cases.get("PAKN-RB-1") is None
        assert await uow.receipts.find("m-1") is None
        assert await uow.outbox.lag() == (0, None)
        assert await outbox_pending_count(uow) == 0
        assert (await message_log_head(uow)).entries == 0
        assert await uow.tokens.unit_for("h" * 64) is None
        assert await verify_chain(uow) == (True, None)


async def test_commit_then_more_work_is_a_new_transaction(db_uow: SqlUnitOfWorkFactory) -> None:
    async with db_uow() as uow:
        await uow.tokens.add("U1", "a" * 64, "first", AT)
        await uow.commit()
        await uow.tokens.add("U1", "b" * 64, "second, never committed", AT)
    async with db_uow() as uow:
        assert await uow.tokens.unit_for("a" * 64) == "U1"
        assert await uow.tokens.unit_for("b" * 64) is None


async def test_a_failed_statement_surfaces_as_conflict_and_the_next_unit_works(
    db_uow: SqlUnitOfWorkFactory,
) -> None:
    async with db_uow() as uow:
        await uow.tokens.add("U1", "c" * 64, "x", AT)
        await uow.commit()
    with pytest.raises(StoreConflict) as caught:
        async with db_uow() as uow:
            await uow.tokens.add("U2", "c" * 64, "same hash", AT)
            await uow.commit()
    assert caught.value.__cause__ is not None  # raised from the library's error
    async with db_uow() as uow:
        assert await uow.tokens.unit_for("c" * 64) == "U1"


async def test_an_unreachable_database_is_a_store_error() -> None:
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(StoreError) as caught:
            async with SqlUnitOfWorkFactory(make_sessions(engine))() as uow:
                await uow.cases.get("PAKN-1")
        assert not isinstance(caught.value, StoreConflict)
    finally:
        await engine.dispose()


async def test_naive_datetimes_are_refused(db_uow: SqlUnitOfWorkFactory) -> None:
    async with db_uow() as uow:
        with pytest.raises(StatementError, match="naive datetime") as caught:
            await uow.tokens.add("U1", "d" * 64, "x", datetime(2025, 1, 1, 8, 0))
    assert isinstance(caught.value.orig, ValueError)  # a caller's bug, not a StoreError


async def test_a_writer_blocked_past_its_timeout_gets_a_conflict(
    db_url: str, db_migrated: AsyncEngine
) -> None:
    holder = SqlUnitOfWorkFactory(make_sessions(db_migrated))
    p = petition()
    async with holder() as uow:
        await uow.cases.add(Case.arrive(p.petition_id, "U1", p.fingerprint(), AT), p)
        await uow.commit()
    impatient_engine = make_engine(db_url, sqlite_busy_timeout_ms=100)
    try:
        impatient = SqlUnitOfWorkFactory(make_sessions(impatient_engine))
        async with holder() as first:
            assert await first.cases.get(p.petition_id, for_update=True) is not None  # holds the lock
            with pytest.raises(StoreConflict):
                async with impatient() as second:
                    if db_migrated.dialect.name == "postgresql":
                        await second.session.execute(text("SET LOCAL lock_timeout = '100ms'"))
                    await second.cases.get(p.petition_id, for_update=True)
    finally:
        await impatient_engine.dispose()
