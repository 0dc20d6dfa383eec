"""A case as operators see it: the petition, its status history, the timeline of every message in
and out (with its signature verdict), supplements, answers, feedback and attachments; and the
documents behind them, downloaded one by one.

Viewers get the page with citizen id numbers, phones and emails masked, in the sender's fields and
in every free text. They do not get the documents: a raw message is the signed evidence of what was
exchanged (masking it would make a document nobody signed, and its signature would no longer
verify), and answer PDFs and citizens' files can hold personal data no pattern finds (a scanned
id card). So a document is given in full to operators and admins, and refused to viewers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from gateway.domain.case_views import CaseDetail, Document
from gateway.domain.operators import Principal
from gateway.domain.personal_data import mask_email, mask_id_number, mask_phone, mask_text
from gateway.domain.petition import Petition, Sender
from gateway.domain.search import is_overdue
from gateway.ops.errors import NotFound, PersonalDataHidden
from gateway.ports import CaseReads


@dataclass(frozen=True)
class CasePage:
    detail: CaseDetail
    overdue: bool
    masked: bool  # personal data masked (the caller is a viewer)
    documents: bool  # the caller may download raw messages, answer PDFs and attachments


class CasePages:
    def __init__(self, reads: CaseReads, clock: Callable[[], datetime]) -> None:
        self._reads = reads
        self._clock = clock

    async def page(self, principal: Principal, petition_id: str) -> CasePage:
        detail = await self._reads.detail(petition_id)
        if detail is None:
            raise _unknown_case(petition_id)
        full = principal.sees_personal_data
        overdue = is_overdue(detail.due_at, detail.status, self._clock())
        return CasePage(detail if full else mask_detail(detail), overdue, not full, full)

    async def raw_message(self, principal: Principal, petition_id: str, entry_id: int) -> Document:
        _documents_allowed(principal)
        found = await self._reads.raw_message(petition_id, entry_id)
        if found is None:
            raise NotFound(
                f"hồ sơ {petition_id} không có thông điệp {entry_id}",
                f"case {petition_id} has no logged message {entry_id}",
                code="Case.UnknownMessage",
            )
        return found

    async def answer_document(self, principal: Principal, petition_id: str, answer_id: str) -> Document:
        _documents_allowed(principal)
        found = await self._reads.answer_document(petition_id, answer_id)
        if found is None:
            raise NotFound(
                f"hồ sơ {petition_id} không có trả lời {answer_id}",
                f"case {petition_id} has no answer {answer_id}",
                code="Case.UnknownDocument",
            )
        return found

    async def attachment(self, principal: Principal, petition_id: str, attachment_id: int) -> Document:
        _documents_allowed(principal)
        found = await self._reads.attachment(petition_id, attachment_id)
        if found is None:
            raise NotFound(
                f"hồ sơ {petition_id} không có tệp đính kèm {attachment_id}",
                f"case {petition_id} has no attachment {attachment_id}",
                code="Case.UnknownDocument",
            )
        return found


def mask_detail(detail: CaseDetail) -> CaseDetail:
    """Everything a viewer reads of a case, personal data masked."""
    replace = dataclasses.replace
    return replace(
        detail,
        petition=mask_petition(detail.petition),
        history=tuple(replace(h, description=mask_text(h.description) or "") for h in detail.history),
        updates=tuple(replace(u, content=mask_text(u.content) or "") for u in detail.updates),
        feedback=tuple(replace(f, comment=mask_text(f.comment)) for f in detail.feedback),
        answers=tuple(replace(a, content=mask_text(a.content) or "") for a in detail.answers),
    )


def mask_petition(petition: Petition) -> Petition:
    sender: Sender = dataclasses.replace(
        petition.sender,
        id_number=mask_id_number(petition.sender.id_number),
        phone=mask_phone(petition.sender.phone),
        email=mask_email(petition.sender.email),
    )
    return dataclasses.replace(
        petition,
        sender=sender,
        title=mask_text(petition.title) or "",
        content=mask_text(petition.content) or "",
    )


def _documents_allowed(principal: Principal) -> None:
    if not principal.sees_personal_data:
        raise PersonalDataHidden(
            "vai trò viewer không được tải tài liệu gốc (có thể chứa dữ liệu cá nhân không che được)",
            "viewers may not download original documents: they may hold personal data that cannot be"
            " masked (signed XML, PDF letters, citizens' files)",
        )


def _unknown_case(petition_id: str) -> NotFound:
    return NotFound(f"không có hồ sơ {petition_id}", f"no case {petition_id}")
