"""The message log and its checkpoints read back from the store, for the audit and the export.

Rows are read in batches by id inside the caller's transaction, so a long log never sits in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import insert, select

import signing
from connectors.db.errors import map_db_errors
from connectors.db.log_audit import SEGMENT_RECORD, AuditReport, ChainBreak, audit
from connectors.db.log_chain import ChainFields, ChainRow
from connectors.db.log_checkpoint import Checkpoint
from connectors.db.log_segments_store import anchor_of, last_segment
from connectors.db.session_access import SessionSource, session_of
from connectors.db.tables import LogCheckpointRow, MessageLogRow

_BATCH = 200
_ROW_COLUMNS = (
    MessageLogRow.id, MessageLogRow.direction, MessageLogRow.peer, MessageLogRow.operation,
    MessageLogRow.message_id, MessageLogRow.signature_verdict, MessageLogRow.signer,
    MessageLogRow.outcome, MessageLogRow.created_at, MessageLogRow.raw, MessageLogRow.raw_sha256,
    MessageLogRow.prev_hash, MessageLogRow.entry_hash, MessageLogRow.petition_id,
)


async def stored_rows(
    source: SessionSource, *, after: int = 0, through: int | None = None, limit: int | None = None
) -> AsyncIterator[ChainRow]:
    """Rows with `after` < id ≤ `through` (all by default), in id order; at most `limit` of them."""
    session = session_of(source)
    left = limit
    while left is None or left > 0:
        query = select(*_ROW_COLUMNS).where(MessageLogRow.id > after)
        if through is not None:
            query = query.where(MessageLogRow.id <= through)
        batch = _BATCH if left is None else min(_BATCH, left)
        with map_db_errors():
            rows = (await session.execute(query.order_by(MessageLogRow.id).limit(batch))).all()
        if not rows:
            return
        left = None if left is None else left - len(rows)
        for row in rows:
            id_, direction, peer, operation, message_id, verdict, signer, outcome, at, *rest = row
            raw, raw_sha256, prev_hash, entry_hash, petition_id = rest
            fields = ChainFields(direction, peer, operation, message_id, verdict, signer, outcome, at)
            yield ChainRow(id_, fields, bytes(raw), raw_sha256, prev_hash, entry_hash, petition_id)
            after = id_


async def stored_checkpoints(source: SessionSource, *, through: int | None = None) -> list[Checkpoint]:
    """Checkpoints by last entry id, those at or before `through` if given."""
    query = select(LogCheckpointRow).order_by(LogCheckpointRow.last_entry_id)
    if through is not None:
        query = query.where(LogCheckpointRow.last_entry_id <= through)
    with map_db_errors():
        rows = (await session_of(source).execute(query)).scalars().all()
    return [
        Checkpoint(
            last_entry_id=r.last_entry_id,
            head_hash=r.head_hash,
            entry_count=r.entry_count,
            ministry_id=r.ministry_id,
            created_at=r.created_at,
            signature=bytes(r.signature),
            signer_certificate=r.signer_certificate,
            timestamp_token=bytes(r.timestamp_token) if r.timestamp_token is not None else None,
            id=r.id,
        )
        for r in rows
    ]


async def add_checkpoint(source: SessionSource, checkpoint: Checkpoint) -> int:
    values: dict[str, Any] = {
        "last_entry_id": checkpoint.last_entry_id,
        "head_hash": checkpoint.head_hash,
        "entry_count": checkpoint.entry_count,
        "ministry_id": checkpoint.ministry_id,
        "created_at": checkpoint.created_at,
        "signature": checkpoint.signature,
        "signer_certificate": checkpoint.signer_certificate,
        "timestamp_token": checkpoint.timestamp_token,
    }
    with map_db_errors():
        result = await session_of(source).execute(
            insert(LogCheckpointRow).values(values).returning(LogCheckpointRow.id)
        )
        return result.scalar_one()


async def pruned_anchor(source: SessionSource) -> Checkpoint | None:
    """The checkpoint the newest pruned segment ends at: what the remaining rows must follow."""
    return anchor_of(await last_segment(source), await stored_checkpoints(source))


async def audit_store(source: SessionSource, trust: signing.TrustStore) -> AuditReport:
    """The stored log against its checkpoints (database and trust store only, no network).

    After a prune, the rows that remain must follow the newest segment's checkpoint, and only
    the checkpoints after it are walked (the earlier ones vouch for rows now in the export files:
    `log_segment_audit.audit_log` checks those too).
    """
    checkpoints = await stored_checkpoints(source)
    segment = await last_segment(source)
    if segment is None:
        return await audit(stored_rows(source), checkpoints, trust)
    anchor = anchor_of(segment, checkpoints)
    later = [c for c in checkpoints if c.last_entry_id > segment.last_entry_id]
    report = await audit(stored_rows(source, after=segment.last_entry_id), later, trust, anchor=anchor)
    report.archived_through = segment.last_entry_id
    if anchor is None:
        report.breaks.append(ChainBreak(
            SEGMENT_RECORD, segment.last_entry_id,
            f"pruned segment {segment.id} ends at checkpoint {segment.checkpoint_id}, which is no longer"
            " in the store: the remaining rows cannot be anchored",
        ))
    return report
