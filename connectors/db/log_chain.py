"""The message log's hash chain: entry_hash = sha256(prev_hash ‖ canonical fields ‖ sha256(raw)).

Changing a stored message, its metadata or their order breaks every later link; `verify_chain`
finds the first broken row. (Cutting rows off the end leaves a shorter valid chain: anchor the head
hash elsewhere, e.g. in a daily report, to prove that too.)
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
