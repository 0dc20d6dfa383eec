"""A case page through the service layer, on SQLite and PostgreSQL: timeline, history, supplements,
answers, feedback, attachments, downloads; viewers masked and refused the documents."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.case_search_store import SqlCaseReads
from connectors.db.message_log_store import verify_chain
from connectors.db.tables import CaseRow
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.operators import Principal, Role
from gateway.ops.case_page import CasePages
from gateway.ops.errors import NotFound, PersonalDataHidden
from tests.support.case_samples import NOW, PDF, SCAN, add_case_page_material, seed

pytestmark = pytest.mark.integration

PID = "PAKN-2026-000001"
OPERATOR = Principal("op", Role.OPERATOR)
VIEWER = Principal("viewer", Role.VIEWER)


@pytest.fixture
async def pages(db_migrated: AsyncEngine, db_uow: SqlUnitOfWorkFactory) -> CasePages:
    await seed(db_uow)
    await add_case_page_material(db_uow, PID, "CNCC")
    return CasePages(SqlCaseReads(db_migrated), lambda: NOW)


async def test_the_page_holds_everything_about_the_case(pages: CasePages) -> None:
    page = await pages.page(OPERATOR, PID)
    d = page.detail
    assert (d.status, d.unit_code, page.overdue) == ("04", "CNCC", True)
    assert (page.masked, page.documents) == (False, True)
    assert [(h.seq, h.status.value) for h in d.history] == [(1, "01"), (2, "03"), (3, "04")]
    assert d.petition.sender.full_name == "Nguyễn Thị Hường"
    assert d.petition.sender.phone == "0912345678"
    assert [(m.direction, m.operation, m.signature_verdict, m.outcome) for m in d.messages] == [
        ("in", "SubmitPetition", "valid", "accepted"),
        ("out", "SubmitPetition", "valid", "accepted"),
    ]
    assert d.messages[0].size == len(f"<PetitionMessage>{PID}</PetitionMessage>")
    assert [(u.action, u.content[:8]) for u in d.updates] == [("SUPPLEMENT", "Bổ sung:")]
    [answer] = d.answers
    assert (answer.answer_id, answer.document_size, answer.document_sha256) == (
        "ANS-1",
        len(PDF),
        hashlib.sha256(PDF).hexdigest(),
    )
    assert [(f.rating, f.comment) for f in d.feedback] == [(4, "Cảm ơn, liên hệ 0911222333")]
    assert [(a.file_name, a.size, a.update_id) for a in d.attachments] == [("cccd.jpg", len(SCAN), None)]


async def test_documents_download_whole_for_operators(pages: CasePages) -> None:
    detail = (await pages.page(OPERATOR, PID)).detail
    raw = await pages.raw_message(OPERATOR, PID, detail.messages[0].id)
    assert raw.data == f"<PetitionMessage>{PID}</PetitionMessage>".encode()
    assert raw.sha256 == hashlib.sha256(raw.data).hexdigest()
    pdf = await pages.answer_document(OPERATOR, PID, "ANS-1")
    assert (pdf.data, pdf.content_type, pdf.file_name) == (PDF, "application/pdf", "tra-loi.pdf")
    scan = await pages.attachment(OPERATOR, PID, detail.attachments[0].id)
    assert (scan.data, scan.content_type) == (SCAN, "image/jpeg")


async def test_a_document_of_another_case_is_not_found_through_this_one(pages: CasePages) -> None:
    detail = (await pages.page(OPERATOR, PID)).detail
    other = "PAKN-2026-000002"
    with pytest.raises(NotFound) as caught:
        await pages.raw_message(OPERATOR, other, detail.messages[0].id)
    assert caught.value.code == "Case.UnknownMessage"
    with pytest.raises(NotFound):
        await pages.attachment(OPERATOR, other, detail.attachments[0].id)
    with pytest.raises(NotFound):
        await pages.answer_document(OPERATOR, other, "ANS-1")
    with pytest.raises(NotFound) as caught:
        await pages.page(OPERATOR, "PAKN-NOPE")
    assert caught.value.code == "UnknownCase"


async def test_viewers_read_the_page_masked_and_get_no_documents(pages: CasePages) -> None:
    page = await pages.page(VIEWER, PID)
    d = page.detail
    assert (page.masked, page.documents) == (True, False)
    sender = d.petition.sender
    assert (sender.phone, sender.id_number, sender.email) == ("•••••••678", "•••••••••345", "p•••@example.vn")
    assert sender.full_name == "Nguyễn Thị Hường"
    text = repr(d)
    for secret in ("0912345678", "001190012345", "0911222333", "pakn-2026-000001@example.vn"):
        assert secret not in text, secret
    assert d.feedback[0].comment == "Cảm ơn, liên hệ •••••••333"
    assert d.answers[0].content == "Trả lời ông/bà theo số •••••••678."
    assert len(d.messages) == 2  # the timeline is there; only its raw bytes are withheld
    for download in (
        pages.raw_message(VIEWER, PID, d.messages[0].id),
        pages.answer_document(VIEWER, PID, "ANS-1"),
        pages.attachment(VIEWER, PID, d.attachments[0].id),
    ):
        with pytest.raises(PersonalDataHidden) as caught:
            await download
        assert caught.value.code == "PersonalData.Hidden"


async def test_petition_ids_on_the_log_leave_the_hash_chain_intact(
    pages: CasePages, db_uow: SqlUnitOfWorkFactory
) -> None:
    async with db_uow() as uow:
        assert await verify_chain(uow) == (True, None)


async def test_overdue_follows_the_cases_deadline_not_only_the_portals_due_at(
    pages: CasePages, db_migrated: AsyncEngine
) -> None:
    """A deadline counted in working days lives in ``cases.due_at``; the petition's own DueAt may be
    absent or differ. The page shows and judges by the case's deadline."""
    later = NOW + timedelta(days=3)
    async with db_migrated.begin() as c:
        await c.execute(
            sa.update(CaseRow).where(CaseRow.petition_id == PID).values(due_at=later, due_source="calendar")
        )
    page = await pages.page(OPERATOR, PID)
    assert (page.detail.due_at, page.detail.due_source, page.overdue) == (later, "calendar", False)
    async with db_migrated.begin() as c:
        await c.execute(
            sa.update(CaseRow).where(CaseRow.petition_id == PID).values(due_at=NOW - timedelta(hours=1))
        )
    assert (await pages.page(OPERATOR, PID)).overdue is True
