"""A small, varied set of cases written straight into a store, for the operators' search and case
page tests (service layer on both databases, and the API over a live gateway)."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from gateway.domain.answer import Answer
from gateway.domain.case import Case
from gateway.domain.exchange import LogEntry
from gateway.domain.petition import (
    Address,
    Attachment,
    Channel,
    Feedback,
    Kind,
    Petition,
    PetitionUpdate,
    Sender,
    SenderType,
    UpdateAction,
)
from gateway.ports import UnitOfWorkFactory

ICT = timezone(timedelta(hours=7))
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=ICT)
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)  # the clock of the search (for `overdue`)
PDF = b"%PDF-1.7\n% a signed letter stands in here\n%%EOF\n"
SCAN = "Bản chụp CCCD".encode()


@dataclass(frozen=True)
class Spec:
    petition_id: str
    kind: Kind
    field_code: str | None
    unit: str
    name: str
    phone: str | None
    title: str
    content: str
    minutes: int  # received T0 + minutes
    due_days: int | None  # DueAt = T0 + days (before NOW: overdue if still open)
    moves: tuple[str, ...] = ()  # "assign", "claim", "complete", "withdraw"


SPECS = (
    Spec("PAKN-2026-000001", Kind.KIEN_NGHI, "NGUOI_CO_CONG", "CNCC", "Nguyễn Thị Hường", "0912345678",
         "Kiến nghị về chế độ người có công",
         "Đề nghị xem xét trợ cấp cho thân nhân người có công với cách mạng.",
         0, 10, ("assign",)),
    Spec("PAKN-2026-000002", Kind.PHAN_ANH, "VIEC_LAM", "CVL", "Trần Văn Đức", "+84 987 654 321",
         "Phản ánh chậm chi trả trợ cấp thất nghiệp", "Tôi nộp hồ sơ từ tháng 01/2026, gọi 0987654321.",
         5, 40, ("assign", "claim")),
    Spec("PAKN-2026-000003", Kind.HOI_DAP, "BAO_HIEM_XA_HOI", "VBHXH", "Lê Thị Đào", None,
         "Hỏi về cách tính lương hưu", "Cách tính lương hưu cho người có công tác ở vùng khó khăn?",
         10, 5, ("assign", "claim", "complete")),
    Spec("PAKN-2026-000004", Kind.KIEN_NGHI, "NGUOI_CO_CONG", "CNCC", "Phạm Đình Trọng", "0243 826 9554",
         "Chế độ cho NGƯỜI CÓ CÔNG", "Xin hỏi chính sách ưu đãi người có công năm 2026 (100% bảo hiểm y tế).",
         15, None, ()),
    Spec("PAKN-2026-000005", Kind.DBQH, None, "VPB", "Đại biểu Hoàng Minh", "0905111222",
         "Kiến nghị của đại biểu Quốc hội", "Đề nghị Bộ trả lời kiến nghị cử tri tỉnh Quảng Nam.",
         20, 3, ("assign", "withdraw")),
    Spec("PAKN-2026-000006", Kind.PHAN_ANH, "TRE_EM", "CTE", "Vũ Thị Mai", "0912345678",
         "Phản ánh về bảo vệ trẻ em", "Trẻ em bị bạo hành tại phường Đống Đa, email mai.vu@example.vn.",
         25, 60, ("assign",)),
    Spec("PAKN-2026-000007", Kind.KIEN_NGHI, "VIEC_LAM", "CVL", "Nguyễn Văn An", "0977000111",
         "Kiến nghị hỗ trợ đào tạo nghề", "Người lao động mất việc cần hỗ trợ học nghề.",
         30, 8, ("assign",)),
    Spec("PAKN-2026-000008", Kind.PHAN_ANH, "BAO_TRO_XA_HOI", "CBTXH", "Đỗ Thị Ngọc", None,
         "Trợ cấp xã hội hằng tháng", "Mẹ tôi 85 tuổi chưa được hưởng trợ cấp xã hội.",
         35, None, ("assign", "claim")),
)


def nfd(value: str) -> str:
    return unicodedata.normalize("NFD", value)


def petition_of(spec: Spec) -> Petition:
    return Petition(
        petition_id=spec.petition_id,
        kind=spec.kind,
        sender=Sender(
            type=SenderType.DAI_BIEU if spec.kind is Kind.DBQH else SenderType.CA_NHAN,
            full_name=spec.name,
            id_number="001190012345" if spec.phone else None,
            phone=spec.phone,
            email=f"{spec.petition_id.lower()}@example.vn",
            address=Address("Số 12 phố Đinh Tiên Hoàng, phường Hoàn Kiếm", "00070", "01"),
        ),
        title=spec.title,
        content=spec.content,
        channel=Channel.WEB,
        received_at=T0 + timedelta(minutes=spec.minutes),
        priority=2,
        publish_consent=True,
        field_code=spec.field_code,
        due_at=T0 + timedelta(days=spec.due_days) if spec.due_days is not None else None,
        attachments=(
            Attachment("cccd.jpg", "image/jpeg", len(SCAN), hashlib.sha256(SCAN).hexdigest(), SCAN),
        ),
    )


def final_status(spec: Spec) -> str:
    return {"": "03", "assign": "04", "claim": "05", "complete": "06", "withdraw": "08"}[
        spec.moves[-1] if spec.moves else ""
    ]


async def seed(uow: UnitOfWorkFactory, specs: tuple[Spec, ...] = SPECS) -> None:
    for spec in specs:
        petition = petition_of(spec)
        at = petition.received_at
        case = Case.arrive(spec.petition_id, spec.unit, petition.fingerprint(), at)
        async with uow() as u:
            await u.cases.add(case, petition)
            for n, move in enumerate(spec.moves, start=1):
                when = at + timedelta(hours=n)
                if move == "assign":
                    case.assign(when)
                elif move == "claim":
                    case.claim(spec.unit, when)
                elif move == "complete":
                    case.complete(spec.unit, when)
                else:
                    case.withdraw(when)
            await u.cases.save(case)
            await u.commit()


async def add_case_page_material(uow: UnitOfWorkFactory, petition_id: str, unit: str) -> None:
    """A supplement, an answer with its PDF, feedback, and two logged messages about the case."""
    at = T0 + timedelta(days=1)
    async with uow() as u:
        await u.updates.add_update(
            PetitionUpdate(petition_id, UpdateAction.SUPPLEMENT, "Bổ sung: số điện thoại mới 0911222333, "
                           "giấy xác nhận liệt sĩ", at),
            message_id=f"upd-{petition_id}",
        )
        await u.answers.add(
            Answer("ANS-1", petition_id, unit, "Trả lời ông/bà theo số 0912345678.", at, "Nguyễn Văn Bình",
                   "Cục trưởng", True, "tra-loi.pdf", PDF, hashlib.sha256(PDF).hexdigest())
        )
        await u.updates.add_feedback(
            Feedback(petition_id, "ANS-1", 4, at, "Cảm ơn, liên hệ 0911222333"),
            message_id=f"fb-{petition_id}",
        )
        await u.commit()
    for direction, operation, raw in (
        ("in", "SubmitPetition", f"<PetitionMessage>{petition_id}</PetitionMessage>".encode()),
        ("out", "SubmitPetition", b"<Receipt>accepted</Receipt>"),
    ):
        async with uow() as u:
            await u.message_log.append(
                LogEntry(direction, "127.0.0.1", operation, raw, "valid", at, message_id=f"m-{petition_id}",
                         outcome="accepted", petition_id=petition_id)
            )
            await u.commit()
