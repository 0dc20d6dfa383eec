import json
import unicodedata
from dataclasses import replace

import pytest

from gateway.domain.answer import Answer
from gateway.domain.case import Status
from gateway.domain.errors import InvalidTransition
from gateway.domain.petition import Feedback, Kind, PetitionUpdate, SenderType, UpdateAction
from gateway.inbound.errors import PetitionExists, UnknownAnswer, UnknownPetition
from gateway.inbound.intake import Intake
from gateway.routing_config import load_config
from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.samples import WHEN, header, petition

pytestmark = pytest.mark.unit


def make_intake() -> tuple[Intake, FakeUnitOfWorkFactory, list[int]]:
    uow = FakeUnitOfWorkFactory()
    wakes: list[int] = []
    intake = Intake(
        uow=uow, routing=load_config().routing, on_commit=lambda: wakes.append(1), clock=lambda: WHEN
    )
    return intake, uow, wakes


async def test_accepted_only_after_commit_with_case_and_outbox_row() -> None:
    intake, uow, wakes = make_intake()
    receipt = await intake.submit_petition(header(), petition())
    assert receipt.accepted and not receipt.duplicate
    world = uow.world
    assert world.commits == 1 and wakes == [1]
    case = world.cases["PAKN-2026-000001"]
    assert case.status is Status.ACCEPTED and case.unit_code == "VBHXH"
    [row] = world.outbox
    assert row.exchange == "pakn.cases" and row.routing_key == "unit.VBHXH.case.new"
    assert row.correlation_id == "PAKN-2026-000001" and row.type == "pakn.case.new"
    body = json.loads(row.body)
    assert body["petition"]["sender"]["full_name"] == "Nguyễn Thị Hường"
    assert body["petition"]["attachments"][0]["data_base64"]


async def test_repeated_message_id_returns_first_receipt_and_creates_nothing() -> None:
    intake, uow, _ = make_intake()
    first = await intake.submit_petition(header(), petition())
    again = await intake.submit_petition(header(), petition())
    assert again.duplicate and again.receipt_id == first.receipt_id and again.accepted
    assert len(uow.world.outbox) == 1 and uow.world.commits == 1


async def test_same_petition_under_new_message_id_is_a_duplicate() -> None:
    intake, uow, _ = make_intake()
    await intake.submit_petition(header(), petition())
    receipt = await intake.submit_petition(header("0b6f3a52-1c1e-4a53-9d43-3b1a4c1f0e02"), petition())
    assert receipt.duplicate and receipt.accepted
    assert len(uow.world.outbox) == 1


async def test_same_petition_id_with_other_content_is_refused() -> None:
    intake, uow, _ = make_intake()
    await intake.submit_petition(header(), petition())
    with pytest.raises(PetitionExists):
        await intake.submit_petition(
            header("0b6f3a52-1c1e-4a53-9d43-3b1a4c1f0e03"), petition(content="Nội dung khác hẳn")
        )
    assert len(uow.world.outbox) == 1 and len(uow.world.receipts) == 1


async def test_text_is_stored_in_nfc() -> None:
    intake, uow, _ = make_intake()
    composed = "Đề nghị giải quyết chế độ"  # NFC as typed
    nfd = unicodedata.normalize("NFD", composed)
    assert nfd != composed
    await intake.submit_petition(header(), petition(content=nfd))
    stored = uow.world.petitions["PAKN-2026-000001"]
    assert stored.content == composed


async def test_withdraw_closes_the_case_and_tells_the_unit() -> None:
    intake, uow, _ = make_intake()
    await intake.submit_petition(header(), petition())
    update = PetitionUpdate("PAKN-2026-000001", UpdateAction.WITHDRAW, "Tôi xin rút đơn", WHEN)
    receipt = await intake.submit_update(header("0b6f3a52-1c1e-4a53-9d43-3b1a4c1f0e04"), update)
    assert receipt.accepted
    assert uow.world.cases["PAKN-2026-000001"].status is Status.WITHDRAWN
    assert uow.world.outbox[-1].routing_key == "unit.VBHXH.case.withdrawn"
    with pytest.raises(InvalidTransition):
        await intake.submit_update(header("0b6f3a52-1c1e-4a53-9d43-3b1a4c1f0e05"), update)


async def test_supplement_reaches_the_holding_unit() -> None:
    intake, uow, _ = make_intake()
    await intake.submit_petition(header(), petition())
    update = PetitionUpdate("PAKN-2026-000001", UpdateAction.SUPPLEMENT, "Bổ sung giấy tờ", WHEN)
    await intake.submit_update(header("0b6f3a52-1c1e-4a53-9d43-3b1a4c1f0e06"), update)
    assert uow.world.cases["PAKN-2026-000001"].status is Status.ACCEPTED
    body = json.loads(uow.world.outbox[-1].body)
    assert body["type"] == "pakn.case.supplement" and body["update"]["content"] == "Bổ sung giấy tờ"


async def test_update_or_feedback_for_unknown_petition_is_refused() -> None:
    intake, uow, _ = make_intake()
    with pytest.raises(UnknownPetition):
        await intake.submit_update(header(), PetitionUpdate("KHONG-CO", UpdateAction.SUPPLEMENT, "x", WHEN))
    with pytest.raises(UnknownPetition):
        await intake.submit_feedback(header(), Feedback("KHONG-CO", "A-1", 5, WHEN))
    assert uow.world.commits == 0


async def test_feedback_is_stored_against_the_answer_and_forwarded() -> None:
    intake, uow, _ = make_intake()
    await intake.submit_petition(header(), petition())
    fb = Feedback("PAKN-2026-000001", "ANS-1", 4, WHEN, "Cảm ơn Bộ đã trả lời")
    with pytest.raises(UnknownAnswer):  # no such answer yet
        await intake.submit_feedback(header("0b6f3a52-1c1e-4a53-9d43-3b1a4c1f0e08"), fb)
    uow.world.answers.append(
        Answer(
            "ANS-1",
            "PAKN-2026-000001",
            "VBHXH",
            "Trả lời",
            WHEN,
            "Nguyễn Văn An",
            "Vụ trưởng",
            True,
            "a.pdf",
            b"%PDF",
        )
    )
    await intake.submit_feedback(header("0b6f3a52-1c1e-4a53-9d43-3b1a4c1f0e07"), fb)
    assert uow.world.feedback == [fb]
    assert json.loads(uow.world.outbox[-1].body)["feedback"]["rating"] == 4


async def test_routing_follows_kind_and_sender() -> None:
    intake, uow, _ = make_intake()
    p = replace(
        petition("DBQH-1"), kind=Kind.DBQH, sender=replace(petition().sender, type=SenderType.DAI_BIEU)
    )
    await intake.submit_petition(header(), p)
    assert uow.world.cases["DBQH-1"].unit_code == "VPB"
