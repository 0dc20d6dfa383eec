"""Retention of the message log: an old segment leaves the store only once it is safe in a file.

A prune takes the rows after the last pruned segment (or from the genesis) up to the last signed
checkpoint made before the cut-off, writes them as an export segment (log_export.py) into the
export directory, reads the file back and verifies it on its own (every link, the checkpoints
among its rows, its anchor, signatures trusted), records its path, sha256 and bounds in
`message_log_segments`, and only then deletes the rows. Short of a verified file nothing is deleted.

Rows are read and deleted in short transactions of their own: on SQLite every transaction holds the
one write lock, and intake must not wait behind a month of messages. A prune interrupted after its
record finishes deleting on the next run (the audit already skips archived rows).

Errors are SegmentError (log_export.py) with the codes ``Log.NoCheckpoint`` (rows older than the
cut-off exist and no checkpoint at all covers them), ``Log.ExportUnverified`` (the export
does not verify: the store's log is broken, see `audit verify`) and those of `plan_segment`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import signing
from connectors.db.log_audit_store import stored_rows
from connectors.db.log_chain import ChainRow
from connectors.db.log_export import (
    SegmentError,
    SegmentPlan,
    audit_segment,
    file_digest,
    plan_segment,
    write_segment,
)
from connectors.db.log_segments_store import (
    PrunedSegment,
    checkpoints_after,
    delete_archived_rows,
    pruned_through,
    record_segment,
    rows_before,
    rows_between,
)
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.ports import StoreConflict

log = logging.getLogger(__name__)

NO_CHECKPOINT = "Log.NoCheckpoint"
EXPORT_UNVERIFIED = "Log.ExportUnverified"


@dataclass(frozen=True)
class PruneOutcome:
    planned: SegmentPlan | None  # None: nothing is due
    rows: int  # rows of the planned segment
    first_entry_id: int | None
    segment: PrunedSegment | None = None  # recorded by this run (None on a dry run or a lost race)
    deleted: int = 0  # rows deleted by this run, leftovers of an interrupted run included
    lost_race: bool = False  # another process recorded the same segment first; this file was removed
    waiting: int = 0  # nothing due: rows older than the cut-off wait for a checkpoint made before it


class LogPruner:
    def __init__(
        self,
        uow: SqlUnitOfWorkFactory,
        trust: signing.TrustStore,
        export_dir: Path,
        *,
        clock: Callable[[], datetime],
        batch: int = 200,
    ) -> None:
        self._uow = uow
        self._trust = trust
        self._dir = export_dir
        self._clock = clock
        self._batch = batch

    async def prune(self, before: datetime, *, dry_run: bool = False) -> PruneOutcome:
        """Export, verify, record and delete the segment due before `before` (nothing on a dry run)."""
        deleted = 0 if dry_run else await self._delete_archived()
        old, vouched, count, first = 0, 0, 0, None
        async with self._uow() as uow:
            try:
                plan: SegmentPlan | None = await plan_segment(uow, before=before)
            except SegmentError as exc:
                if exc.code != "Log.NothingToExport":
                    raise
                plan = None
                start = await pruned_through(uow)
                old = await rows_before(uow, after=start, moment=before)
                vouched = await checkpoints_after(uow, start)
            if plan is not None:
                count, first = await rows_between(uow, after=plan.start, through=plan.covering.last_entry_id)
        if plan is None:
            if old and not vouched:
                # Not a rerun before the next checkpoint: nothing will ever vouch for these rows.
                raise SegmentError(
                    NO_CHECKPOINT,
                    f"{old} entries were logged before {before.isoformat()}, but no signed checkpoint"
                    " covers them: nothing pruned (run `audit checkpoint`, or turn the scheduled ones on)",
                )
            return PruneOutcome(None, 0, None, deleted=deleted, waiting=old)
        if dry_run:
            return PruneOutcome(plan, count, first)
        return await self._archive(plan, count, first, deleted)

    async def _archive(self, plan: SegmentPlan, count: int, first: int | None, deleted: int) -> PruneOutcome:
        covering = plan.covering
        exported_at = self._clock()
        self._dir.mkdir(parents=True, exist_ok=True)
        stamp = exported_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"message-log-{first or 0:012d}-{covering.last_entry_id:012d}-{stamp}.jsonl"
        path = (self._dir / name).resolve()
        summary = await write_segment(plan, self._rows(plan.start, covering.last_entry_id), path)
        try:
            report = await audit_segment(path, self._trust)
        except SegmentError:
            path.unlink(missing_ok=True)
            raise
        problem = report.first_break
        if (
            problem is not None
            or report.last_id != covering.last_entry_id
            or summary.first_entry_id is None
            or covering.id is None
        ):
            path.unlink(missing_ok=True)
            if await self._pruned_meanwhile(plan):
                return PruneOutcome(plan, count, first, deleted=deleted, lost_race=True)
            why = (
                f"{problem.code} at entry {problem.entry_id}: {problem.detail}"
                if problem is not None
                else f"it ends at entry {report.last_id}, not at checkpoint entry {covering.last_entry_id}"
            )
            raise SegmentError(EXPORT_UNVERIFIED, f"the export does not verify ({why}); nothing pruned")
        sha256, size = file_digest(path)
        _sync_directory(path.parent)  # the file's name is durable before the rows go
        segment = PrunedSegment(
            after_entry_id=plan.start, last_entry_id=covering.last_entry_id,
            first_entry_id=summary.first_entry_id, row_count=summary.rows,
            chain_length=covering.entry_count, head_hash=covering.head_hash, checkpoint_id=covering.id,
            path=str(path), sha256=sha256, size_bytes=size, cutoff=plan.before, exported_at=exported_at,
        )
        try:
            async with self._uow() as uow:
                segment_id = await record_segment(uow, segment)
                await uow.commit()
        except StoreConflict:
            path.unlink(missing_ok=True)
            if not await self._pruned_meanwhile(plan):
                raise
            return PruneOutcome(plan, count, first, deleted=deleted, lost_race=True)
        deleted += await self._delete_archived()
        log.info(
            "message log entries %s–%s (%s) pruned into %s (sha256 %s)",
            summary.first_entry_id, covering.last_entry_id, summary.rows, path, sha256,
        )
        return PruneOutcome(
            plan, count, first, segment=replace(segment, id=segment_id), deleted=deleted
        )

    async def _pruned_meanwhile(self, plan: SegmentPlan) -> bool:
        """Another process recorded a segment from this plan's start since it was made (and may
        have deleted rows this export was reading): not a broken log, a lost race."""
        async with self._uow() as uow:
            moved = await pruned_through(uow) > plan.start
        if moved:
            log.info("message log entries after %s were pruned by another process", plan.start)
        return moved

    async def _rows(self, after: int, through: int) -> AsyncIterator[ChainRow]:
        """The segment's rows, a batch per short transaction (rows at or below a checkpoint are final)."""
        while True:
            async with self._uow() as uow:
                batch = [r async for r in stored_rows(uow, after=after, through=through, limit=self._batch)]
            if not batch:
                return
            for row in batch:
                yield row
            after = batch[-1].id

    async def _delete_archived(self) -> int:
        """Delete every row at or below the newest recorded segment, a batch per transaction."""
        deleted = 0
        while True:
            async with self._uow() as uow:
                through = await pruned_through(uow)
                found, done = (
                    await delete_archived_rows(uow, through=through, limit=self._batch) if through else (0, 0)
                )
                await uow.commit()
            if not found:
                return deleted
            deleted += done


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
