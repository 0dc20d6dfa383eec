"""The message log's hash chain: entry_hash = sha256(prev_hash ‖ canonical fields ‖ sha256(raw)).

Changing a stored message, its metadata or their order breaks every later link; `row_problem`
says what is wrong with a row. Cutting rows off the end leaves a shorter valid chain: the signed
checkpoints (log_checkpoint.py) anchor the head so that is caught too (log_audit.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainFields:
    direction: str
    peer: str
    operation: str
    message_id: str | None
    signature_verdict: str
    signer: str | None
    outcome: str | None
    created_at: datetime

    def canonical(self) -> bytes:
        doc = [
            self.direction,
            self.peer,
            self.operation,
            self.message_id,
            self.signature_verdict,
            self.signer,
            self.outcome,
            self.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        ]
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def raw_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def link_hash(prev_hash: str, fields: ChainFields, raw_sha256: str) -> str:
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(fields.canonical())
    digest.update(b"\n")
    digest.update(raw_sha256.encode("ascii"))
    return digest.hexdigest()


@dataclass(frozen=True)
class ChainRow:
    """One stored row as the chain sees it (from the store or from an exported segment)."""

    id: int
    fields: ChainFields
    raw: bytes
    raw_sha256: str
    prev_hash: str
    entry_hash: str
    petition_id: str | None = None  # the case it is about: a lookup key, not covered by the chain


# Stable codes of what can be wrong with a row, checked in this order.
RAW_DIGEST = "Log.RawDigest"
LINK = "Log.Link"
ENTRY_HASH = "Log.EntryHash"


def row_problem(row: ChainRow, expected_prev: str) -> tuple[str, str] | None:
    """(code, what is wrong) for a row that does not follow `expected_prev`, or None if it does."""
    if raw_digest(row.raw) != row.raw_sha256:
        return RAW_DIGEST, "the raw message is not the one whose digest was chained (raw bytes changed)"
    if row.prev_hash != expected_prev:
        return LINK, (
            "prev_hash is not the previous row's entry_hash (a row before it was deleted, inserted"
            " or reordered)"
        )
    if link_hash(row.prev_hash, row.fields, row.raw_sha256) != row.entry_hash:
        return ENTRY_HASH, (
            "entry_hash does not recompute (direction, peer, operation, MessageId, verdict, signer,"
            " outcome, time or raw digest changed)"
        )
    return None
