"""The reports' store side (SQLite and PostgreSQL): the case repository and the answer book keep the
report columns (migration 0008) as a case really moves; the migration's backfill gives the same
columns; the calendar table follows the calendar; the office-hours and calendar-range edges of
counting working days in SQL."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import date, datetime, timedelta, timezone
from importlib import import_module
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.calendar_table import sync_calendar
from connectors.db.report_queries import SqlReportQueries
from connectors.db.tables import CalendarDayRow, CaseRow, FeedbackRow, StatusHistoryRow
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.deadlines.config import load_policy
from gateway.domain.answer import Answer
from gateway.domain.case import Case
from gateway.domain.petition import Address, Channel, Feedback, Kind, Petition, Sender, SenderType
from gateway.domain.working_days import WorkingCalendar
from gateway.reports.errors import ReportUnavailable
from gateway.reports.period import parse_period
from gateway.reports.provinces import load_provinces
from gateway.reports.service import Reports
from gateway.routing_config import load_config
from tests.support.report_seed import make_seed, write_seed

pytestmark = pytest.mark.integration

VN = timezone(timedelta(hours=7))
REPORT_COLUMNS = (
    "channel", "province_code", "publish_consent", "accepted_at", "first_answered_at", "closed_at",
)
PDF = b"%PDF-1.7 answer"


def petition(pid: str, at: datetime, *, province: str | None = "79", consent: bool = True) -> Petition:
    return Petition(
        petition_id=pid,
        kind=Kind.KIEN_NGHI,
        sender=Sender(
            type=SenderType.DOANH_NGHIEP,
            full_name="Công ty TNHH Hòa Bình",
            address=Address("Số 5 Nguyễn Huệ", province_code=province) if province else None,
        ),
        title="Kiến nghị về bảo hiểm thất nghiệp",
        content="Nội dung.",
        channel=Channel.APP,
        received_at=at,
        priority=1,
        publish_consent=consent,
        field_code="VIEC_LAM",
    )


def answer(pid: str, number: int, unit: str, at: datetime) -> Answer:
    return Answer(
        f"TL-{number}", pid, unit, "Trả lời.", at, "Nguyễn Văn An", "Cục trưởng", False, "tl.pdf", PDF,
        hashlib.sha256(PDF).hexdigest(),
    )


def reports(engine: AsyncEngine, calendar: WorkingCalendar, now: datetime) -> Reports:
    return Reports(SqlReportQueries(engine), calendar, load_config().routing, load_provinces(), lambda: now)


async def columns(engine: AsyncEngine, pid: str) -> dict[str, Any]:
    query = sa.select(*(getattr(CaseRow, c) for c in REPORT_COLUMNS)).where(CaseRow.petition_id == pid)
    async with engine.connect() as connection:
        row = (await connection.execute(query)).one()
    return dict(zip(REPORT_COLUMNS, row, strict=True))


async def test_a_case_through_the_repository_keeps_its_report_columns(
    db_migrated: AsyncEngine, db_uow: SqlUnitOfWorkFactory
) -> None:
    t0 = datetime(2026, 10, 5, 9, 0, tzinfo=VN)  # a Monday
    pid = "COL-2026-1"
    case = Case.arrive(pid, "CVL", "f" * 64, t0)
    async with db_uow() as uow:
        await uow.cases.add(case, petition(pid, t0))
        await uow.commit()
    got = await columns(db_migrated, pid)
    assert (got["channel"], got["province_code"], got["publish_consent"]) == ("APP", "79", True)
    assert got["accepted_at"] == t0 and got["closed_at"] is None

    moves = [t0 + timedelta(hours=h) for h in (1, 2, 3, 26, 50)]
    case.assign(moves[0])
    case.note("CVL", moves[1], "Đang xác minh")  # a second 04 at the same unit: not a transfer
    case.reassign("CVL", "VBHXH", moves[2], "Thuộc lĩnh vực bảo hiểm xã hội")
    case.claim("VBHXH", moves[3])
    async with db_uow() as uow:
        await uow.cases.save(case)
        # answered twice, the later one stored first: the first answer is the earlier one
        await uow.answers.add(answer(pid, 2, "VBHXH", moves[4] + timedelta(days=3)))
        await uow.answers.add(answer(pid, 1, "VBHXH", moves[4]))
        await uow.commit()
    async with db_uow() as uow:
        rated = moves[4] + timedelta(days=1)
        await uow.updates.add_feedback(Feedback(pid, "TL-1", 5, rated, "Cảm ơn"), message_id="fb-1")
        unknown = Feedback(pid, "TL-9", 2, rated, None)  # about an answer the store does not have
        await uow.updates.add_feedback(unknown, message_id="fb-2")
        await uow.commit()
    case.complete("VBHXH", moves[4])
    async with db_uow() as uow:
        await uow.cases.save(case)
        await uow.commit()
    got = await columns(db_migrated, pid)
    assert got["accepted_at"] == t0  # the first 03 stays
    assert got["first_answered_at"] == moves[4] and got["closed_at"] == moves[4]

    calendar = load_policy(None).calendar
    report = await reports(db_migrated, calendar, datetime(2026, 11, 20, tzinfo=VN)).build(
        parse_period("2026-10")
    )
    assert report.movements.transfers_between_units == 1
    row = {r.code: r for r in report.answered}["VBHXH"]
    # accepted Mon 5/10 09:00, answered Wed 7/10: two working days
    assert (row.answered, row.no_deadline, row.median_days) == (1, 1, 2.0)
    assert report.backlog_total == 0
    # feedback is counted by the unit that answered (an unknown answer: no unit) and the field
    by_unit = {r.code: (r.feedback, r.mean_rating) for r in report.satisfaction_by_unit if r.feedback}
    assert by_unit == {"VBHXH": (1, 5.0), None: (1, 2.0)}
    assert {r.code: r.feedback for r in report.satisfaction_by_field if r.feedback} == {"VIEC_LAM": 2}
    assert (report.satisfaction_total.feedback, report.satisfaction_total.satisfied_share) == (2, 0.5)


def _backfill(connection: Connection) -> None:
    with Operations.context(MigrationContext.configure(connection)):
        import_module("connectors.db.migrations.versions.0008_report_columns")._backfill()


async def test_the_migration_backfills_what_the_gateway_writes(db_migrated: AsyncEngine) -> None:
    """The columns as the gateway writes them, cleared to what a store at 0007 holds, then filled
    by 0008's backfill: the same values."""
    await write_seed(db_migrated, make_seed(count=60, seed=8))
    feedback = sa.select(FeedbackRow.message_id, FeedbackRow.unit_code, FeedbackRow.field_code).order_by(
        FeedbackRow.message_id
    )
    history = StatusHistoryRow
    moves = sa.select(history.petition_id, history.seq, history.moved_from).order_by(
        history.petition_id, history.seq
    )
    query = sa.select(CaseRow.petition_id, *(getattr(CaseRow, c) for c in REPORT_COLUMNS)).order_by(
        CaseRow.petition_id
    )
    async with db_migrated.connect() as connection:
        written = (await connection.execute(query)).all()
        rated = (await connection.execute(feedback)).all()
        moved = (await connection.execute(moves)).all()
    assert any(r.closed_at is not None for r in written) and any(r.province_code is None for r in written)
    assert rated and all(r.unit_code for r in rated) and any(r.moved_from for r in moved)
    assert any(r.first_answered_at is not None for r in written)
    async with db_migrated.begin() as connection:
        await connection.execute(sa.update(CaseRow).values(dict.fromkeys(REPORT_COLUMNS)))
        await connection.execute(sa.update(FeedbackRow).values(unit_code=None, field_code=None))
        await connection.execute(sa.update(StatusHistoryRow).values(moved_from=None))
        assert (await connection.execute(query)).all() != written
        await connection.run_sync(_backfill)
    async with db_migrated.connect() as connection:
        assert (await connection.execute(query)).all() == written
        assert (await connection.execute(feedback)).all() == rated
        assert (await connection.execute(moves)).all() == moved


async def test_the_calendar_table_follows_the_calendar(
    db_migrated: AsyncEngine, db_uow: SqlUnitOfWorkFactory
) -> None:
    """A day made off in the calendar counts as off in the next report, after a refresh."""
    t0 = datetime(2026, 10, 5, 9, 0, tzinfo=VN)  # Monday
    case = Case.arrive("CAL-1", "CVL", "f" * 64, t0)
    async with db_uow() as uow:
        await uow.cases.add(case, petition("CAL-1", t0))
        await uow.answers.add(answer("CAL-1", 1, "CVL", t0 + timedelta(days=4)))  # Friday
        await uow.commit()
    now = datetime(2026, 11, 20, tzinfo=VN)
    plain = WorkingCalendar(days_off={}, worked=frozenset(), first=date(2026, 1, 1), last=date(2026, 12, 31))
    first = reports(db_migrated, plain, now)
    assert await first.prepare() is True and await first.prepare() is False
    assert (await first.build(parse_period("2026-10"))).answered_total.median_days == 4.0
    async with db_migrated.connect() as connection:
        count = (await connection.execute(sa.select(sa.func.count()).select_from(CalendarDayRow))).scalar()
    assert count == 365

    holiday = WorkingCalendar(
        days_off={date(2026, 10, 7): "Nghỉ"}, worked=frozenset(), first=plain.first, last=plain.last
    )
    second = reports(db_migrated, holiday, now)
    assert (await second.build(parse_period("2026-10"))).answered_total.median_days == 3.0
    assert await second.prepare() is False  # the first report refreshed it already


async def test_gateways_starting_together_write_the_calendar_once(db_migrated: AsyncEngine) -> None:
    calendar = WorkingCalendar(
        days_off={}, worked=frozenset(), first=date(2026, 1, 1), last=date(2027, 12, 31)
    )
    written = await asyncio.gather(*(sync_calendar(db_migrated, calendar) for _ in range(3)))
    assert sorted(written) == [False, False, True]
    async with db_migrated.connect() as connection:
        count = (await connection.execute(sa.select(sa.func.count()).select_from(CalendarDayRow))).scalar()
    assert count == 730


async def test_office_hours_to_the_second_and_dates_outside_the_calendar(
    db_migrated: AsyncEngine, db_uow: SqlUnitOfWorkFactory
) -> None:
    """Accepted at 16:59:59.7 a working day counts as received that day; at 17:00:00 the next one
    (PostgreSQL's epoch is truncated, not rounded). 00:30 Vietnam time is still the previous day in
    UTC: the Vietnam date counts."""
    monday = datetime(2026, 10, 5, tzinfo=VN)
    accepted = {
        "OH-1": monday.replace(hour=16, minute=59, second=59, microsecond=700_000),
        "OH-2": monday.replace(hour=17),
        "OH-3": monday.replace(hour=0, minute=30),
    }
    for pid, at in accepted.items():
        case = Case.arrive(pid, "CVL", "f" * 64, at)
        async with db_uow() as uow:
            await uow.cases.add(case, petition(pid, at))
            await uow.answers.add(answer(pid, 1, "CVL", monday + timedelta(days=1, hours=10)))  # Tuesday
            await uow.commit()
    calendar = load_policy(None).calendar
    report = await reports(db_migrated, calendar, datetime(2026, 11, 20, tzinfo=VN)).build(
        parse_period("2026-10")
    )
    # days: 1 (OH-1), 0 (OH-2: received Tuesday, answered Tuesday), 1 (OH-3)
    assert (report.answered_total.answered, report.answered_total.mean_days) == (3, pytest.approx(2 / 3))
    assert report.answered_total.median_days == 1.0

    narrow = WorkingCalendar(
        days_off={}, worked=frozenset(), first=date(2026, 10, 6), last=date(2026, 12, 31)
    )
    with pytest.raises(ReportUnavailable) as caught:
        await reports(db_migrated, narrow, datetime(2026, 11, 20, tzinfo=VN)).build(parse_period("2026-10"))
    assert "config/calendar.yaml" in caught.value.message_vi
