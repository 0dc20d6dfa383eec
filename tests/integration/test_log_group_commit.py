"""The message log's group commit: concurrent entries share transactions, the chain stays one
chain in the callers' order, each caller returns only after its own entry committed, and a bad
entry fails its own caller alone."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from connectors.db.message_log_store import verify_chain
from connectors.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from gateway.domain.exchange import LogEntry
from gateway.inbound.log_group_commit import LogGroupCommit
from gateway.inbound.message_log_hook import MessageLogHook
from gateway.ports import StoreError

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 2, 3, 4, tzinfo=UTC)


def entry(n: int) -> LogEntry:
    return LogEntry(
        direction="in",
        peer="000.00.00.G22",
        operation="SubmitPetition",
        raw=f"<PetitionMessage><Title>Kiến nghị số {n} về trợ cấp</Title></PetitionMessage>".encode(),
        signature_verdict="valid",
        at=T0 + timedelta(milliseconds=n),
        message_id=f"m-{n}",
        petition_id=f"PAKN-2026-{n:06d}",
    )


class CountingUow:
    """The real unit of work, counting how many transactions were opened."""

    def __init__(self, inner: SqlUnitOfWorkFactory) -> None:
        self.inner = inner
        self.opened = 0

    def __call__(self) -> SqlUnitOfWork:
        self.opened += 1
        return self.inner()


async def stored(db_uow: SqlUnitOfWorkFactory) -> list[tuple[int, str, str]]:
    async with db_uow() as uow:
        rows = await uow.session.execute(
            text("SELECT id, message_id, petition_id FROM message_log ORDER BY id")
        )
        return [tuple(r) for r in rows.all()]


async def test_concurrent_entries_share_commits_and_keep_one_chain(db_uow: SqlUnitOfWorkFactory) -> None:
    counting = CountingUow(db_uow)
    group = LogGroupCommit(counting, max_batch=16)
    ids = await asyncio.gather(*(group.append(entry(n)) for n in range(40)))
    assert len(set(ids)) == 40
    assert counting.opened <= 40 // 4  # all queued before the writer runs: 3 transactions of 16, 16, 8
    rows = await stored(db_uow)
    # in the order they were asked for, each caller told its own row's id
    assert [r[1] for r in rows] == [f"m-{n}" for n in range(40)]
    assert [r[0] for r in rows] == ids
    async with db_uow() as uow:
        assert await verify_chain(uow) == (True, None)


async def test_a_caller_returns_only_once_its_entry_is_committed(db_uow: SqlUnitOfWorkFactory) -> None:
    hook = MessageLogHook(db_uow, lambda: T0, group=LogGroupCommit(db_uow))
    entry_id = await hook.record(
        direction="out",
        peer="000.00.00.G22",
        operation="SubmitPetition",
        raw=b"<Receipt/>",
        verdict="signed",
        message_id="m-receipt",
        outcome="accepted",
        petition_id="PAKN-2026-000001",
    )
    # read on another connection: committed, not merely written in an open transaction
    assert [(r[0], r[1]) for r in await stored(db_uow)] == [(entry_id, "m-receipt")]


async def test_appends_interleaved_with_single_transactions_keep_the_chain(
    db_uow: SqlUnitOfWorkFactory,
) -> None:
    group = LogGroupCommit(db_uow, max_batch=8)

    async def alone(n: int) -> int:
        async with db_uow() as uow:
            entry_id = await uow.message_log.append(entry(n))
            await uow.commit()
            return entry_id

    grouped = [group.append(entry(n)) for n in range(20)]
    single = [alone(n) for n in range(100, 110)]
    ids = await asyncio.gather(*grouped, *single)
    assert len(set(ids)) == 30
    async with db_uow() as uow:
        assert await verify_chain(uow) == (True, None)


async def test_a_bad_entry_fails_its_own_caller_only(db_uow: SqlUnitOfWorkFactory) -> None:
    group = LogGroupCommit(db_uow, max_batch=10)
    bad = replace(entry(5), peer=None)  # type: ignore[arg-type]  # NOT NULL: its batch fails as a whole
    outcomes = await asyncio.gather(
        *(group.append(bad if n == 5 else entry(n)) for n in range(10)), return_exceptions=True
    )
    assert isinstance(outcomes[5], StoreError)
    assert all(isinstance(o, int) for i, o in enumerate(outcomes) if i != 5)
    assert [r[1] for r in await stored(db_uow)] == [f"m-{n}" for n in range(10) if n != 5]
    async with db_uow() as uow:
        assert await verify_chain(uow) == (True, None)


async def test_one_entry_per_batch_is_a_transaction_each(db_uow: SqlUnitOfWorkFactory) -> None:
    counting = CountingUow(db_uow)
    group = LogGroupCommit(counting, max_batch=1)
    await asyncio.gather(*(group.append(entry(n)) for n in range(6)))
    assert counting.opened == 6
    assert len(await stored(db_uow)) == 6


async def test_a_request_and_its_response_are_kept_together_and_in_order(
    db_uow: SqlUnitOfWorkFactory,
) -> None:
    """Pairs kept while single entries arrive: each pair adjacent in the chain, request first, and
    one commit for a pair (the national sender's wire log waited for two in a row before)."""
    counting = CountingUow(db_uow)
    hook = MessageLogHook(counting, lambda: T0, group=LogGroupCommit(counting, max_batch=64))
    pair = await hook.keep([entry(0), entry(1)])
    assert counting.opened == 1 and pair[1] == pair[0] + 1

    pairs = [hook.keep([entry(n), entry(n + 1)]) for n in range(10, 30, 2)]
    singles = [hook.record(**fields(n)) for n in range(100, 110)]
    await asyncio.gather(*(x for both in zip(pairs, singles, strict=True) for x in both))
    rows = await stored(db_uow)
    position = {message_id: i for i, (_, message_id, _) in enumerate(rows)}
    for n in range(10, 30, 2):
        assert position[f"m-{n + 1}"] == position[f"m-{n}"] + 1
    async with db_uow() as uow:
        assert await verify_chain(uow) == (True, None)


async def test_one_bad_entry_of_a_pair_fails_the_caller_and_keeps_the_other(
    db_uow: SqlUnitOfWorkFactory,
) -> None:
    hook = MessageLogHook(db_uow, lambda: T0, group=LogGroupCommit(db_uow))
    bad = replace(entry(2), peer=None)  # type: ignore[arg-type]  # NOT NULL
    with pytest.raises(StoreError):
        await hook.keep([entry(1), bad])
    assert [r[1] for r in await stored(db_uow)] == ["m-1"]


def fields(n: int) -> dict[str, Any]:
    e = entry(n)
    return {
        "direction": e.direction,
        "peer": e.peer,
        "operation": e.operation,
        "raw": e.raw,
        "verdict": e.signature_verdict,
        "message_id": e.message_id,
        "petition_id": e.petition_id,
    }


def test_max_batch_must_be_positive(db_uow: SqlUnitOfWorkFactory) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        LogGroupCommit(db_uow, max_batch=0)
