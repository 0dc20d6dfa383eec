"""Unit replies of different petitions written together (group commit), on SQLite and PostgreSQL.

Replies that arrive while a transaction is being written share the next one; each still returns
only once its own write has committed, and a refused reply fails only itself: its group is written
again one reply per transaction. The relay's confirm and a group lock their cases in PetitionId
order, so two transactions that each lock several cases cannot wait for each other in a circle.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.engine import make_engine, make_sessions
from connectors.db.migrate import upgrade
from connectors.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from gateway.domain.reply import ReplyKind, UnitReply
from gateway.inbound.delivery import StoreOutboxSource
from gateway.inbound.intake import Intake
from gateway.outbound.errors import UnknownCase
from gateway.outbound.replies import Replies, ReplyResult
from gateway.routing_config import load_config
from tests.support.databases import PG_URL, fresh_pg_database
from tests.unit.samples import WHEN, header, petition

pytestmark = pytest.mark.integration

UNIT = "VBHXH"  # where the sample petition is routed
PIDS = [f"PAKN-2026-{n:06d}" for n in range(12, 0, -1)]  # submitted in reverse PetitionId order


class NoLetters:
    async def signed_letter(self, **_: object) -> bytes:
        raise AssertionError("no answer in these tests")


class Counted:
    """The store's unit-of-work factory, counting the transactions opened."""

    def __init__(self, uow: SqlUnitOfWorkFactory) -> None:
        self._uow = uow
        self.opened = 0

    def __call__(self) -> SqlUnitOfWork:
        self.opened += 1
        return self._uow()


async def accepted_cases(db_uow: SqlUnitOfWorkFactory, *, confirm: bool) -> None:
    routing = load_config().routing
    intake = Intake(uow=db_uow, routing=routing, clock=lambda: WHEN)
    for pid in PIDS:
        await intake.submit_petition(header(str(uuid.uuid4())), petition(pid))
    if confirm:  # the relay's confirm: 04 and the case assigned
        source = StoreOutboxSource(db_uow, lambda: WHEN)
        await source.confirmed(await source.pending(100))


def claim(pid: str, unit: str = UNIT) -> UnitReply:
    return UnitReply(str(uuid.uuid4()), ReplyKind.CLAIM, pid, unit, WHEN)


def note(pid: str) -> UnitReply:
    return UnitReply(
        str(uuid.uuid4()), ReplyKind.NOTE, pid, UNIT, WHEN, note="Đang xác minh hồ sơ tại địa phương"
    )


async def stored(db_uow: SqlUnitOfWorkFactory, pid: str) -> tuple[str, list[str], list[str]]:
    """The case's status, its history's codes, and the statuses queued for the portal, in order."""
    async with db_uow() as uow:
        case = await uow.cases.get(pid)
        assert case is not None
        pending = await uow.national.list("pending", 1000)  # in id order: the order they go out in
    codes = [
        m.payload["StatusCode"] for m in pending if m.petition_id == pid and m.operation == "ReceiveStatus"
    ]
    return case.status.value, [c.status.value for c in case.history], codes


async def test_replies_arriving_together_share_one_transaction(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine
) -> None:
    await accepted_cases(db_uow, confirm=True)
    counted = Counted(db_uow)
    replies = Replies(uow=counted, routing=load_config().routing, documents=NoLetters(), clock=lambda: WHEN)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(db_migrated.sync_engine, "before_cursor_execute", seen)
    try:
        results: Sequence[ReplyResult] = await asyncio.gather(*(replies.handle(claim(pid)) for pid in PIDS))
    finally:
        event.remove(db_migrated.sync_engine, "before_cursor_execute", seen)

    assert counted.opened == 1  # all twelve were waiting when the writer took its first group
    # receipts, cases locked, histories, outbox, history rows, cases updated, receipts: 7 for all 12
    # (one by one it is 7 each); BEGIN and COMMIT are not cursor statements here
    assert len(statements) <= 8, statements
    assert [r.petition_id for r in results] == PIDS and {r.status for r in results} == {"05"}
    for pid in PIDS:
        assert await stored(db_uow, pid) == ("05", ["01", "03", "04", "05"], ["01", "03", "04", "05"])


async def test_a_refused_reply_fails_only_itself(db_uow: SqlUnitOfWorkFactory) -> None:
    await accepted_cases(db_uow, confirm=False)  # a unit quicker than the relay: 04 comes first
    replies = Replies(uow=db_uow, routing=load_config().routing, documents=NoLetters(), clock=lambda: WHEN)
    unknown = claim("PAKN-2026-999999")
    batch = [claim(pid) for pid in PIDS[:6]] + [unknown] + [claim(pid) for pid in PIDS[6:]]

    outcomes = await asyncio.gather(*(replies.handle(r) for r in batch), return_exceptions=True)

    assert isinstance(outcomes[6], UnknownCase)
    applied = [o for o in outcomes if isinstance(o, ReplyResult)]
    assert [r.petition_id for r in applied] == PIDS and {r.status for r in applied} == {"05"}
    for pid in PIDS:
        assert await stored(db_uow, pid) == ("05", ["01", "03", "04", "05"], ["01", "03", "04", "05"])


async def test_a_copy_in_the_same_group_is_applied_once(db_uow: SqlUnitOfWorkFactory) -> None:
    await accepted_cases(db_uow, confirm=True)
    counted = Counted(db_uow)
    replies = Replies(uow=counted, routing=load_config().routing, documents=NoLetters(), clock=lambda: WHEN)
    first = claim(PIDS[0])

    outcomes = await asyncio.gather(
        replies.handle(first), replies.handle(first), replies.handle(claim(PIDS[1]))
    )

    assert counted.opened == 1
    assert [(o.duplicate, o.status) for o in outcomes] == [(False, "05"), (True, "05"), (False, "05")]
    assert await stored(db_uow, PIDS[0]) == ("05", ["01", "03", "04", "05"], ["01", "03", "04", "05"])


async def test_a_group_of_one_is_its_own_transaction(db_uow: SqlUnitOfWorkFactory) -> None:
    """`PAKN_REPLY_GROUP_SIZE=1`: one commit per reply, as before group commit."""
    await accepted_cases(db_uow, confirm=True)
    counted = Counted(db_uow)
    replies = Replies(
        uow=counted, routing=load_config().routing, documents=NoLetters(), clock=lambda: WHEN, group_size=1
    )

    await asyncio.gather(*(replies.handle(claim(pid)) for pid in PIDS[:4]))

    assert counted.opened == 4
    for pid in PIDS[:4]:
        assert (await stored(db_uow, pid))[0] == "05"


async def test_a_batched_group_writes_what_one_by_one_writes(db_uow: SqlUnitOfWorkFactory) -> None:
    """Claims and notes of six petitions in one group; the same replies to six others one per
    transaction: the same cases, histories and national messages, column by column."""
    await accepted_cases(db_uow, confirm=False)  # 04 comes with each first reply
    routing = load_config().routing
    grouped = Replies(uow=db_uow, routing=routing, documents=NoLetters(), clock=lambda: WHEN)
    alone = Replies(uow=db_uow, routing=routing, documents=NoLetters(), clock=lambda: WHEN, group_size=1)
    first, second = PIDS[:6], PIDS[6:]
    for kinds in ([claim, note] * 3, [note, claim] * 3):  # a note at 04 or at 05, a claim after a note
        await asyncio.gather(*(grouped.handle(make(pid)) for make, pid in zip(kinds, first, strict=True)))
        for make, pid in zip(kinds, second, strict=True):
            await alone.handle(make(pid))

    assert [await rows(db_uow, pid) for pid in first] == [await rows(db_uow, pid) for pid in second]
    assert {(await stored(db_uow, pid))[0] for pid in PIDS} == {"05"}


async def rows(db_uow: SqlUnitOfWorkFactory, pid: str) -> list[object]:
    """What the store holds of one case, without its PetitionId or anything random."""
    async with db_uow() as uow:
        case = (
            await uow.session.execute(
                text(
                    "SELECT unit_code, status, updated_at, accepted_at, closed_at FROM cases "
                    "WHERE petition_id = :p"
                ),
                {"p": pid},
            )
        ).one()
        history = (
            await uow.session.execute(
                text(
                    "SELECT seq, status, unit_code, description, changed_at, moved_from "
                    "FROM case_status_history WHERE petition_id = :p ORDER BY seq"
                ),
                {"p": pid},
            )
        ).all()
        receipts = (
            await uow.session.execute(
                text(
                    "SELECT operation, accepted FROM seen_messages WHERE petition_id = :p ORDER BY created_at"
                ),
                {"p": pid},
            )
        ).all()
        pending = await uow.national.list("pending", 1000)
    national = [
        (m.operation, {k: v for k, v in m.payload.items() if k != "PetitionId"})
        for m in pending
        if m.petition_id == pid
    ]
    return [tuple(case), [tuple(h) for h in history], sorted(tuple(r) for r in receipts), national]


async def test_the_relays_confirm_locks_its_cases_at_once_in_petition_id_order(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine
) -> None:
    await accepted_cases(db_uow, confirm=False)
    source = StoreOutboxSource(db_uow, lambda: WHEN)
    pending = await source.pending(100)
    assert [m.correlation_id for m in pending] == PIDS  # in the order they came: not sorted
    statements: list[tuple[str, object]] = []

    def seen(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        statements.append((statement, parameters))

    event.listen(db_migrated.sync_engine, "before_cursor_execute", seen)
    try:
        await source.confirmed(pending)
    finally:
        event.remove(db_migrated.sync_engine, "before_cursor_execute", seen)

    reads = [
        (sql, params) for sql, params in statements if sql.lstrip().startswith("SELECT cases.petition_id")
    ]
    assert len(reads) == 1  # twelve cases, one statement: 16 keys, the last one repeated
    sql, params = reads[0]
    assert "ORDER BY cases.petition_id" in sql
    if db_migrated.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE locks the whole store
        assert sql.rstrip().endswith("FOR UPDATE") and 'ORDER BY cases.petition_id COLLATE "C"' in sql
    keys = list(params.values()) if isinstance(params, dict) else list(params)  # type: ignore[call-overload]
    assert keys == sorted(PIDS) + [max(PIDS)] * 4
    assert len(statements) <= 8, statements  # outbox, cases, histories, outbox 04s, history, cases
    for pid in PIDS:
        assert await stored(db_uow, pid) == ("04", ["01", "03", "04"], ["01", "03", "04"])


async def test_many_keys_at_once_find_exactly_the_stored_cases(db_uow: SqlUnitOfWorkFactory) -> None:
    """More keys than one statement takes (key_lists.LONGEST): the stored ones, each once."""
    await accepted_cases(db_uow, confirm=True)
    unknown = [f"PAKN-2026-9{n:05d}" for n in range(700)]
    async with db_uow() as uow:
        found = await uow.cases.get_many([*unknown, *PIDS, PIDS[0]], for_update=True)
        seen = await uow.receipts.find_many([str(uuid.uuid4()) for _ in range(600)])
    assert sorted(found) == sorted(PIDS) and seen == {}
    assert {pid: [c.status.value for c in case.history] for pid, case in found.items()} == {
        pid: ["01", "03", "04"] for pid in PIDS
    }


async def test_cases_are_locked_in_code_point_order_whatever_the_databases_collation() -> None:
    """A database whose collation sorts "hn-1" before "HN-2" (ICU, en-US) still has several cases
    locked in the order a transaction locking them one by one takes (Python's, code points): two
    orders would let a reply group and the relay's confirm deadlock."""
    pids = ["hn-1", "HN-2", "Hn-3", "hn-10"]
    icu = "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
    async with fresh_pg_database(PG_URL, icu) as url:
        engine = make_engine(url)
        try:
            await upgrade(engine)
            db_uow = SqlUnitOfWorkFactory(make_sessions(engine))
            intake = Intake(uow=db_uow, routing=load_config().routing, clock=lambda: WHEN)
            for pid in pids:
                await intake.submit_petition(header(str(uuid.uuid4())), petition(pid))
            async with db_uow() as uow:
                collated = (
                    (await uow.session.execute(text("SELECT petition_id FROM cases ORDER BY petition_id")))
                    .scalars()
                    .all()
                )
                locked = await uow.cases.get_many(pids, for_update=True)  # in the order it locked
        finally:
            await engine.dispose()
    assert list(collated) != sorted(pids)  # the database's own order is not Python's here
    assert list(locked) == sorted(pids)
