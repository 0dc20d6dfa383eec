"""Ten tasks change one case at once: every committed change is in the history, none is lost.

Each task reads the case, yields so the others read too, changes it (claim or reassign) and saves.
With `for_update=True` the reads are serialised and all ten succeed; without it PostgreSQL lets
them read the same state, and all but the first writer must get StoreConflict — never a silent loss.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.case import Case, Status
from gateway.domain.petition import Channel, Kind, Petition, Sender, SenderType
from gateway.ports import StoreConflict

pytestmark = pytest.mark.integration

T0 = datetime(2025, 9, 2, 1, 0, tzinfo=UTC)
UNIT = "000.00.12.G07"
PID = "PAKN-RACE-1"
TASKS = 10


async def assigned_case(db_uow: SqlUnitOfWorkFactory) -> None:
    petition = Petition(
        PID,
        Kind.KIEN_NGHI,
        Sender(SenderType.CU_TRI, "Cử tri tỉnh Nghệ An"),
        "Kiến nghị về chính sách người có công",
        "Nội dung",
        Channel.POST,
        T0,
        1,
        True,
    )
    case = Case.arrive(PID, UNIT, petition.fingerprint(), T0)
    case.assign(T0)
    async with db_uow() as uow:
        await uow.cases.add(case, petition)
        await uow.commit()


@pytest.mark.parametrize("for_update", [True, False], ids=["for-update", "plain-read"])
async def test_concurrent_changes_to_one_case_lose_nothing(
    db_uow: SqlUnitOfWorkFactory, for_update: bool
) -> None:
    await assigned_case(db_uow)

    async def change(n: int) -> str | None:
        at = T0 + timedelta(minutes=n)
        try:
            async with db_uow() as uow:
                case = await uow.cases.get(PID, for_update=for_update)
                assert case is not None
                await asyncio.sleep(0.01)
                if case.status is Status.ASSIGNED and n % 2 == 0:
                    case.claim(UNIT, at)
                    mark = "claim"
                else:
                    case.reassign(UNIT, UNIT, at, f"task {n}")
                    mark = f"task {n}"
                await uow.cases.save(case)
                await uow.commit()
                return mark
        except StoreConflict:
            return None

    outcomes = await asyncio.gather(*(change(n) for n in range(TASKS)))
    won = [m for m in outcomes if m is not None]

    async with db_uow() as uow:
        case = await uow.cases.get(PID)
        status = (
            await uow.session.execute(text("SELECT status FROM cases WHERE petition_id = :p"), {"p": PID})
        ).scalar_one()
    assert case is not None
    added = case.history[3:]
    assert len(case.history) == 3 + len(won), "a committed change is missing from the history"
    assert [h.seq for h in case.history] == list(range(1, len(case.history) + 1))
    notes = [h.description.rsplit(": ", 1)[-1] for h in added if h.status is Status.ASSIGNED]
    assert sorted(notes) == sorted(m for m in won if m != "claim")
    assert sum(h.status is Status.PROCESSING for h in added) == won.count("claim")
    assert status == case.status.value
    assert won, "no task got through"
    if for_update:
        assert len(won) == TASKS
