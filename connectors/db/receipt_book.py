"""National MessageIds already seen, with the receipt each got: the inbound idempotency key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.errors import map_db_errors
from connectors.db.key_lists import key_chunks
from connectors.db.tables import SeenMessageRow
from gateway.domain.exchange import Receipt, SeenMessage

# Built once: built per call, a statement costs ~80 µs more CPU (BENCHMARKS.md, issue 7)
_FIND = select(
    SeenMessageRow.receipt_id, SeenMessageRow.accepted, SeenMessageRow.error_code, SeenMessageRow.error_text
).where(SeenMessageRow.message_id == bindparam("message_id"))
_FIND_MANY = select(
    SeenMessageRow.message_id, SeenMessageRow.receipt_id, SeenMessageRow.accepted, SeenMessageRow.error_code,
    SeenMessageRow.error_text,
).where(SeenMessageRow.message_id.in_(bindparam("message_ids", expanding=True)))
_REMEMBER = insert(cast(Table, SeenMessageRow.__table__))


class SqlReceiptBook:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(self, message_id: str) -> Receipt | None:
        with map_db_errors():
            row = (await self._session.execute(_FIND, {"message_id": message_id})).one_or_none()
        if row is None:
            return None
        receipt_id, accepted, error_code, error_text = row
        return Receipt(message_id, receipt_id, accepted, False, error_code, error_text)

    async def find_many(self, message_ids: Sequence[str]) -> dict[str, Receipt]:
        found: dict[str, Receipt] = {}
        with map_db_errors():
            for chunk in key_chunks(message_ids):
                rows = (await self._session.execute(_FIND_MANY, {"message_ids": chunk})).all()
                for message_id, receipt_id, accepted, code, error in rows:
                    found[message_id] = Receipt(message_id, receipt_id, accepted, False, code, error)
        return found

    async def remember(
        self, receipt: Receipt, *, operation: str, petition_id: str | None, at: datetime
    ) -> None:
        """Raises StoreConflict when the MessageId is already known (a concurrent copy won)."""
        await self.remember_many([SeenMessage(receipt, operation, petition_id, at)])

    async def remember_many(self, seen: Sequence[SeenMessage]) -> None:
        """One statement for all (executemany); StoreConflict when one MessageId is already known."""
        if not seen:
            return
        rows = [
            {
                "message_id": s.receipt.message_id,
                "operation": s.operation,
                "petition_id": s.petition_id,
                "receipt_id": s.receipt.receipt_id,
                "accepted": s.receipt.accepted,
                "error_code": s.receipt.error_code,
                "error_text": s.receipt.error_text,
                "created_at": s.at,
            }
            for s in seen
        ]
        with map_db_errors():
            await self._session.execute(_REMEMBER, rows)
