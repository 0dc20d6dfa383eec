"""The reports' reads (gateway.reports): every figure aggregated in SQL, working days included.

Periods are half-open instants [start, end). A case is *received* in a period by its `received_at`;
*answered* by its first answer (`cases.first_answered_at`); it is *open* at an instant when it was
received before it and not closed (`cases.closed_at`, the first 02, 06, 07 or 08) before it. What
reports group by are plain columns (migration 0008) of `cases`, and of `feedback` for satisfaction,
each query reading one covering index.

Working days come from the calendar table (connectors.db.calendar_table): the receipt day's running
count of working days is subtracted from the answer's (or the report instant's), so handling times
come back as a histogram — (unit, timeliness, days) → cases — from which mean, median and p90 are
exact. A case dated outside the calendar gets `days = NULL`, which the report refuses (never a
case silently left out). The receipt day follows WorkingCalendar.receipt_day: the acceptance's day
if it is a working day and the clock is before the office's closing time, else the next working
day, whose running count is one more.

Every call is a read-only transaction of its own (engine.read_only: never SQLite's write lock),
except `prepare_calendar`, which rewrites the calendar table when the calendar changed.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import Label

from connectors.db.calendar_table import day_number, second_of_day, sync_calendar
from connectors.db.column_types import UtcDateTime
from connectors.db.engine import make_sessions, read_only
from connectors.db.errors import map_db_errors
from connectors.db.tables import CalendarDayRow, CaseRow, FeedbackRow, StatusHistoryRow
from gateway.domain.case import Status
from gateway.domain.report_data import (
    SATISFIED_FROM,
    BacklogGroup,
    Dimension,
    GroupCount,
    HandlingGroup,
    Movements,
    RatingCell,
    Timeliness,
)
from gateway.domain.working_days import WorkingCalendar

KEYS: dict[Dimension, SQLColumnExpression[Any]] = {
    Dimension.KIND: CaseRow.kind,
    Dimension.FIELD: CaseRow.field_code,
    Dimension.UNIT: CaseRow.unit_code,
    Dimension.SENDER_TYPE: CaseRow.sender_type,
    Dimension.CHANNEL: CaseRow.channel,
    Dimension.PROVINCE: CaseRow.province_code,
}


def _at(moment: datetime) -> ColumnElement[datetime]:
    return literal(moment, UtcDateTime())


def _not_below_zero(value: ColumnElement[int]) -> ColumnElement[int]:
    return case((value < 0, 0), else_=value)


class SqlReportQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions: async_sessionmaker[AsyncSession] = make_sessions(read_only(engine))
        self._dialect = engine.dialect.name

    async def prepare_calendar(self, calendar: WorkingCalendar) -> bool:
        return await sync_calendar(self._engine, calendar)

    async def received(self, dimension: Dimension, start: datetime, end: datetime) -> list[GroupCount]:
        key: Label[Any] = KEYS[dimension].label("key")
        statement = (
            select(key, func.count().label("n"))
            .where(CaseRow.received_at >= _at(start), CaseRow.received_at < _at(end))
            .group_by(key)
        )
        rows = await self._all(statement)
        return [GroupCount(None if r.key is None else str(r.key), int(r.n)) for r in rows]

    def _receipt_index(
        self, started: ColumnElement[Any], day: type[CalendarDayRow], office_close: time
    ) -> ColumnElement[int]:
        """The running working-day count of the receipt day of a case started at `started`,
        `day` being the calendar row of `started`'s own date."""
        close = office_close.hour * 3600 + office_close.minute * 60 + office_close.second
        in_hours = and_(day.working.is_(True), second_of_day(self._dialect, started) < close)
        index: ColumnElement[int] = day.working_index + case((in_hours, 0), else_=1)
        return index

    async def answered(self, start: datetime, end: datetime, office_close: time) -> list[HandlingGroup]:
        started = func.coalesce(CaseRow.accepted_at, CaseRow.received_at)
        begun, answered = aliased(CalendarDayRow), aliased(CalendarDayRow)
        known = and_(begun.day_number.is_not(None), answered.day_number.is_not(None))
        days_value = answered.working_index - self._receipt_index(started, begun, office_close)
        days = case((known, _not_below_zero(days_value)), else_=None).label("days")
        timeliness = case(
            (CaseRow.due_at.is_(None), literal(Timeliness.NO_DEADLINE.value)),
            (CaseRow.first_answered_at <= CaseRow.due_at, literal(Timeliness.ON_TIME.value)),
            else_=literal(Timeliness.LATE.value),
        ).label("timeliness")
        per_case = (
            select(CaseRow.unit_code, timeliness, days)
            .outerjoin(begun, begun.day_number == day_number(self._dialect, started))
            .outerjoin(
                answered,
                answered.day_number == day_number(self._dialect, CaseRow.first_answered_at),
            )
            .where(CaseRow.first_answered_at >= _at(start), CaseRow.first_answered_at < _at(end))
            .subquery()
        )
        # grouped outside: PostgreSQL would not match bound parameters inside a GROUP BY expression
        columns = (per_case.c.unit_code, per_case.c.timeliness, per_case.c.days)
        statement = select(*columns, func.count().label("n")).group_by(*columns)
        return [
            HandlingGroup(r.unit_code, Timeliness(r.timeliness), _int(r.days), int(r.n))
            for r in await self._all(statement)
        ]

    async def open_at(self, moment: datetime, office_close: time) -> list[BacklogGroup]:
        at = _at(moment)
        # accepted before the instant, or (not yet accepted then) counted from its arrival
        started = case((CaseRow.accepted_at < at, CaseRow.accepted_at), else_=CaseRow.received_at)
        begun = aliased(CalendarDayRow)
        today = (
            select(CalendarDayRow.working_index)
            .where(CalendarDayRow.day_number == day_number(self._dialect, at))
            .scalar_subquery()
        )
        age_value = today - self._receipt_index(started, begun, office_close)
        age = case(
            (and_(begun.day_number.is_not(None), today.is_not(None)), _not_below_zero(age_value)),
            else_=None,
        ).label("age")
        overdue = case((CaseRow.due_at < at, 1), else_=0).label("overdue")
        per_case = (
            select(age, overdue)
            .outerjoin(begun, begun.day_number == day_number(self._dialect, started))
            .where(CaseRow.received_at < at, or_(CaseRow.closed_at.is_(None), CaseRow.closed_at >= at))
            .subquery()
        )
        columns = (per_case.c.age, per_case.c.overdue)
        statement = select(*columns, func.count().label("n")).group_by(*columns)
        return [BacklogGroup(_int(r.age), bool(r.overdue), int(r.n)) for r in await self._all(statement)]

    async def movements(self, start: datetime, end: datetime) -> Movements:
        """A transfer between units is a 04 that moved the case (`moved_from` set: a note at 04
        repeats the holder's 04 and is no transfer); 07 and 08 are each a status of their own."""
        in_period = and_(StatusHistoryRow.changed_at >= _at(start), StatusHistoryRow.changed_at < _at(end))
        moved = and_(
            StatusHistoryRow.status == Status.ASSIGNED.value, StatusHistoryRow.moved_from.is_not(None)
        )
        kinds = (Status.ASSIGNED.value, Status.TRANSFERRED.value, Status.WITHDRAWN.value)
        statement = (
            select(StatusHistoryRow.status, func.count().label("n"))
            .where(StatusHistoryRow.status.in_(kinds), in_period)
            .where(or_(StatusHistoryRow.status != Status.ASSIGNED.value, moved))
            .group_by(StatusHistoryRow.status)
        )
        counts = {r.status: int(r.n) for r in await self._all(statement)}
        return Movements(
            counts.get(Status.ASSIGNED.value, 0),
            counts.get(Status.TRANSFERRED.value, 0),
            counts.get(Status.WITHDRAWN.value, 0),
        )

    async def ratings(self, start: datetime, end: datetime) -> list[RatingCell]:
        """Feedback given within the period, by the answering unit and the case's field (copied
        onto each feedback row when it was stored)."""
        statement = (
            select(
                FeedbackRow.unit_code,
                FeedbackRow.field_code,
                func.count().label("n"),
                func.coalesce(func.sum(FeedbackRow.rating), 0).label("total"),
                func.count(case((FeedbackRow.rating >= SATISFIED_FROM, 1))).label("satisfied"),
            )
            .where(FeedbackRow.at >= _at(start), FeedbackRow.at < _at(end))
            .group_by(FeedbackRow.unit_code, FeedbackRow.field_code)
        )
        return [
            RatingCell(r.unit_code, r.field_code, int(r.n), int(r.total), int(r.satisfied))
            for r in await self._all(statement)
        ]

    async def _all(self, statement: Select[*tuple[Any, ...]]) -> list[Any]:
        with map_db_errors():
            async with self._sessions() as session:
                return list((await session.execute(statement)).all())


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
