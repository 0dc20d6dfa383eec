"""The whole message log's audit after pruning: the rows left in the store and every export file.

The store keeps, per pruned segment, the file's path, sha256 and bounds (log_segments_store.py).
Each file must still be there (in its recorded place or in `segments_dir`), hash to what was
recorded, verify on its own (log_export.audit_segment) and hold exactly the recorded entries; the
segments must follow one another from the genesis; and the rows left must follow the newest one
(log_audit_store.audit_store). So a pruned prefix is not a break, but a file edited, swapped or
lost is, and so is a row deleted from what remains.
"""

from __future__ import annotations

from pathlib import Path

import signing
from connectors.db.log_audit import SEGMENT_RECORD, AuditReport, ChainBreak
from connectors.db.log_audit_store import audit_store, stored_checkpoints
from connectors.db.log_checkpoint import Checkpoint
from connectors.db.log_export import SegmentError, audit_segment, file_digest
from connectors.db.log_segments_store import PrunedSegment, recorded_segments
from connectors.db.session_access import SessionSource

# Stable codes of what can be wrong with a pruned segment.
SEGMENT_GAP = "Log.SegmentGap"
SEGMENT_MISSING = "Log.SegmentMissing"
SEGMENT_DIGEST = "Log.SegmentDigest"


async def audit_log(
    source: SessionSource, trust: signing.TrustStore, *, segments_dir: Path | None = None
) -> AuditReport:
    """The stored rows and checkpoints, then every pruned segment's record and file."""
    report = await audit_store(source, trust)
    segments = await recorded_segments(source)
    by_id = {c.id: c for c in await stored_checkpoints(source)}
    previous: PrunedSegment | None = None
    for segment in segments:
        report.breaks += _record_problems(segment, previous, by_id.get(segment.checkpoint_id))
        report.breaks += await _file_problems(segment, trust, segments_dir)
        previous = segment
    report.segments = len(segments)
    return report


def _record_problems(
    segment: PrunedSegment, previous: PrunedSegment | None, checkpoint: Checkpoint | None
) -> list[ChainBreak]:
    problems = []
    after, length = (previous.last_entry_id, previous.chain_length) if previous else (0, 0)
    if segment.after_entry_id != after or segment.chain_length - length != segment.row_count:
        problems.append(ChainBreak(
            SEGMENT_GAP, segment.first_entry_id,
            f"segment {segment.id} holds {segment.row_count} entries after entry {segment.after_entry_id};"
            f" the one before it ends at entry {after} after {length} entries",
        ))
    if checkpoint is None or (checkpoint.last_entry_id, checkpoint.head_hash, checkpoint.entry_count) != (
        segment.last_entry_id, segment.head_hash, segment.chain_length,
    ):
        problems.append(ChainBreak(
            SEGMENT_RECORD, segment.last_entry_id,
            f"segment {segment.id} does not end where its checkpoint {segment.checkpoint_id} was signed",
            segment.checkpoint_id,
        ))
    return problems


async def _file_problems(
    segment: PrunedSegment, trust: signing.TrustStore, segments_dir: Path | None
) -> list[ChainBreak]:
    recorded = Path(segment.path)
    path = segments_dir / recorded.name if segments_dir is not None else recorded
    at = segment.first_entry_id
    if not path.is_file():
        return [ChainBreak(
            SEGMENT_MISSING, at,
            f"the export of entries {at}–{segment.last_entry_id} is not at {path}: they cannot be"
            " vouched for (give --segments-dir if the files were moved)",
        )]
    problems = []
    if file_digest(path)[0] != segment.sha256:
        problems.append(ChainBreak(
            SEGMENT_DIGEST, at, f"{path} is not the file that was exported (sha256 differs from the record)"
        ))
    try:
        report = await audit_segment(path, trust)
    except SegmentError as exc:
        return [*problems, ChainBreak(exc.code, at, f"{path}: {exc}")]
    problems += [
        ChainBreak(b.code, b.entry_id, f"{path}: {b.detail}", b.checkpoint_id) for b in report.breaks
    ]
    if problems:
        return problems
    if (report.first_id, report.last_id, report.rows) != (at, segment.last_entry_id, segment.row_count):
        return [ChainBreak(
            SEGMENT_RECORD, at,
            f"{path} holds entries {report.first_id}–{report.last_id} ({report.rows}), the record says"
            f" {at}–{segment.last_entry_id} ({segment.row_count})",
        )]
    return []

