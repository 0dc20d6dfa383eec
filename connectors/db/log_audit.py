"""The audit of a message log, offline: every link, every checkpoint, and where it first breaks.

Works on rows from the store or from an exported segment alike (the caller feeds them in id order).
A checkpoint must hold at its row: the recomputed chain's hash and length there are the signed ones;
a checkpoint whose row is gone means rows were cut off (at the end) or removed (in the middle).
After the first broken link the walk stops: later rows can no longer be vouched for.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field

import signing
from connectors.db.log_chain import GENESIS, LINK, ChainRow, row_problem
from connectors.db.log_checkpoint import Checkpoint, check

# Stable codes, beyond the row codes of log_chain.py and the checkpoint codes of log_checkpoint.py.
CHECKPOINT_MISMATCH = "Log.CheckpointMismatch"
TRUNCATED = "Log.Truncated"
UNANCHORED = "Log.Unanchored"
SEGMENT_RECORD = "Log.SegmentRecord"  # a pruned segment's record disagrees with its checkpoint or file


@dataclass(frozen=True)
class ChainBreak:
    code: str
    entry_id: int | None  # the first message_log row that cannot be vouched for
    detail: str
    checkpoint_id: int | None = None


@dataclass
class AuditReport:
    rows: int = 0
    first_id: int | None = None
    last_id: int | None = None
    checkpoints: int = 0
    timestamped: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    archived_through: int | None = None  # rows up to this id were pruned into export files
    segments: int = 0  # pruned segments whose export files were verified

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> ChainBreak | None:
        """The break earliest in the chain (a checkpoint's break sits at its last entry)."""
        if not self.breaks:
            return None
        return min(self.breaks, key=lambda b: b.entry_id if b.entry_id is not None else -1)


class ChainWalk:
    """Feed rows in id order, then `finish()`. `anchor` is a checkpoint the first row must follow
    (an exported segment that does not start at the genesis); without one it must be the genesis."""

    def __init__(self, checkpoints: Sequence[Checkpoint], *, anchor: Checkpoint | None = None) -> None:
        self._pending = sorted(checkpoints, key=lambda c: c.last_entry_id)
        self._anchor = anchor
        self._prev = anchor.head_hash if anchor is not None else GENESIS
        self._position = anchor.entry_count if anchor is not None else 0
        self._broken = False
        self.report = AuditReport(checkpoints=len(checkpoints) + (anchor is not None))

    def feed(self, row: ChainRow) -> None:
        report = self.report
        report.rows += 1
        report.first_id = row.id if report.first_id is None else report.first_id
        report.last_id = row.id
        if self._broken:
            return
        problem = row_problem(row, self._prev)
        if problem is not None:
            code, detail = problem
            if code == LINK and report.rows == 1 and self._anchor is None and row.prev_hash != GENESIS:
                code, detail = UNANCHORED, "the first row follows neither the genesis nor a checkpoint"
            self._break(ChainBreak(code, row.id, detail))
            return
        self._prev = row.entry_hash
        self._position += 1
        while self._pending and self._pending[0].last_entry_id <= row.id:
            checkpoint = self._pending.pop(0)
            if checkpoint.last_entry_id < row.id:
                self._break(ChainBreak(
                    CHECKPOINT_MISMATCH, checkpoint.last_entry_id,
                    f"checkpoint {checkpoint.id} was signed at entry {checkpoint.last_entry_id},"
                    " which is no longer in the log",
                    checkpoint.id,
                ))
                return
            if (checkpoint.head_hash, checkpoint.entry_count) != (row.entry_hash, self._position):
                self._break(ChainBreak(
                    CHECKPOINT_MISMATCH, row.id,
                    f"checkpoint {checkpoint.id} signed hash {checkpoint.head_hash[:16]}… after"
                    f" {checkpoint.entry_count} entries; the log has {row.entry_hash[:16]}… after"
                    f" {self._position}",
                    checkpoint.id,
                ))
                return

    def finish(self) -> AuditReport:
        if not self._broken and self._pending:
            checkpoint = self._pending[0]
            end = f"ends at entry {self.report.last_id}" if self.report.last_id else "is empty"
            self._break(ChainBreak(
                TRUNCATED, checkpoint.last_entry_id,
                f"the log {end}, but checkpoint {checkpoint.id} was signed at entry"
                f" {checkpoint.last_entry_id} after {checkpoint.entry_count} entries: rows were cut off",
                checkpoint.id,
            ))
        return self.report

    def _break(self, problem: ChainBreak) -> None:
        self._broken = True
        self.report.breaks.append(problem)


async def audit(
    rows: AsyncIterable[ChainRow],
    checkpoints: Sequence[Checkpoint],
    trust: signing.TrustStore,
    *,
    anchor: Checkpoint | None = None,
) -> AuditReport:
    """Check every checkpoint's signature (and token), then walk the chain against them."""
    walk = ChainWalk(checkpoints, anchor=anchor)
    async for row in rows:
        walk.feed(row)
    report = walk.finish()
    for checkpoint in [*([anchor] if anchor is not None else []), *checkpoints]:
        verdict = await check(checkpoint, trust)
        if verdict.timestamped_at is not None:
            report.timestamped += 1
        if verdict.problem is not None:
            code, detail = verdict.problem
            report.breaks.append(ChainBreak(
                code, checkpoint.last_entry_id, f"checkpoint {checkpoint.id}: {detail}", checkpoint.id
            ))
    return report
