"""Old message-log segments as JSON Lines, verifiable on their own (no database needed).

A segment always ends at a signed checkpoint, so its last row is vouched for, and starts either at
the genesis or right after an *anchor* checkpoint carried in the file. Layout, one JSON object a line:
a ``segment`` header, then the ``checkpoint`` lines (the anchor first, if any), then the ``entry``
lines in id order with their hashes, the raw message in base64 and the PetitionId the message is
about (a lookup key for a case's timeline, outside the chain like the store's column).

Errors: SegmentError (code ``Log.SegmentUnreadable``: a file that is not a segment;
``Log.NothingToExport``: no checkpoint to end a segment at; ``Log.AlreadyPruned``: the rows asked
for left the store in an earlier segment; ``Log.SegmentRecord``: a pruned segment's checkpoint is
gone). Pruning (log_prune.py) raises it too, with its own codes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import signing
from connectors.db.log_audit import AuditReport, audit
from connectors.db.log_audit_store import stored_checkpoints, stored_rows
from connectors.db.log_chain import ChainFields, ChainRow
from connectors.db.log_checkpoint import Checkpoint
from connectors.db.log_segments_store import anchor_of, last_segment
from connectors.db.session_access import SessionSource

SEGMENT_FORMAT = "pakn-message-log-segment/1"


class SegmentError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class ExportSummary:
    rows: int
    first_entry_id: int | None
    last_entry_id: int
    checkpoint_id: int | None
    anchor_id: int | None


@dataclass(frozen=True)
class SegmentPlan:
    """What a segment holds: the rows after `anchor` (or the genesis) up to `covering`."""

    before: datetime
    anchor: Checkpoint | None
    covering: Checkpoint
    inside: list[Checkpoint]  # the checkpoints among its rows, `covering` last

    @property
    def start(self) -> int:
        return self.anchor.last_entry_id if self.anchor is not None else 0


async def plan_segment(
    source: SessionSource, *, before: datetime, after_checkpoint: int | None = None
) -> SegmentPlan:
    """The segment up to the last checkpoint made before `before`, after the checkpoint
    `after_checkpoint` if given, else after the last pruned segment (or from the genesis)."""
    checkpoints = await stored_checkpoints(source)
    pruned = await last_segment(source)
    anchor = None
    if after_checkpoint is not None:
        anchor = next((c for c in checkpoints if c.id == after_checkpoint), None)
        if anchor is None:
            raise SegmentError("Log.NothingToExport", f"there is no checkpoint {after_checkpoint}")
    elif pruned is not None:
        anchor = anchor_of(pruned, checkpoints)
        if anchor is None:
            raise SegmentError(
                "Log.SegmentRecord", f"pruned segment {pruned.id} ends at a checkpoint no longer in the store"
            )
    start = anchor.last_entry_id if anchor is not None else 0
    if pruned is not None and start < pruned.last_entry_id:
        raise SegmentError(
            "Log.AlreadyPruned",
            f"entries up to {pruned.last_entry_id} were pruned into {pruned.path}; export after"
            f" checkpoint {pruned.checkpoint_id} (the default) or read that file",
        )
    candidates = [c for c in checkpoints if c.created_at < before and c.last_entry_id > start]
    if not candidates:
        raise SegmentError(
            "Log.NothingToExport",
            f"no checkpoint made before {before.isoformat()} after entry {start}: run `audit checkpoint`",
        )
    covering = candidates[-1]
    inside = [c for c in checkpoints if start < c.last_entry_id <= covering.last_entry_id]
    return SegmentPlan(before, anchor, covering, inside)


async def export_segment(
    source: SessionSource, out: Path, *, before: datetime, after_checkpoint: int | None = None
) -> ExportSummary:
    """Write the rows up to the last checkpoint made before `before` (after the anchor checkpoint
    `after_checkpoint`, if given) to `out`, atomically."""
    plan = await plan_segment(source, before=before, after_checkpoint=after_checkpoint)
    rows = stored_rows(source, after=plan.start, through=plan.covering.last_entry_id)
    return await write_segment(plan, rows, out)


async def write_segment(plan: SegmentPlan, rows: AsyncIterable[ChainRow], out: Path) -> ExportSummary:
    """Write `rows` (those of `plan`, in id order) with the plan's checkpoints to `out`, atomically
    and flushed to disk."""
    anchor, covering = plan.anchor, plan.covering
    last = covering.last_entry_id
    partial = out.with_name(out.name + ".partial")
    count = 0
    first: int | None = None
    with partial.open("w", encoding="utf-8") as file:
        _line(file, {
            "type": "segment", "format": SEGMENT_FORMAT, "exported_at": _iso(datetime.now(UTC)),
            "before": _iso(plan.before), "after_entry_id": plan.start, "last_entry_id": last,
        })
        for checkpoint in [*([anchor] if anchor is not None else []), *plan.inside]:
            _line(file, _checkpoint_doc(checkpoint, "anchor" if checkpoint is anchor else "covers"))
        async for row in rows:
            _line(file, _entry_doc(row))
            count += 1
            first = row.id if first is None else first
        file.flush()
        os.fsync(file.fileno())
    partial.replace(out)
    return ExportSummary(count, first, last, covering.id, anchor.id if anchor else None)


async def audit_segment(path: Path, trust: signing.TrustStore) -> AuditReport:
    """Verify an exported segment on its own: its links, its checkpoints and its anchor."""
    with path.open(encoding="utf-8") as file:
        lines = _documents(file)
        header = next(lines, None)
        if header is None or header.get("type") != "segment" or header.get("format") != SEGMENT_FORMAT:
            raise SegmentError("Log.SegmentUnreadable", f"{path} is not a {SEGMENT_FORMAT} file")
        anchor: Checkpoint | None = None
        checkpoints: list[Checkpoint] = []
        pending: dict[str, Any] | None = None
        for doc in lines:
            if doc.get("type") != "checkpoint":
                pending = doc
                break
            if doc.get("role") == "anchor":
                anchor = _checkpoint(doc)
            else:
                checkpoints.append(_checkpoint(doc))

        async def rows() -> AsyncIterator[ChainRow]:
            for doc in [pending] if pending is not None else []:
                yield _entry(doc)
            for doc in lines:
                yield _entry(doc)
                # hashing a large file must not hold the gateway's event loop (the nightly prune)
                await asyncio.sleep(0)

        return await audit(rows(), checkpoints, trust, anchor=anchor)


def file_digest(path: Path) -> tuple[str, int]:
    """(sha256 hex, size in bytes) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _documents(file: TextIO) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(file, start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SegmentError("Log.SegmentUnreadable", f"line {number}: {exc}") from exc
        if not isinstance(doc, dict):
            raise SegmentError("Log.SegmentUnreadable", f"line {number}: not a JSON object")
        yield doc


def _checkpoint_doc(c: Checkpoint, role: str) -> dict[str, Any]:
    return {
        "type": "checkpoint", "role": role, "id": c.id, "last_entry_id": c.last_entry_id,
        "head_hash": c.head_hash, "entry_count": c.entry_count, "ministry_id": c.ministry_id,
        "created_at": _iso(c.created_at), "signature": _b64(c.signature),
        "signer_certificate": c.signer_certificate,
        "timestamp_token": _b64(c.timestamp_token) if c.timestamp_token is not None else None,
    }


def _checkpoint(doc: dict[str, Any]) -> Checkpoint:
    try:
        token = doc["timestamp_token"]
        return Checkpoint(
            last_entry_id=int(doc["last_entry_id"]), head_hash=str(doc["head_hash"]),
            entry_count=int(doc["entry_count"]), ministry_id=str(doc["ministry_id"]),
            created_at=_instant(doc["created_at"]), signature=base64.b64decode(doc["signature"]),
            signer_certificate=str(doc["signer_certificate"]),
            timestamp_token=base64.b64decode(token) if token is not None else None,
            id=doc.get("id"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SegmentError("Log.SegmentUnreadable", f"bad checkpoint line: {exc!r}") from exc


def _entry_doc(row: ChainRow) -> dict[str, Any]:
    f = row.fields
    return {
        "type": "entry", "id": row.id, "direction": f.direction, "peer": f.peer,
        "operation": f.operation, "message_id": f.message_id, "signature_verdict": f.signature_verdict,
        "signer": f.signer, "outcome": f.outcome, "created_at": _iso(f.created_at),
        "raw": _b64(row.raw), "raw_sha256": row.raw_sha256, "prev_hash": row.prev_hash,
        "entry_hash": row.entry_hash, "petition_id": row.petition_id,  # a lookup key, not chained
    }


def _entry(doc: dict[str, Any]) -> ChainRow:
    try:
        if doc.get("type") != "entry":
            raise ValueError(f"expected an entry line, got {doc.get('type')!r}")
        fields = ChainFields(
            doc["direction"], doc["peer"], doc["operation"], doc["message_id"], doc["signature_verdict"],
            doc["signer"], doc["outcome"], _instant(doc["created_at"]),
        )
        return ChainRow(
            int(doc["id"]), fields, base64.b64decode(doc["raw"]), str(doc["raw_sha256"]),
            str(doc["prev_hash"]), str(doc["entry_hash"]), doc.get("petition_id"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SegmentError("Log.SegmentUnreadable", f"bad entry line: {exc!r}") from exc


def _line(file: TextIO, doc: dict[str, Any]) -> None:
    file.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _instant(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"time without offset: {value}")
    return moment


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
