"""The record of message-log segments pruned from the store (`message_log_segments`).

A segment is recorded in the same transaction that makes it official, before any of its rows is
deleted; the rows then go in short batches (one SQLite writer: appends must not wait on a long
delete). Rows at or below the newest segment's last entry are therefore archived whether or not
they are still in the table: the audit skips them and the next prune finishes deleting them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, func, insert, select

from connectors.db.errors import map_db_errors
from connectors.db.log_checkpoint import Checkpoint
from connectors.db.session_access import SessionSource, session_of
from connectors.db.tables import LogCheckpointRow, LogSegmentRow, MessageLogRow


@dataclass(frozen=True)
class PrunedSegment:
    after_entry_id: int  # 0: the segment starts at the genesis
    last_entry_id: int
    first_entry_id: int
    row_count: int
    chain_length: int  # entries from the genesis through last_entry_id
    head_hash: str  # entry_hash of the last entry: the prev_hash of the first row that stays
    checkpoint_id: int  # the signed checkpoint at last_entry_id
    path: str
    sha256: str
    size_bytes: int
    cutoff: datetime
    exported_at: datetime
    id: int | None = None


async def recorded_segments(source: SessionSource) -> list[PrunedSegment]:
    """Every pruned segment, oldest first."""
    query = select(LogSegmentRow).order_by(LogSegmentRow.last_entry_id)
    with map_db_errors():
        rows = (await session_of(source).execute(query)).scalars().all()
    return [
        PrunedSegment(
            after_entry_id=r.after_entry_id, last_entry_id=r.last_entry_id, first_entry_id=r.first_entry_id,
            row_count=r.row_count, chain_length=r.chain_length, head_hash=r.head_hash,
            checkpoint_id=r.checkpoint_id, path=r.path, sha256=r.sha256, size_bytes=r.size_bytes,
            cutoff=r.cutoff, exported_at=r.exported_at, id=r.id,
        )
        for r in rows
    ]


async def last_segment(source: SessionSource) -> PrunedSegment | None:
    segments = await recorded_segments(source)
    return segments[-1] if segments else None


async def pruned_through(source: SessionSource) -> int:
    """The last entry id that is archived (0 when nothing was pruned)."""
    query = select(func.coalesce(func.max(LogSegmentRow.last_entry_id), 0))
    with map_db_errors():
        return int((await session_of(source).execute(query)).scalar_one())


async def pruned_head(source: SessionSource) -> tuple[int, str] | None:
    """The newest segment's (last entry id, head hash): what the next row follows once every row
    is pruned."""
    query = (
        select(LogSegmentRow.last_entry_id, LogSegmentRow.head_hash)
        .order_by(LogSegmentRow.last_entry_id.desc())
        .limit(1)
    )
    with map_db_errors():
        head = (await session_of(source).execute(query)).one_or_none()
    return None if head is None else (int(head[0]), str(head[1]))


async def record_segment(source: SessionSource, segment: PrunedSegment) -> int:
    """Raises StoreConflict when another process recorded a segment from the same start first."""
    values = {
        "after_entry_id": segment.after_entry_id, "last_entry_id": segment.last_entry_id,
        "first_entry_id": segment.first_entry_id, "row_count": segment.row_count,
        "chain_length": segment.chain_length, "head_hash": segment.head_hash,
        "checkpoint_id": segment.checkpoint_id, "path": segment.path, "sha256": segment.sha256,
        "size_bytes": segment.size_bytes, "cutoff": segment.cutoff, "exported_at": segment.exported_at,
    }
    with map_db_errors():
        result = await session_of(source).execute(
            insert(LogSegmentRow).values(values).returning(LogSegmentRow.id)
        )
        return result.scalar_one()


async def delete_archived_rows(source: SessionSource, *, through: int, limit: int) -> tuple[int, int]:
    """Delete at most `limit` rows with id ≤ `through`, lowest first: (rows found, rows deleted).

    Fewer deleted than found means a concurrent prune deleted some first."""
    batch = (
        select(MessageLogRow.id).where(MessageLogRow.id <= through).order_by(MessageLogRow.id).limit(limit)
    )
    with map_db_errors():
        ids = list((await session_of(source).execute(batch)).scalars().all())
        if not ids:
            return 0, 0
        result = await session_of(source).execute(delete(MessageLogRow).where(MessageLogRow.id.in_(ids)))
    return len(ids), int(getattr(result, "rowcount", 0) or 0)


async def rows_between(source: SessionSource, *, after: int, through: int) -> tuple[int, int | None]:
    """(how many rows, the first id) with `after` < id ≤ `through`."""
    query = select(func.count(), func.min(MessageLogRow.id)).where(
        MessageLogRow.id > after, MessageLogRow.id <= through
    )
    with map_db_errors():
        count, first = (await session_of(source).execute(query)).one()
    return int(count), first


async def rows_before(source: SessionSource, *, after: int, moment: datetime) -> int:
    """Rows still in the store (beyond `after`) that were logged before `moment`."""
    query = select(func.count()).select_from(MessageLogRow).where(
        MessageLogRow.id > after, MessageLogRow.created_at < moment
    )
    with map_db_errors():
        return int((await session_of(source).execute(query)).scalar_one())


async def checkpoints_after(source: SessionSource, after: int) -> int:
    """How many checkpoints vouch for rows beyond `after`, whenever they were made."""
    query = select(func.count()).select_from(LogCheckpointRow).where(LogCheckpointRow.last_entry_id > after)
    with map_db_errors():
        return int((await session_of(source).execute(query)).scalar_one())


def chain_length_through(last_entry_id: int) -> Select[int]:
    """One SQL expression: entries from the genesis through `last_entry_id`, pruned ones included.

    One statement sees one snapshot, so a prune committing meanwhile cannot make the count (rows
    left) and the pruned length (rows gone) disagree.
    """
    through = select(func.coalesce(func.max(LogSegmentRow.last_entry_id), 0)).scalar_subquery()
    pruned = select(func.coalesce(func.max(LogSegmentRow.chain_length), 0)).scalar_subquery()
    left = (
        select(func.count())
        .select_from(MessageLogRow)
        .where(MessageLogRow.id > through, MessageLogRow.id <= last_entry_id)
        .scalar_subquery()
    )
    return select(left + pruned)


def anchor_of(segment: PrunedSegment | None, checkpoints: list[Checkpoint]) -> Checkpoint | None:
    """The checkpoint a segment ends at (the anchor of what follows it), if it is among `checkpoints`."""
    if segment is None:
        return None
    return next((c for c in checkpoints if c.id == segment.checkpoint_id), None)

