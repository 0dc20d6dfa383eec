"""Signed checkpoints of the message log: (last id, head hash, count, time, ministry) under the
gateway's key, with an RFC 3161 token over the signature when a timestamp authority is configured.

The chain alone proves nothing about rows cut off its end; a checkpoint does, and because the
statement is rebuilt from the stored columns at verification, editing a checkpoint breaks it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import signing

STATEMENT_FORMAT = "pakn-message-log-checkpoint/1"

# Stable codes of what can be wrong with a checkpoint.
CHECKPOINT_SIGNATURE = "Log.CheckpointSignature"
CHECKPOINT_TIMESTAMP = "Log.CheckpointTimestamp"


@dataclass(frozen=True)
class Checkpoint:
    last_entry_id: int
    head_hash: str
    entry_count: int  # rows of the chain from its genesis up to and including last_entry_id
    ministry_id: str
    created_at: datetime
    signature: bytes
    signer_certificate: str  # PEM, the signer first, then any intermediates
    timestamp_token: bytes | None = None
    id: int | None = None

    def statement(self) -> bytes:
        """The bytes signed: canonical JSON (sorted keys, no spaces, UTC time to the microsecond)."""
        doc = {
            "format": STATEMENT_FORMAT,
            "ministry_id": self.ministry_id,
            "last_entry_id": self.last_entry_id,
            "head_hash": self.head_hash,
            "entry_count": self.entry_count,
            "created_at": self.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class CheckpointVerdict:
    problem: tuple[str, str] | None  # (code, what is wrong)
    timestamped_at: datetime | None = None


async def seal(
    *,
    last_entry_id: int,
    head_hash: str,
    entry_count: int,
    ministry_id: str,
    at: datetime,
    key: signing.SigningKey,
    tsa_url: str | None,
) -> Checkpoint:
    """Sign the statement; with `tsa_url`, stamp the signature (a TimestampError if the authority fails)."""
    unsigned = Checkpoint(
        last_entry_id, head_hash, entry_count, ministry_id, at, b"", _pem(key.certificate, key.chain)
    )
    signature = signing.sign_statement(unsigned.statement(), key)
    token = await signing.request_timestamp(signature, tsa_url) if tsa_url else None
    return replace(unsigned, signature=signature, timestamp_token=token)


async def check(checkpoint: Checkpoint, trust: signing.TrustStore) -> CheckpointVerdict:
    """Signature valid and trusted at the checkpoint's time, by the ministry it names; token valid."""
    try:
        certificates = x509.load_pem_x509_certificates(checkpoint.signer_certificate.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        return CheckpointVerdict((CHECKPOINT_SIGNATURE, f"unreadable signer certificate: {exc}"))
    signer, *chain = certificates
    try:
        signing.verify_statement(
            checkpoint.statement(), checkpoint.signature, signer, trust, chain=chain,
            now=checkpoint.created_at,
        )
    except signing.SigningError as exc:
        return CheckpointVerdict((CHECKPOINT_SIGNATURE, f"{exc.code}: {exc}"))
    organisation = signing.organisation_id(signer)
    if organisation is not None and organisation != checkpoint.ministry_id:
        return CheckpointVerdict(
            (CHECKPOINT_SIGNATURE, f"signed by {organisation}, not by the ministry {checkpoint.ministry_id}")
        )
    if checkpoint.timestamp_token is None:
        return CheckpointVerdict(None)
    try:
        stamped = await signing.verify_timestamp(checkpoint.timestamp_token, checkpoint.signature, trust)
    except signing.SigningError as exc:
        return CheckpointVerdict((CHECKPOINT_TIMESTAMP, f"{exc.code}: {exc}"))
    return CheckpointVerdict(None, stamped)


def _pem(certificate: x509.Certificate, chain: tuple[x509.Certificate, ...]) -> str:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (certificate, *chain)).decode("ascii")
