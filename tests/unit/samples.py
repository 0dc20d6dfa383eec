"""Domain objects for unit tests."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from gateway.domain.petition import (
    Address,
    Attachment,
    Channel,
    Header,
    Kind,
    Petition,
    Sender,
    SenderType,
)

VN = timezone(timedelta(hours=7))
WHEN = datetime(2026, 11, 28, 9, 30, tzinfo=VN)


def header(message_id: str = "0b6f3a52-1c1e-4a53-9d43-3b1a4c1f0e01") -> Header:
    return Header(message_id=message_id, sender="000.00.00.G22", recipient="000.00.00.G07", sent_at=WHEN)


def petition(
    petition_id: str = "PAKN-2026-000001",
    *,
    field_code: str | None = "BAO_HIEM_XA_HOI",
    kind: Kind = Kind.KIEN_NGHI,
    sender_type: SenderType = SenderType.CA_NHAN,
    content: str = "Đề nghị Bộ hướng dẫn cách tính lương hưu cho người lao động ở vùng đặc biệt khó khăn.",
) -> Petition:
    data = "Quyết định nghỉ hưu".encode()
    return Petition(
        petition_id=petition_id,
        kind=kind,
        sender=Sender(
            type=sender_type,
            full_name="Nguyễn Thị Hường",
            id_number="001190012345",
            address=Address("Số 12 phố Đinh Tiên Hoàng, phường Hoàn Kiếm", "00070", "01"),
        ),
        title="Kiến nghị về cách tính lương hưu",
        content=content,
        channel=Channel.WEB,
        received_at=WHEN,
        priority=2,
        publish_consent=True,
        field_code=field_code,
        attachments=(
            Attachment(
                "quyết-định.pdf", "application/pdf", len(data), hashlib.sha256(data).hexdigest(), data
            ),
        ),
    )
