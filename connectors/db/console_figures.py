"""Read-only figures for the console: what moved since the previous sample, overdue cases.

The sampler's reads are incremental on an index (the message log's id, the outbox's ``sent_at``), so a
sample every few seconds stays cheap however large the tables grow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from connectors.db.errors import map_db_errors
from connectors.db.session_access import SessionSource, session_of
from connectors.db.tables import CaseRow, MessageLogRow, OutboxRow
from gateway.domain.search import CLOSED_STATUSES


@dataclass(frozen=True)
class LogTraffic:
    """Message-log rows after ``after_id``, counted per (direction, operation); ``last_id`` seen."""

    counts: dict[tuple[str, str], int]
    last_id: int | None


async def log_traffic_since(source: SessionSource, after_id: int | None) -> LogTraffic:
    """With ``after_id`` None: no counts, only the current last id (the baseline of the first sample)."""
    session = session_of(source)
    with map_db_errors():
        if after_id is None:
            last = (await session.execute(select(func.max(MessageLogRow.id)))).scalar_one()
            return LogTraffic({}, int(last) if last is not None else 0)
        query = (
            select(MessageLogRow.direction, MessageLogRow.operation, func.count(), func.max(MessageLogRow.id))
            .where(MessageLogRow.id > after_id)
            .group_by(MessageLogRow.direction, MessageLogRow.operation)
        )
        rows = (await session.execute(query)).all()
    counts = {(str(d), str(o)): int(n) for d, o, n, _ in rows}
    last_id = max((int(m) for *_, m in rows), default=after_id)
    return LogTraffic(counts, last_id)


async def published_between(source: SessionSource, after: datetime, until: datetime) -> dict[str, int]:
    """Outbox rows the relay published in (after, until], per routing key."""
    query = (
        select(OutboxRow.routing_key, func.count())
        .where(OutboxRow.sent_at > after, OutboxRow.sent_at <= until)
        .group_by(OutboxRow.routing_key)
    )
    with map_db_errors():
        rows = (await session_of(source).execute(query)).all()
    return {str(key): int(n) for key, n in rows}


async def overdue_count(source: SessionSource, now: datetime) -> int:
    """Open cases past their deadline (``cases.due_at``: the portal's DueAt or working days)."""
    query = (
        select(func.count())
        .select_from(CaseRow)
        .where(CaseRow.due_at.is_not(None), CaseRow.due_at < now, CaseRow.status.not_in(CLOSED_STATUSES))
    )
    with map_db_errors():
        return int((await session_of(source).execute(query)).scalar_one())
