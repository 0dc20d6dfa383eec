"""Deadlines in the real store, on SQLite and PostgreSQL: the due date a case gets at acceptance (the
portal's DueAt wins), the backfill of cases stored before deadlines, and reminders committed to the
outbox once per (case, threshold) — however often the watch runs and however many run at once."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import datetime

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.engine import make_sessions
from connectors.db.migrate import upgrade
from connectors.db.tables import CaseReminderRow, CaseRow
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.deadlines.config import load_policy
from gateway.deadlines.reminders import DeadlineWatch
from gateway.domain.deadlines import Threshold
from gateway.domain.petition import Kind, PetitionUpdate, UpdateAction
from gateway.domain.working_days import VIETNAM
from gateway.inbound.intake import Intake
from gateway.routing_config import load_config
from schemas import schema_dir
from tests.unit.samples import header, petition

pytestmark = pytest.mark.integration

POLICY = load_policy()
ROUTING = load_config().routing
ACCEPTED = datetime(2026, 2, 12, 10, 0, tzinfo=VIETNAM)  # Thursday before Tết Bính Ngọ
# 10 working days (KIEN_NGHI) from then: Fri 13/2, Mon 23 - Fri 27/2, Mon 2 - Thu 5/3/2026
DUE = datetime(2026, 3, 5, 23, 59, 59, tzinfo=VIETNAM)
REMINDER = Draft202012Validator(
    json.loads((schema_dir() / "case-reminder-1.schema.json").read_text(encoding="utf-8")),
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def intake(uow: SqlUnitOfWorkFactory, clock: Clock) -> Intake:
    return Intake(uow=uow, routing=ROUTING, clock=clock, deadlines=POLICY)


def watch(uow: SqlUnitOfWorkFactory, clock: Clock) -> DeadlineWatch:
    thresholds = [Threshold.before(2), Threshold.overdue()]
    return DeadlineWatch(uow, POLICY, ROUTING, thresholds, clock, batch=7)


async def due_columns(engine: AsyncEngine) -> dict[str, tuple[datetime | None, str | None]]:
    async with engine.connect() as c:
        rows = (await c.execute(sa.select(CaseRow.petition_id, CaseRow.due_at, CaseRow.due_source))).all()
    return {pid: (due, source) for pid, due, source in rows}


async def reminders(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as c:
        rows = await c.execute(sa.select(CaseReminderRow.petition_id, CaseReminderRow.threshold))
        return sorted((pid, t) for pid, t in rows.all())


async def reminder_messages(uow: SqlUnitOfWorkFactory) -> list[dict[str, object]]:
    async with uow() as u:
        rows = [m for m in await u.outbox.pending(10_000) if m.type == "pakn.case.reminder"]
    docs = []
    for m in rows:
        doc = json.loads(m.body)
        REMINDER.validate(doc)
        assert m.routing_key == f"unit.{doc['unit']['code']}.case.reminder"  # type: ignore[index]
        assert (m.message_id, m.correlation_id) == (doc["message_id"], doc["petition_id"])
        docs.append(doc)
    return docs


async def test_due_date_at_acceptance_portal_due_at_wins(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine
) -> None:
    clock = Clock(ACCEPTED)
    portal_due = datetime(2026, 2, 20, 17, 0, tzinfo=VIETNAM)
    service = intake(db_uow, clock)
    await service.submit_petition(header("m-1"), petition("P-CALENDAR", kind=Kind.KIEN_NGHI))
    await service.submit_petition(header("m-2"), dataclasses.replace(petition("P-PORTAL"), due_at=portal_due))
    await service.submit_petition(header("m-3"), petition("P-NONE", kind=Kind.DBQH))
    # after office hours on Thu 12/2: received Fri 13/2, so the 10th working day is Fri 6/3
    clock.now = datetime(2026, 2, 12, 17, 30, tzinfo=VIETNAM)
    await service.submit_petition(header("m-4"), petition("P-LATE", kind=Kind.PHAN_ANH))

    assert await due_columns(db_migrated) == {
        "P-CALENDAR": (DUE, "calendar"),
        "P-PORTAL": (portal_due, "portal"),
        "P-NONE": (None, "none"),
        "P-LATE": (datetime(2026, 3, 6, 23, 59, 59, tzinfo=VIETNAM), "calendar"),
    }


async def test_reminders_once_per_case_and_threshold(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine
) -> None:
    clock = Clock(ACCEPTED)
    service = intake(db_uow, clock)
    due_soon = [f"P-{n:02d}" for n in range(12)]
    for n, pid in enumerate(due_soon):
        await service.submit_petition(header(f"m-{n}"), petition(pid, kind=Kind.KIEN_NGHI))
    far = datetime(2026, 6, 30, 17, 0, tzinfo=VIETNAM)
    await service.submit_petition(header("m-far"), dataclasses.replace(petition("P-FAR"), due_at=far))
    await service.submit_petition(header("m-gone"), petition("P-GONE", kind=Kind.KIEN_NGHI))
    withdrawal = PetitionUpdate("P-GONE", UpdateAction.WITHDRAW, "Tôi rút đơn.", ACCEPTED)
    await service.submit_update(header("m-withdraw"), withdrawal)

    # Mon 2/3 10:00: three working days left (Tue 3, Wed 4, Thu 5/3): no reminder yet
    clock.now = datetime(2026, 3, 2, 10, 0, tzinfo=VIETNAM)
    assert (await watch(db_uow, clock).run_once()).reminded == 0
    # Tue 3/3: two left → `before:2` for each of the twelve, in batches of 7 (the watch loops)
    clock.now = datetime(2026, 3, 3, 10, 0, tzinfo=VIETNAM)
    first = watch(db_uow, clock)
    assert (await first.run_once()).reminded == 12  # in batches of 7: the round goes on until done
    assert (await first.run_once()).reminded == 0  # nothing left to send, however often it runs
    # Fri 6/3: overdue. Two gateway instances at once, twice each: still one per case
    clock.now = datetime(2026, 3, 6, 9, 0, tzinfo=VIETNAM)
    for _ in range(3):
        await asyncio.gather(watch(db_uow, clock).run_once(), watch(db_uow, clock).run_once())

    expected = sorted((pid, t) for pid in due_soon for t in ("before:2", "overdue"))
    assert await reminders(db_migrated) == expected  # not P-FAR (not due), not P-GONE (withdrawn)
    docs = await reminder_messages(db_uow)
    assert sorted((d["petition_id"], d["reminder"]["threshold"]) for d in docs) == expected  # type: ignore[index]
    sample = next(d for d in docs if d["petition_id"] == "P-00" and d["reminder"]["threshold"] == "before:2")  # type: ignore[index]
    assert sample["reminder"] == {
        "threshold": "before:2",
        "overdue": False,
        "due_at": DUE.isoformat(),
        "due_source": "calendar",
        "working_days_left": 2,
        "title": "Kiến nghị về cách tính lương hưu",
    }
    assert sample["unit"] == {"code": "VBHXH", "name": "Vụ Bảo hiểm xã hội"}
    late = next(d for d in docs if d["petition_id"] == "P-00" and d["reminder"]["threshold"] == "overdue")  # type: ignore[index]
    assert late["reminder"]["working_days_left"] == -1  # type: ignore[index]


async def test_a_case_overdue_unseen_gets_only_the_overdue_reminder(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine
) -> None:
    clock = Clock(ACCEPTED)
    await intake(db_uow, clock).submit_petition(header("m-1"), petition("P-1", kind=Kind.KIEN_NGHI))
    clock.now = datetime(2026, 3, 9, 9, 0, tzinfo=VIETNAM)  # the gateway was down all of the last week
    await watch(db_uow, clock).run_once()
    assert await reminders(db_migrated) == [("P-1", "overdue")]


async def test_cases_stored_before_deadlines_are_dated_by_the_gateway(db_engine: AsyncEngine) -> None:
    await upgrade(db_engine, "0006_log_segments")
    old = petition("P-OLD", kind=Kind.KIEN_NGHI)
    portal_due = datetime(2026, 2, 27, 17, 0, tzinfo=VIETNAM)
    rows = [("P-OLD", None), ("P-OLD-PORTAL", portal_due), ("P-OLD-DBQH", None)]
    async with db_engine.begin() as c:
        for pid, due in rows:
            kind = "DBQH" if pid.endswith("DBQH") else "KIEN_NGHI"
            await c.execute(
                sa.text(
                    "INSERT INTO cases (petition_id, kind, sender_type, field_code, unit_code, status,"
                    " fingerprint, title, petition_json, received_at, created_at, updated_at, due_at)"
                    " VALUES (:pid, :kind, 'CA_NHAN', NULL, 'VBHXH', '04', 'f', :title, '{}',"
                    " :at, :at, :at, :due)"
                ).bindparams(
                    sa.bindparam("at", type_=CaseRow.__table__.c.created_at.type),
                    sa.bindparam("due", type_=CaseRow.__table__.c.due_at.type),
                ),
                {"pid": pid, "kind": kind, "title": old.title, "at": ACCEPTED, "due": due},
            )
    await upgrade(db_engine)
    assert await due_columns(db_engine) == {
        "P-OLD": (None, None),  # the migration cannot count working days: it does not see the config
        "P-OLD-PORTAL": (portal_due, "portal"),
        "P-OLD-DBQH": (None, None),
    }
    uow = SqlUnitOfWorkFactory(make_sessions(db_engine))
    report = await watch(uow, Clock(datetime(2026, 2, 13, 9, 0, tzinfo=VIETNAM))).run_once()
    assert report.dated == 2
    assert await due_columns(db_engine) == {
        "P-OLD": (DUE, "calendar"),  # accepted (created_at) Thu 12/2 10:00, as above
        "P-OLD-PORTAL": (portal_due, "portal"),
        "P-OLD-DBQH": (None, "none"),
    }
    assert (await watch(uow, Clock(ACCEPTED)).backfill()) == 0


async def test_a_case_transferred_after_a_reminder_reminds_its_new_unit(
    db_uow: SqlUnitOfWorkFactory, db_migrated: AsyncEngine
) -> None:
    clock = Clock(ACCEPTED)
    await intake(db_uow, clock).submit_petition(header("m-1"), petition("P-MOVE", kind=Kind.KIEN_NGHI))
    clock.now = datetime(2026, 3, 3, 10, 0, tzinfo=VIETNAM)  # two working days left
    assert (await watch(db_uow, clock).run_once()).reminded == 1
    async with db_uow() as u:
        case = await u.cases.get("P-MOVE", for_update=True)
        assert case is not None
        old_unit = case.unit_code
        new_unit = next(code for code in ROUTING.units if code != old_unit)
        case.reassign(old_unit, new_unit, clock.now, "chuyển đúng thẩm quyền")
        await u.cases.save(case)
        await u.commit()
    assert (await watch(db_uow, clock).run_once()).reminded == 1  # the new unit is told as well
    assert (await watch(db_uow, clock).run_once()).reminded == 0  # once
    docs = await reminder_messages(db_uow)
    told = sorted((d["unit"]["code"], d["reminder"]["threshold"]) for d in docs)  # type: ignore[index]
    assert told == sorted([(old_unit, "before:2"), (new_unit, "before:2")])
    assert len({d["message_id"] for d in docs}) == 2


async def test_the_backfill_locks_its_cases_in_petition_id_order(db_engine: AsyncEngine) -> None:
    """Oldest first is not PetitionId order here; the backfill's UPDATEs (each a row lock) go in
    PetitionId order, as every transaction that locks several cases takes them."""
    await upgrade(db_engine, "0006_log_segments")
    rows = [
        ("P-C", datetime(2026, 2, 10, 9, 0, tzinfo=VIETNAM)),
        ("P-A", datetime(2026, 2, 11, 9, 0, tzinfo=VIETNAM)),
        ("P-B", datetime(2026, 2, 12, 9, 0, tzinfo=VIETNAM)),
    ]
    async with db_engine.begin() as c:
        for pid, at in rows:
            await c.execute(
                sa.text(
                    "INSERT INTO cases (petition_id, kind, sender_type, field_code, unit_code, status,"
                    " fingerprint, title, petition_json, received_at, created_at, updated_at)"
                    " VALUES (:pid, 'KIEN_NGHI', 'CA_NHAN', NULL, 'VBHXH', '04', 'f', 'Kiến nghị', '{}',"
                    " :at, :at, :at)"
                ).bindparams(sa.bindparam("at", type_=CaseRow.__table__.c.created_at.type)),
                {"pid": pid, "at": at},
            )
    await upgrade(db_engine)
    updated: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if statement.lstrip().startswith("UPDATE cases"):
            values = parameters.values() if isinstance(parameters, dict) else parameters  # type: ignore[union-attr]
            updated.extend(v for v in values if isinstance(v, str) and v.startswith("P-"))  # type: ignore[union-attr]

    sa.event.listen(db_engine.sync_engine, "before_cursor_execute", seen)
    try:
        dated = await watch(SqlUnitOfWorkFactory(make_sessions(db_engine)), Clock(ACCEPTED)).backfill()
    finally:
        sa.event.remove(db_engine.sync_engine, "before_cursor_execute", seen)
    assert dated == 3 and updated == ["P-A", "P-B", "P-C"]
