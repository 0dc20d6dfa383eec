"""Values exchanged with the national portal and with units that are not petitions themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Receipt:
    """The answer to every national push (DESIGN §2). `Accepted=true` only after the commit."""

    message_id: str
    receipt_id: str
    accepted: bool
    duplicate: bool = False
    error_code: str | None = None
    error_text: str | None = None

    def as_duplicate(self) -> Receipt:
        return Receipt(
            self.message_id, self.receipt_id, self.accepted, True, self.error_code, self.error_text
        )


@dataclass(frozen=True)
class SeenMessage:
    """A MessageId to remember with the receipt it got: what `ReceiptBook.remember` takes, as one value."""

    receipt: Receipt
    operation: str
    petition_id: str | None
    at: datetime


@dataclass(frozen=True)
class OutboxMessage:
    """A message committed with the state change that caused it, published later by the relay."""

    message_id: str
    exchange: str
    routing_key: str
    type: str
    correlation_id: str
    body: bytes
    created_at: datetime
    id: int | None = None  # assigned by the store
    attempts: int = 0


@dataclass(frozen=True)
class CaseSummary:
    """One line of a unit's case list (REST), without the petition's attachments."""

    petition_id: str
    kind: str
    title: str
    unit_code: str
    status: str
    received_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LogEntry:
    """One raw message in or out, as the message log keeps it (DESIGN §4)."""

    direction: str  # "in" | "out"
    peer: str
    operation: str
    raw: bytes
    signature_verdict: str  # "valid", "invalid:<code>", "absent", "not-checked", "signed"
    at: datetime
    message_id: str | None = None
    signer: str | None = None
    outcome: str | None = None  # "accepted", "duplicate", or a fault code
    petition_id: str | None = None  # the case it is about, where known (outside the hash chain)


@dataclass(frozen=True)
class NationalMessage:
    """One message for the national portal, kept until its Receipt says Accepted (DESIGN §4).

    Per petition they go out in `id` order; `message_id` is fixed at creation so a resend after a
    lost receipt is recognised by the portal as the same message.
    """

    petition_id: str
    operation: str  # "ReceiveStatus" | "ReceiveAnswer" | "RequestTransfer"
    message_id: str
    payload: dict[str, Any]  # the request's payload element as JSON (Status / Answer / Transfer)
    created_at: datetime
    id: int | None = None
    state: str = "pending"  # pending | delivered | dead
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    # failures that were neither the portal's answer nor an outage (a bug, a message the client cannot
    # send): these climb the retry ladder, then the message is dead (national_sender.py)
    unexpected_failures: int = 0


@dataclass(frozen=True)
class PetitionPage:
    """One page of the portal's `ListPetitions` (pull mode, reconciliation), as far as it verified.

    Each petition is kept as the `Petition` element the portal signed, serialised on its own, so the
    inbound decoder (the one pushed petitions go through) reads it and nothing else does.
    """

    petitions: tuple[bytes, ...]
    next_cursor: str | None
    message_id: str
    """The MessageId of the ListQuery that fetched it (the message log pairs them)."""
