"""The message log (DESIGN §4): every raw message in and out, in one hash chain.

Appends are serialised so each reads the true previous link: on PostgreSQL by a transaction-scoped
advisory lock, on SQLite by BEGIN IMMEDIATE (engine.py). The lock is held to commit, so keep the
log append in a short transaction of its own (as the message-log hook does).
"""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.errors import map_db_errors
from connectors.db.log_chain import GENESIS, ChainFields, link_hash, raw_digest
from connectors.db.session_access import SessionSource, session_of
from connectors.db.tables import MessageLogRow
from gateway.domain.exchange import LogEntry

# pg_advisory_xact_lock key: "PAKNLOG" in ASCII.
ADVISORY_LOCK_KEY = int.from_bytes(b"PAKNLOG", "big")
_VERIFY_BATCH = 200


class SqlMessageLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, entry: LogEntry) -> int:
        fields = ChainFields(
            entry.direction, entry.peer, entry.operation, entry.message_id, entry.signature_verdict,
            entry.signer, entry.outcome, entry.at,
        )
        raw_sha256 = raw_digest(entry.raw)
        with map_db_errors():
            if self._session.get_bind().dialect.name == "postgresql":
                await self._session.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
            last = select(MessageLogRow.entry_hash).order_by(MessageLogRow.id.desc()).limit(1)
            prev_hash = (await self._session.execute(last)).scalar_one_or_none() or GENESIS
            row = {
                "direction": entry.direction,
                "peer": entry.peer,
                "operation": entry.operation,
                "message_id": entry.message_id,
                "signature_verdict": entry.signature_verdict,
                "signer": entry.signer,
                "outcome": entry.outcome,
                "raw": entry.raw,
                "raw_sha256": raw_sha256,
                "prev_hash": prev_hash,
                "entry_hash": link_hash(prev_hash, fields, raw_sha256),
                "created_at": entry.at,
            }
            result = await self._session.execute(
                insert(MessageLogRow).values(row).returning(MessageLogRow.id)
            )
            return result.scalar_one()


async def verify_chain(source: SessionSource) -> tuple[bool, int | None]:
    """Walk the whole log in id order: (True, None), or (False, id of the first broken row)."""
    session = session_of(source)
    expected_prev = GENESIS
    after = 0
    while True:
        query = (
            select(
                MessageLogRow.id, MessageLogRow.direction, MessageLogRow.peer, MessageLogRow.operation,
                MessageLogRow.message_id, MessageLogRow.signature_verdict, MessageLogRow.signer,
                MessageLogRow.outcome, MessageLogRow.created_at, MessageLogRow.raw,
                MessageLogRow.raw_sha256, MessageLogRow.prev_hash, MessageLogRow.entry_hash,
            )
            .where(MessageLogRow.id > after)
            .order_by(MessageLogRow.id)
            .limit(_VERIFY_BATCH)
        )
        with map_db_errors():
            rows = (await session.execute(query)).all()
        if not rows:
            return True, None
        for row in rows:
            id_, direction, peer, operation, message_id, verdict, signer, outcome, at, *rest = row
            raw, raw_sha256, prev_hash, entry_hash = rest
            fields = ChainFields(direction, peer, operation, message_id, verdict, signer, outcome, at)
            if (
                prev_hash != expected_prev
                or raw_digest(bytes(raw)) != raw_sha256
                or link_hash(prev_hash, fields, raw_sha256) != entry_hash
            ):
                return False, id_
            expected_prev = entry_hash
            after = id_
