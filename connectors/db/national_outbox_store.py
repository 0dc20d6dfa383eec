"""The national outbox: messages for the portal, delivered per petition in id order.

`due()` returns only the head of each petition's queue — the oldest message not yet delivered —
so a message never overtakes an earlier one for the same petition, and a dead message holds back
its petition's later messages until an operator replays or the portal accepts it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, and_, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from connectors.db.errors import map_db_errors
from connectors.db.key_lists import key_chunks
from connectors.db.tables import NationalOutboxRow
from gateway.domain.exchange import NationalMessage

_NO_SYNC = {"synchronize_session": False}
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
# Built once: built per call, a statement costs ~80 µs more CPU (BENCHMARKS.md, issue 7); the
# claim's query runs once per round, not per message, and is built as it comes
_ADD = insert(cast(Table, NationalOutboxRow.__table__))
# The id lists of these two are padded (key_lists): a statement per length of the list would be
# prepared again and again, and push the hot statements out of asyncpg's cache.
_LEASE = (  # the claimed heads out of line until the lease ends
    update(NationalOutboxRow)
    .where(NationalOutboxRow.id.in_(bindparam("ids", expanding=True)))
    .values(next_attempt_at=bindparam("until", type_=NationalOutboxRow.next_attempt_at.type))
)
_MARK_DELIVERED = (  # one statement for all the deliveries of a group commit
    update(NationalOutboxRow)
    .where(NationalOutboxRow.id.in_(bindparam("ids", expanding=True)))
    .values(
        state=DELIVERED,
        delivered_at=bindparam("at", type_=NationalOutboxRow.delivered_at.type),
        last_error=None,
    )
)


class SqlNationalOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, message: NationalMessage) -> None:
        await self.add_all([message])

    async def add_all(self, messages: Sequence[NationalMessage]) -> None:
        """Several messages in one statement (one round trip), given in the order they must go
        out: they are inserted in that order, so their ids keep it."""
        rows = [
            {
                "petition_id": message.petition_id,
                "operation": message.operation,
                "message_id": message.message_id,
                "payload": json.dumps(message.payload, ensure_ascii=False),
                "state": PENDING,
                "attempts": 0,
                "next_attempt_at": message.next_attempt_at or message.created_at,
                "created_at": message.created_at,
            }
            for message in messages
        ]
        if not rows:
            return
        with map_db_errors():
            await self._session.execute(_ADD, rows)

    async def due(self, now: datetime, limit: int) -> list[NationalMessage]:
        with map_db_errors():
            rows = (await self._session.execute(self._due_query(now, limit))).scalars().all()
        return [_message(r) for r in rows]

    async def claim(self, now: datetime, limit: int, lease_until: datetime) -> list[NationalMessage]:
        # PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent instances take disjoint heads without
        # waiting; a head claimed by one is "not due" for the others until its lease ends, and it
        # still blocks its petition's later messages. SQLite renders no FOR UPDATE: its write
        # transactions (BEGIN IMMEDIATE) already run one at a time.
        query = self._due_query(now, limit).with_for_update(skip_locked=True, of=NationalOutboxRow)
        with map_db_errors():
            rows = (await self._session.execute(query)).scalars().all()
            messages = [_message(r) for r in rows]
            for chunk in key_chunks([m.id for m in messages if m.id is not None]):
                await self._session.execute(
                    _LEASE, {"ids": chunk, "until": lease_until}, execution_options=_NO_SYNC
                )
        return messages

    async def release(self, message_id: int, at: datetime) -> None:
        statement = (
            update(NationalOutboxRow)
            .where(NationalOutboxRow.id == message_id, NationalOutboxRow.state == PENDING)
            .values(next_attempt_at=at)
        )
        with map_db_errors():
            await self._session.execute(statement, execution_options=_NO_SYNC)

    def _due_query(self, now: datetime, limit: int) -> Select[NationalOutboxRow]:
        earlier = aliased(NationalOutboxRow)
        blocked = (
            select(earlier.id)
            .where(
                earlier.petition_id == NationalOutboxRow.petition_id,
                earlier.id < NationalOutboxRow.id,
                earlier.state != DELIVERED,
            )
            .exists()
        )
        query = (
            select(NationalOutboxRow)
            .where(
                and_(NationalOutboxRow.state == PENDING, NationalOutboxRow.next_attempt_at <= now, ~blocked)
            )
            .order_by(NationalOutboxRow.id)
            .limit(limit)
        )
        return query

    async def mark_delivered(self, message_ids: Sequence[int], at: datetime) -> None:
        if not message_ids:
            return
        with map_db_errors():
            for chunk in key_chunks(sorted(message_ids)):
                await self._session.execute(
                    _MARK_DELIVERED, {"ids": chunk, "at": at}, execution_options=_NO_SYNC
                )

    async def reschedule(
        self, message_id: int, next_attempt_at: datetime, error: str, *, unexpected: bool = False
    ) -> None:
        statement = (
            update(NationalOutboxRow)
            .where(NationalOutboxRow.id == message_id, NationalOutboxRow.state == PENDING)
            .values(
                attempts=NationalOutboxRow.attempts + 1,
                next_attempt_at=next_attempt_at,
                last_error=error[:2000],
                unexpected_failures=NationalOutboxRow.unexpected_failures + int(unexpected),
            )
        )
        with map_db_errors():
            await self._session.execute(statement, execution_options=_NO_SYNC)

    async def mark_dead(self, message_id: int, reason: str, at: datetime) -> None:
        statement = (
            update(NationalOutboxRow)
            .where(NationalOutboxRow.id == message_id, NationalOutboxRow.state == PENDING)
            .values(state=DEAD, attempts=NationalOutboxRow.attempts + 1, last_error=reason[:2000])
        )
        with map_db_errors():
            await self._session.execute(statement, execution_options=_NO_SYNC)

    async def replay(self, message_id: int, at: datetime) -> bool:
        statement = (
            update(NationalOutboxRow)
            .where(NationalOutboxRow.id == message_id, NationalOutboxRow.state == DEAD)
            .values(state=PENDING, next_attempt_at=at, unexpected_failures=0)  # a fresh ladder
        )
        with map_db_errors():
            result = await self._session.execute(statement, execution_options=_NO_SYNC)
        return bool(getattr(result, "rowcount", 0))

    async def list(self, state: str, limit: int = 100) -> list[NationalMessage]:
        query = (
            select(NationalOutboxRow).where(NationalOutboxRow.state == state).order_by(NationalOutboxRow.id)
        )
        with map_db_errors():
            rows = (await self._session.execute(query.limit(limit))).scalars().all()
        return [_message(r) for r in rows]

    async def counts(self) -> dict[str, int]:
        query = select(NationalOutboxRow.state, func.count()).group_by(NationalOutboxRow.state)
        with map_db_errors():
            rows = (await self._session.execute(query)).all()
        return {state: int(n) for state, n in rows}

def _message(row: NationalOutboxRow) -> NationalMessage:
    return NationalMessage(
        petition_id=row.petition_id,
        operation=row.operation,
        message_id=row.message_id,
        payload=json.loads(row.payload),
        created_at=row.created_at,
        id=row.id,
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        unexpected_failures=row.unexpected_failures,
    )
