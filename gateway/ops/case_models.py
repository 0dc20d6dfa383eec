"""The JSON of the operators' case routes (gateway.ops.cases_api), as documented in OpenAPI, built
from the service layer's results (already masked for viewers)."""

# No `from __future__ import annotations` here: pydantic and FastAPI read these annotations at runtime.

from datetime import datetime

from pydantic import BaseModel, Field

from gateway.domain.case_views import CaseDetail
from gateway.domain.petition import Petition
from gateway.ops.case_page import CasePage
from gateway.ops.case_search import FoundCase, SearchPage

BASE = "/api/ops/cases"


class CaseHitOut(BaseModel):
    petition_id: str
    kind: str
    status: str
    unit_code: str
    field_code: str | None
    title: str
    sender_type: str
    sender_name: str
    organization_name: str | None
    phone: str | None = Field(description="Masked for viewers")
    email: str | None = Field(description="Masked for viewers")
    id_number: str | None = Field(description="Citizen id number; masked for viewers")
    received_at: datetime
    due_at: datetime | None = Field(
        description="The case's deadline: the portal's DueAt, else counted in working days at acceptance"
    )
    updated_at: datetime
    overdue: bool = Field(description="Open and past due_at")
    due_soon: bool = Field(False, description="Open, not overdue, due within the due-soon working days")
    href: str


class CaseSearchOut(BaseModel):
    items: list[CaseHitOut]
    limit: int
    next_cursor: str | None = Field(description="Pass as `cursor` (same filters) for the next page")
    masked: bool = Field(description="Personal data is masked (the caller is a viewer)")


class AddressOut(BaseModel):
    line: str
    ward_code: str | None
    province_code: str | None


class SenderOut(BaseModel):
    type: str
    full_name: str
    id_number: str | None
    tax_code: str | None
    organization_name: str | None
    phone: str | None
    email: str | None
    address: AddressOut | None


class PetitionOut(BaseModel):
    kind: str
    sender: SenderOut
    title: str
    content: str
    channel: str
    received_at: datetime
    due_at: datetime | None
    priority: int
    publish_consent: bool
    field_code: str | None
    procedure_code: str | None


class HistoryOut(BaseModel):
    seq: int
    status: str
    unit_code: str
    description: str
    changed_at: datetime


class MessageOut(BaseModel):
    id: int
    direction: str = Field(description="in | out")
    peer: str
    operation: str
    message_id: str | None
    signature_verdict: str
    signer: str | None
    outcome: str | None
    at: datetime
    size: int
    raw_sha256: str
    raw_href: str | None = Field(description="The raw XML; null for viewers")


class AttachmentOut(BaseModel):
    id: int
    update_id: int | None = Field(description="null: sent with the petition; else with that update")
    file_name: str
    content_type: str
    size: int
    sha256: str
    href: str | None = Field(description="null for viewers")


class UpdateOut(BaseModel):
    id: int
    message_id: str
    action: str
    content: str
    at: datetime


class AnswerOut(BaseModel):
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
    document_href: str | None = Field(description="The signed PDF; null for viewers")


class FeedbackOut(BaseModel):
    message_id: str
    answer_id: str
    rating: int
    comment: str | None
    at: datetime


class CasePageOut(BaseModel):
    petition_id: str
    status: str
    unit_code: str
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None = Field(
        description="The case's deadline: the portal's DueAt, else counted in working days at acceptance"
    )
    due_source: str | None = Field(description="portal, calendar, none (no limit configured for the kind)")
    overdue: bool
    masked: bool = Field(description="Personal data is masked (the caller is a viewer)")
    documents: bool = Field(description="The caller may download raw messages, PDFs and attachments")
    petition: PetitionOut
    history: list[HistoryOut]
    messages: list[MessageOut] = Field(description="Every logged message in and out, oldest first")
    attachments: list[AttachmentOut]
    updates: list[UpdateOut]
    answers: list[AnswerOut]
    feedback: list[FeedbackOut]


def search_out(page: SearchPage) -> CaseSearchOut:
    return CaseSearchOut(
        items=[_hit_out(item) for item in page.items],
        limit=page.limit,
        next_cursor=page.next_cursor,
        masked=page.masked,
    )


def _hit_out(item: FoundCase) -> CaseHitOut:
    h = item.hit
    return CaseHitOut(**vars(h), overdue=item.overdue, due_soon=item.due_soon, href=f"{BASE}/{h.petition_id}")


def page_out(page: CasePage) -> CasePageOut:
    d: CaseDetail = page.detail
    pid = d.petition.petition_id
    base = f"{BASE}/{pid}"
    docs = page.documents
    return CasePageOut(
        petition_id=pid,
        status=d.status,
        unit_code=d.unit_code,
        created_at=d.created_at,
        updated_at=d.updated_at,
        due_at=d.due_at,
        due_source=d.due_source,
        overdue=page.overdue,
        masked=page.masked,
        documents=docs,
        petition=_petition_out(d.petition),
        history=[HistoryOut(**{**vars(h), "status": h.status.value}) for h in d.history],
        messages=[
            MessageOut(**vars(m), raw_href=f"{base}/messages/{m.id}/raw" if docs else None)
            for m in d.messages
        ],
        attachments=[
            AttachmentOut(**vars(a), href=f"{base}/attachments/{a.id}" if docs else None)
            for a in d.attachments
        ],
        updates=[UpdateOut(**vars(u)) for u in d.updates],
        answers=[
            AnswerOut(**vars(a), document_href=f"{base}/answers/{a.answer_id}/document" if docs else None)
            for a in d.answers
        ],
        feedback=[FeedbackOut(**vars(f)) for f in d.feedback],
    )


def _petition_out(p: Petition) -> PetitionOut:
    s = p.sender
    address = AddressOut(**vars(s.address)) if s.address else None
    return PetitionOut(
        kind=p.kind.value,
        sender=SenderOut(**{**vars(s), "type": s.type.value, "address": address}),
        title=p.title,
        content=p.content,
        channel=p.channel.value,
        received_at=p.received_at,
        due_at=p.due_at,
        priority=p.priority,
        publish_consent=p.publish_consent,
        field_code=p.field_code,
        procedure_code=p.procedure_code,
    )
