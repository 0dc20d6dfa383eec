"""The petition as JSON: what the fingerprint, the stored petition and the unit's case message are
made from. It must stay what `dataclasses.asdict` made, key for key and in order: a resend of a
petition stored before is told from a different petition by comparing fingerprints."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from gateway.domain.petition import (
    Address,
    Attachment,
    Channel,
    Kind,
    Petition,
    Sender,
    SenderType,
    attachments_json,
)

ICT = timezone(timedelta(hours=7))
CITIZEN = Petition(
    petition_id="PAKN-2026-0000042",
    kind=Kind.KIEN_NGHI,
    sender=Sender(
        type=SenderType.CA_NHAN,
        full_name="Nguyễn Thị Hường",
        id_number="001190012345",
        phone="0912345678",
        email="huong@example.vn",
        address=Address("Số 12 phố Đinh Tiên Hoàng, phường Hoàn Kiếm", "00070", "01"),
    ),
    title="Kiến nghị về chế độ người có công",
    content="Đề nghị xem xét trợ cấp cho thân nhân người có công.",
    channel=Channel.WEB,
    received_at=datetime(2026, 3, 2, 8, 0, tzinfo=ICT),
    priority=2,
    publish_consent=True,
    field_code="NGUOI_CO_CONG",
    due_at=datetime(2026, 3, 30, 17, 0, tzinfo=ICT),
    attachments=(Attachment("Bản chụp CCCD.pdf", "application/pdf", 3, "ABCDEF" * 10 + "abcd", b"abc"),),
)
BUSINESS = Petition(
    petition_id="PAKN-2026-0000043",
    kind=Kind.PHAN_ANH,
    sender=Sender(
        type=SenderType.DOANH_NGHIEP,
        full_name="Công ty TNHH Hoà Bình",
        tax_code="0101234567",
        organization_name="Công ty TNHH Hoà Bình",
    ),
    title="Phản ánh",
    content="Nội dung",
    channel=Channel.APP,
    received_at=datetime(2026, 3, 3, 9, 30, tzinfo=ICT),
    priority=0,
    publish_consent=False,
)
# computed by the code before to_json_dict stopped calling asdict (commit 527ade7)
PINNED = {
    "PAKN-2026-0000042": "323d076540b65ac8eb091cc1c11f7ba0e59130919db01bb994784b9343f8b71d",
    "PAKN-2026-0000043": "629aa08d9045e8a677e9373d69959a8dd39cc2d7bcf17748134d334fa1c23be5",
}


def reference(petition: Petition, *, include_data: bool) -> dict[str, Any]:
    """The former to_json_dict, on asdict."""
    doc = asdict(petition)
    doc["received_at"] = petition.received_at.isoformat()
    doc["due_at"] = petition.due_at.isoformat() if petition.due_at else None
    doc["attachments"] = attachments_json(petition.attachments, include_data=include_data)
    return doc


PETITIONS = [
    CITIZEN,
    BUSINESS,
    replace(CITIZEN, petition_id="PAKN-2026-0000044", sender=replace(CITIZEN.sender, address=None)),
    replace(CITIZEN, petition_id="PAKN-2026-0000045", attachments=(), due_at=None, field_code=None),
]


@pytest.mark.parametrize("petition", PETITIONS, ids=lambda p: p.petition_id)
@pytest.mark.parametrize("include_data", [False, True])
def test_the_json_is_what_asdict_made_key_for_key_and_in_order(
    petition: Petition, include_data: bool
) -> None:
    ours = petition.to_json_dict(include_data=include_data)
    theirs = reference(petition, include_data=include_data)
    assert ours == theirs
    # the stored petition is dumped without sorting its keys: the order is part of it
    assert json.dumps(ours, ensure_ascii=False, default=str) == json.dumps(
        theirs, ensure_ascii=False, default=str
    )


@pytest.mark.parametrize("petition", PETITIONS[:2], ids=lambda p: p.petition_id)
def test_fingerprints_of_petitions_stored_before_are_unchanged(petition: Petition) -> None:
    assert petition.fingerprint() == PINNED[petition.petition_id]


def test_the_json_is_a_copy_a_caller_may_change() -> None:
    doc = CITIZEN.to_json_dict(include_data=False)
    doc["sender"]["full_name"] = "X"
    doc["sender"]["address"]["line"] = "Y"
    assert CITIZEN.sender.full_name == "Nguyễn Thị Hường"
    assert CITIZEN.sender.address is not None and CITIZEN.sender.address.line.startswith("Số 12")
    assert CITIZEN.to_json_dict(include_data=False) == reference(CITIZEN, include_data=False)
