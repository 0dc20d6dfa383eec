"""Read-only figures beyond the ports, for the CLI, the console and tests.

Pass an AsyncSession or a SqlUnitOfWork (its `session`). Case counts are `uow.cases.count_by_status()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from connectors.db.errors import map_db_errors
from connectors.db.session_access import SessionSource, session_of
from connectors.db.tables import MessageLogRow, OutboxRow


@dataclass(frozen=True)
class LogHead:
    """The message log's length and last link: publish it to anchor the chain outside the store."""

    entries: int
    last_id: int | None
    last_hash: str | None


async def outbox_pending_count(source: SessionSource) -> int:
    query = select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
    with map_db_errors():
        return int((await session_of(source).execute(query)).scalar_one())


async def message_log_head(source: SessionSource) -> LogHead:
    session = session_of(source)
    last = select(MessageLogRow.id, MessageLogRow.entry_hash).order_by(MessageLogRow.id.desc()).limit(1)
    with map_db_errors():
        entries = int((await session.execute(select(func.count()).select_from(MessageLogRow))).scalar_one())
        row = (await session.execute(last)).one_or_none()
    if row is None:
        return LogHead(entries, None, None)
    last_id, last_hash = row
    return LogHead(entries, last_id, last_hash)
