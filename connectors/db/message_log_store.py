"""The message log (DESIGN §4): every raw message in and out, in one hash chain.

Appends are serialised so each reads the true previous link: on PostgreSQL by a transaction-scoped
advisory lock, on SQLite by BEGIN IMMEDIATE (engine.py). The lock is held to commit, so keep the
log append in a short transaction of its own (as the message-log hook does); several appends in
one transaction (its group commit) lock and read the head once, and `append_many` writes them in
one executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Integer, Table, bindparam, func, insert, literal_column, select
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
_INSERT_MANY = insert(_TABLE)  # executed with a list of rows, ids given: asyncpg's executemany
_LOCK = select(func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY))
_HEAD = select(MessageLogRow.entry_hash, MessageLogRow.id).order_by(MessageLogRow.id.desc()).limit(1)
_NEXT_IDS = select(func.nextval(func.pg_get_serial_sequence(_TABLE.name, "id"))).select_from(
    func.generate_series(literal_column("1"), bindparam("count", type_=Integer))
)
_OWN_HEAD = "pakn_message_log_head"  # transaction_state: {"head": entry_hash, "id": of its last append}


class SqlMessageLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, entry: LogEntry) -> int:
        with map_db_errors():
            prev_hash, last_id = await self._head()
            row, entry_hash = _row(entry, prev_hash)
            if not self._postgresql:
                row["id"] = last_id + 1  # what SQLite gives, and after a full prune too (see _head)
            # the Core table: the ORM entity's bulk-insert path adds about a tenth to each insert
            entry_id: int = (await self._session.execute(_INSERT, row)).scalar_one()
        self._remember_head(entry_hash, entry_id)
        return entry_id

    async def append_many(self, entries: Sequence[LogEntry]) -> list[int]:
        """Entries in this order, chained one to the next, in one INSERT executed for all of them.

        A group commit's entries (a request and its receipt, several calls' worth) cost one
        statement's overhead instead of one each. The ids are taken first — from the sequence in
        one statement on PostgreSQL, after the head's id on SQLite — because an executemany
        returns none; both are safe only under the chain's lock, which `_head` takes.
        """
        if len(entries) <= 1:
            return [await self.append(entry) for entry in entries]
        with map_db_errors():
            prev_hash, last_id = await self._head()
            ids = await self._next_ids(len(entries), last_id)
            rows = []
            for entry, entry_id in zip(entries, ids, strict=True):
                row, prev_hash = _row(entry, prev_hash)
                row["id"] = entry_id
                rows.append(row)
            await self._session.execute(_INSERT_MANY, rows)
        self._remember_head(prev_hash, ids[-1])
        return ids

    async def _head(self) -> tuple[str, int]:
        """(hash, id) of the chain's head under the chain's lock: this transaction's own last append
        if it made one, else locked and read; after a full prune the archived segment's head."""
        own = self._own_head()
        if own is not None:
            return own
        if self._postgresql:
            await self._session.execute(_LOCK)
        head = (await self._session.execute(_HEAD)).one_or_none()
        if head is not None:
            return str(head.entry_hash), int(head.id)
        # Every row pruned (log_prune.py): the chain goes on from the archived segment's head,
        # and ids go on after it (SQLite would reuse them in an empty table; sequences do not).
        pruned = await pruned_head(self._session)
        return (pruned[1], pruned[0]) if pruned is not None else (GENESIS, 0)

    async def _next_ids(self, count: int, last_id: int) -> list[int]:
        if self._postgresql:  # one statement for any count; gaps are harmless, order is kept
            result = await self._session.execute(_NEXT_IDS, {"count": count})
            return sorted(int(value) for value in result.scalars())
        return list(range(last_id + 1, last_id + 1 + count))  # the rowid SQLite would have given

    @property
    def _postgresql(self) -> bool:
        return self._session.get_bind().dialect.name == "postgresql"

    def _own_head(self) -> tuple[str, int] | None:
        """The entry this transaction appended last, if it appended one: it still holds the lock
        (PostgreSQL's advisory lock, SQLite's write lock) to its end, so that entry is the head and
        the next append of the same transaction (a group commit) need not lock and read again."""
        state = self._state()
        if state is None or "head" not in state:
            return None
        return str(state["head"]), int(state["id"])

    def _remember_head(self, entry_hash: str, entry_id: int) -> None:
        state = self._state()
        if state is not None:
            state["head"], state["id"] = entry_hash, entry_id

    def _state(self) -> dict[str, str | int] | None:
        return transaction_state(self._session, _OWN_HEAD, dict)


def _row(entry: LogEntry, prev_hash: str) -> tuple[dict[str, object], str]:
    """The entry's row, chained after `prev_hash`, and its own hash (the next entry's prev_hash)."""
    fields = ChainFields(
        entry.direction, entry.peer, entry.operation, entry.message_id, entry.signature_verdict,
        entry.signer, entry.outcome, entry.at,
    )
    raw_sha256 = raw_digest(entry.raw)
    entry_hash = link_hash(prev_hash, fields, raw_sha256)
    row: dict[str, object] = {
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
    return row, entry_hash


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
