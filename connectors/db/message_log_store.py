"""The message log (DESIGN §4): every raw message in and out, in one hash chain.

Appends are serialised so each reads the true previous link: on PostgreSQL by a transaction-scoped
advisory lock, on SQLite by BEGIN IMMEDIATE (engine.py). The lock is held to commit, so keep the
log append in a short transaction of its own (as the message-log hook does); several appends in
one transaction (its group commit) lock and read the head once.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.db.errors import map_db_errors
from connectors.db.log_audit import ChainWalk
from connectors.db.log_audit_store import pruned_anchor, stored_rows
from connectors.db.log_chain import GENESIS, ChainFields, link_hash, raw_digest
from connectors.db.log_segments_store import pruned_head
from connectors.db.session_access import SessionSource
from connectors.db.tables import MessageLogRow
from connectors.db.transaction_state import transaction_state
from gateway.domain.exchange import LogEntry

# pg_advisory_xact_lock key: "PAKNLOG" in ASCII.
ADVISORY_LOCK_KEY = int.from_bytes(b"PAKNLOG", "big")
_TABLE = cast(Table, MessageLogRow.__table__)
# Built once: built per call, a statement costs ~80 µs more CPU (BENCHMARKS.md, issue 7)
_INSERT = insert(_TABLE).returning(_TABLE.c.id)
_LOCK = select(func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY))
_HEAD = select(MessageLogRow.entry_hash).order_by(MessageLogRow.id.desc()).limit(1)
_OWN_HEAD = "pakn_message_log_head"  # transaction_state: {"head": entry_hash of its last append}


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
            explicit_id: dict[str, int] = {}
            prev_hash = self._own_head()
            if prev_hash is None:
                if self._session.get_bind().dialect.name == "postgresql":
                    await self._session.execute(_LOCK)
                prev_hash = (await self._session.execute(_HEAD)).scalar_one_or_none()
            if prev_hash is None:
                # Every row pruned (log_prune.py): the chain goes on from the archived segment's head,
                # and ids go on after it (SQLite would reuse them in an empty table; sequences do not).
                pruned = await pruned_head(self._session)
                prev_hash = pruned[1] if pruned is not None else GENESIS
                if pruned is not None and self._session.get_bind().dialect.name == "sqlite":
                    explicit_id["id"] = pruned[0] + 1
            entry_hash = link_hash(prev_hash, fields, raw_sha256)
            row = {
                **explicit_id,
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
                "entry_hash": entry_hash,
                "created_at": entry.at,
                "petition_id": entry.petition_id,  # not chained: see tables.MessageLogRow
            }
            # the Core table: the ORM entity's bulk-insert path adds about a tenth to each insert
            result = await self._session.execute(_INSERT, row)
            entry_id: int = result.scalar_one()
        self._remember_head(entry_hash)
        return entry_id

    def _own_head(self) -> str | None:
        """The entry this transaction appended last, if it appended one: it still holds the lock
        (PostgreSQL's advisory lock, SQLite's write lock) to its end, so that entry is the head and
        the next append of the same transaction (a group commit) need not lock and read again."""
        state = self._state()
        return state.get("head") if state is not None else None

    def _remember_head(self, entry_hash: str) -> None:
        state = self._state()
        if state is not None:
            state["head"] = entry_hash

    def _state(self) -> dict[str, str] | None:
        return transaction_state(self._session, _OWN_HEAD, dict)


async def verify_chain(source: SessionSource) -> tuple[bool, int | None]:
    """Walk the whole log's links in id order: (True, None), or (False, id of the first broken row).

    Links only; `log_audit_store.audit_store` also checks the signed checkpoints and says why.
    After a prune the first remaining row must follow the archived segment's signed head.
    """
    anchor = await pruned_anchor(source)
    walk = ChainWalk((), anchor=anchor)
    async for row in stored_rows(source, after=anchor.last_entry_id if anchor is not None else 0):
        walk.feed(row)
    first = walk.finish().first_break
    return (True, None) if first is None else (False, first.entry_id)
