"""What operators read about cases: search hits and everything a case page shows.

Read models, not aggregates: the store fills them straight from its rows (`gateway.ports.CaseReads`)
and nothing writes through them. Personal data is in them unmasked; `gateway.domain.personal_data` masks it
for whoever may not see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gateway.domain.case import StatusChange
from gateway.domain.petition import Petition


@dataclass(frozen=True)
class CaseHit:
    """One search result."""

    petition_id: str
    kind: str
    status: str
    unit_code: str
    field_code: str | None
    title: str
    sender_type: str
    sender_name: str
    organization_name: str | None
    phone: str | None
    email: str | None
    id_number: str | None
    received_at: datetime
    due_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class AttachmentView:
    id: int
    update_id: int | None  # None: sent with the petition; else with that supplement
    file_name: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class UpdateView:
    id: int
    message_id: str
    action: str
    content: str
    at: datetime


@dataclass(frozen=True)
class FeedbackView:
    message_id: str
    answer_id: str
    rating: int
    comment: str | None
    at: datetime


@dataclass(frozen=True)
class AnswerView:
    """An answer without its PDF bytes (downloaded on their own)."""

    answer_id: str
    unit_code: str
    content: str
    answered_at: datetime
    signer_name: str
    signer_position: str
    publish: bool
    document_name: str
    document_sha256: str
    document_size: int


@dataclass(frozen=True)
class LoggedMessage:
    """One message-log entry of the case, without its raw bytes."""

    id: int
    direction: str
    peer: str
    operation: str
    message_id: str | None
    signature_verdict: str
    signer: str | None
    outcome: str | None
    at: datetime
    size: int
    raw_sha256: str


@dataclass(frozen=True)
class CaseDetail:
    """Everything the case page shows, read in one transaction."""

    petition: Petition  # without attachment bytes: see `attachments`
    status: str
    unit_code: str
    created_at: datetime
    updated_at: datetime
    history: tuple[StatusChange, ...]
    attachments: tuple[AttachmentView, ...] = ()
    updates: tuple[UpdateView, ...] = ()
    feedback: tuple[FeedbackView, ...] = ()
    answers: tuple[AnswerView, ...] = ()
    messages: tuple[LoggedMessage, ...] = ()
    # the case's deadline (the portal's DueAt, or counted in working days at acceptance), not only
    # what the petition carried: `petition.due_at` is the portal's alone
    due_at: datetime | None = None
    due_source: str | None = None


@dataclass(frozen=True)
class Document:
    """Bytes to download: a raw logged message, a signed answer PDF, an attachment."""

    file_name: str
    content_type: str
    sha256: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class UnitToken:
    """A unit's REST token as operators see it: never the secret (only its hash is stored)."""

    id: int
    unit_code: str
    label: str
    created_at: datetime
    revoked_at: datetime | None
