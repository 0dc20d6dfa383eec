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

from connectors.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from gateway.domain.reply import ReplyKind, UnitReply
from gateway.inbound.delivery import StoreOutboxSource
from gateway.inbound.intake import Intake
from gateway.outbound.errors import UnknownCase
from gateway.outbound.replies import Replies, ReplyResult
from gateway.routing_config import load_config
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


async def test_replies_arriving_together_share_one_transaction(db_uow: SqlUnitOfWorkFactory) -> None:
    await accepted_cases(db_uow, confirm=True)
    counted = Counted(db_uow)
    replies = Replies(uow=counted, routing=load_config().routing, documents=NoLetters(), clock=lambda: WHEN)

    results: Sequence[ReplyResult] = await asyncio.gather(*(replies.handle(claim(pid)) for pid in PIDS))

    assert counted.opened == 1  # all twelve were waiting when the writer took its first group
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
