"""The store's figures for the Prometheus gauges, read in one transaction every few seconds.

Each read is an aggregate over an indexed column (outbox ``sent_at``, national ``state``, cases
``status`` and ``due_at``), so a sample stays cheap as the tables grow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from connectors.db.case_repository import SqlCaseRepository
from connectors.db.console_figures import overdue_count
from connectors.db.errors import map_db_errors
from connectors.db.national_outbox_store import PENDING, SqlNationalOutbox
from connectors.db.outbox_store import SqlOutbox
from connectors.db.session_access import SessionSource, session_of
from connectors.db.tables import CaseRow, NationalOutboxRow
from gateway.domain.case import TERMINAL

CLOSED = tuple(sorted(s.value for s in TERMINAL))


@dataclass(frozen=True)
class StoreFigures:
    outbox_pending: int
    outbox_oldest: datetime | None
    national: dict[str, int]  # national outbox rows by state
    national_oldest: datetime | None  # the oldest message still pending for the portal
    cases: dict[str, int]  # by status code
    overdue: int  # open cases past their DueAt
    with_due: int  # open cases with a DueAt at all


async def store_figures(source: SessionSource, now: datetime) -> StoreFigures:
    session = session_of(source)
    pending, oldest = await SqlOutbox(session).lag()
    national = await SqlNationalOutbox(session).counts()
    cases = await SqlCaseRepository(session).count_by_status()
    overdue = await overdue_count(session, now)
    oldest_national = select(func.min(NationalOutboxRow.created_at)).where(NationalOutboxRow.state == PENDING)
    with_due = (
        select(func.count())
        .select_from(CaseRow)
        .where(CaseRow.due_at.is_not(None), CaseRow.status.not_in(CLOSED))
    )
    with map_db_errors():
        national_oldest = (await session.execute(oldest_national)).scalar_one()
        open_with_due = int((await session.execute(with_due)).scalar_one())
    return StoreFigures(
        outbox_pending=pending,
        outbox_oldest=oldest,
        national=national,
        national_oldest=national_oldest,
        cases=cases,
        overdue=overdue,
        with_due=open_with_due,
    )
