"""The transactional outbox: rows committed with the change that caused them, drained by the relay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.errors import map_db_errors
from connectors.db.tables import OutboxRow
from gateway.domain.exchange import OutboxMessage

_NO_SYNC = {"synchronize_session": False}
# Built once: built per call, a statement costs ~80 µs more CPU (BENCHMARKS.md, issue 7)
_ADD = insert(cast(Table, OutboxRow.__table__))
_PENDING = (
    select(
        OutboxRow.message_id, OutboxRow.exchange, OutboxRow.routing_key, OutboxRow.type,
        OutboxRow.correlation_id, OutboxRow.body, OutboxRow.created_at, OutboxRow.id, OutboxRow.attempts,
    )
    .where(OutboxRow.sent_at.is_(None))
    .order_by(OutboxRow.id)
    .limit(bindparam("limit"))
)
_PENDING_DUE = _PENDING.where(
    or_(
        OutboxRow.next_attempt_at.is_(None),
        OutboxRow.next_attempt_at <= bindparam("now", type_=OutboxRow.next_attempt_at.type),
    )
)
_MARK_SENT = (
    update(OutboxRow)
    .where(OutboxRow.id.in_(bindparam("ids", expanding=True)), OutboxRow.sent_at.is_(None))
    .values(sent_at=bindparam("at", type_=OutboxRow.sent_at.type))
)


class SqlOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, message: OutboxMessage) -> None:
        row = {
            "message_id": message.message_id,
            "exchange": message.exchange,
            "routing_key": message.routing_key,
            "type": message.type,
            "correlation_id": message.correlation_id,
            "body": message.body,
            "created_at": message.created_at,
            "attempts": message.attempts,
        }
        with map_db_errors():
            await self._session.execute(_ADD, row)

    async def pending(self, limit: int, now: datetime | None = None) -> list[OutboxMessage]:
        """Unsent rows, oldest first (id order is commit order for one petition's changes); with
        `now`, only those due: a row waiting on its retry delay lets the rows behind it go first."""
        query = _PENDING if now is None else _PENDING_DUE
        with map_db_errors():
            rows = (await self._session.execute(query, {"limit": limit, "now": now})).all()
        return [
            OutboxMessage(mid, exchange, key, type_, corr, bytes(body), created, id_, attempts)
            for mid, exchange, key, type_, corr, body, created, id_, attempts in rows
        ]

    async def mark_sent(self, ids: Sequence[int], at: datetime) -> None:
        if not ids:
            return
        with map_db_errors():
            await self._session.execute(
                _MARK_SENT, {"ids": list(ids), "at": at}, execution_options=_NO_SYNC
            )

    async def mark_failed(self, ids: Sequence[int], error: str, retry_at: datetime | None = None) -> None:
        if not ids:
            return
        statement = (
            update(OutboxRow)
            .where(OutboxRow.id.in_(list(ids)), OutboxRow.sent_at.is_(None))
            .values(attempts=OutboxRow.attempts + 1, last_error=error, next_attempt_at=retry_at)
        )
        with map_db_errors():
            await self._session.execute(statement, execution_options=_NO_SYNC)

    async def lag(self) -> tuple[int, datetime | None]:
        query = select(func.count(), func.min(OutboxRow.created_at)).where(OutboxRow.sent_at.is_(None))
        with map_db_errors():
            count, oldest = (await self._session.execute(query)).one()
        return int(count), oldest
