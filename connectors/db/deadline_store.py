"""Case deadlines in the store (gateway.ports.DeadlineBook): the backfill's reads and writes, the cases a
reminder threshold has reached (the `ix_cases_due_at` range, open statuses, no reminder yet), and
the reminders sent, whose unique (petition_id, threshold) key refuses a second one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.column_types import UtcDateTime
from connectors.db.errors import map_db_errors
from connectors.db.tables import CaseReminderRow, CaseRow
from gateway.domain.deadlines import Deadline, DueCase, SentReminder, UndatedCase
from gateway.domain.petition import Kind
from gateway.domain.search import CLOSED_STATUSES


class SqlDeadlineBook:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def undated(self, limit: int) -> list[UndatedCase]:
        query = (
            select(CaseRow.petition_id, CaseRow.kind, CaseRow.created_at, CaseRow.due_at)
            .where(CaseRow.due_source.is_(None))
            .order_by(CaseRow.created_at, CaseRow.petition_id)
            .limit(limit)
        )
        with map_db_errors():
            rows = (await self._session.execute(query)).all()
        return [UndatedCase(pid, Kind(kind), created, due) for pid, kind, created, due in rows]

    async def set_deadline(self, petition_id: str, deadline: Deadline) -> None:
        values = {"due_at": deadline.due_at, "due_source": deadline.source.value}
        with map_db_errors():
            await self._session.execute(
                update(CaseRow).where(CaseRow.petition_id == petition_id).values(values),
                execution_options={"synchronize_session": False},
            )

    async def reached(
        self, threshold: str, due_from: datetime | None, due_until: datetime, limit: int
    ) -> list[DueCase]:
        reminded = exists().where(
            CaseReminderRow.petition_id == CaseRow.petition_id,
            CaseReminderRow.threshold == threshold,
            CaseReminderRow.unit_code == CaseRow.unit_code,  # a transferred case reminds its new unit
        )
        query = select(
            CaseRow.petition_id, CaseRow.unit_code, CaseRow.title, CaseRow.due_at, CaseRow.due_source
        ).where(
            CaseRow.due_at.is_not(None),
            CaseRow.due_at < literal(due_until, UtcDateTime()),
            CaseRow.status.not_in(CLOSED_STATUSES),
            ~reminded,
        )
        if due_from is not None:
            query = query.where(CaseRow.due_at >= literal(due_from, UtcDateTime()))
        query = query.order_by(CaseRow.due_at, CaseRow.petition_id).limit(limit)
        with map_db_errors():
            rows = (await self._session.execute(query)).all()
        # a due date without a source can only be the portal's DueAt (copied by migration 0005)
        return [
            DueCase(pid, unit, title, due, source or "portal")
            for pid, unit, title, due, source in rows
            if due is not None  # the query's own condition; says so to the type checker
        ]

    async def remember(self, reminder: SentReminder) -> None:
        row = {
            "petition_id": reminder.petition_id,
            "threshold": reminder.threshold,
            "unit_code": reminder.unit_code,
            "due_at": reminder.due_at,
            "message_id": reminder.message_id,
            "created_at": reminder.at,
        }
        with map_db_errors():
            await self._session.execute(insert(CaseReminderRow).values(row))
