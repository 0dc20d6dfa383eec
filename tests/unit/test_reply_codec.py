"""A unit's reply: JSON ⇄ UnitReply (schema urn:pakn:unit-reply:1), and the AMQP intake built on it
(routing key, message id, refusals naming the unit to tell), with in-memory fakes."""

from __future__ import annotations

import base64
import json
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from connectors.amqp.reply_consumer import ReplyRefusal
from gateway.domain.petition import PetitionUpdate, UpdateAction
from gateway.domain.reply import ReplyKind, UnitReply
from gateway.inbound.intake import Intake
from gateway.outbound.errors import InvalidReply
from gateway.outbound.replies import Replies
from gateway.outbound.reply_codec import (
    MAX_PDF_BYTES,
    parse_json,
    reply_from_bytes,
    reply_from_json,
    reply_schema,
    reply_to_json,
)
from gateway.outbound.reply_intake import ReplyIntake
from gateway.ports import StoreConflict, StoreError
from gateway.routing_config import load_config
from schemas import schema_dir
from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.samples import VN, WHEN, header, petition

pytestmark = pytest.mark.unit

PID = "PAKN-2026-000001"
MID = "6f1c2f0e-8a51-4c1e-9d43-3b1a4c1f0e01"
NOW = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
TINY_PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\nstartxref\n9\n%%EOF\n"


def doc(type_: str, **fields: Any) -> dict[str, Any]:
    return {
        "schema": "urn:pakn:unit-reply:1",
        "version": 1,
        "message_id": MID,
        "type": type_,
        "petition_id": PID,
        "unit_code": "VBHXH",
        **fields,
    }


ANSWER = {"content": "Bộ trả lời như sau: …", "signer_name": "Nguyễn Văn An", "signer_position": "Vụ trưởng"}


def decode(d: dict[str, Any], **kw: Any) -> UnitReply:
    return reply_from_json(d, clock=lambda: NOW, **kw)


def refused(d: object, match: str, **kw: Any) -> str:
    with pytest.raises(InvalidReply, match=match) as caught:
        reply_from_json(d, clock=lambda: NOW, **kw)
    return caught.value.message


# ---------------------------------------------------------------- every type decodes


def test_claim_decodes_and_takes_the_clock_when_it_has_no_time() -> None:
    reply = decode(doc("claim"))
    assert reply == UnitReply(MID, ReplyKind.CLAIM, PID, "VBHXH", NOW)


def test_time_keeps_its_offset() -> None:
    reply = decode(doc("claim", at="2026-11-28T09:30:00+07:00"))
    assert reply.at == WHEN and reply.at.utcoffset() == VN.utcoffset(None)
    assert decode(doc("claim", at="2026-11-28T02:30:00.250Z")).at == NOW.replace(microsecond=250_000)


def test_note_decodes_its_text() -> None:
    reply = decode(doc("note", text="Đang xác minh"))
    assert (reply.kind, reply.note, reply.answer) == (ReplyKind.NOTE, "Đang xác minh", None)


def test_answer_decodes_with_and_without_a_pdf() -> None:
    plain = decode(doc("answer", **ANSWER, publish=True))
    assert plain.kind is ReplyKind.ANSWER and plain.answer is not None
    assert (plain.answer.content, plain.answer.signer_name, plain.answer.signer_position) == (
        ANSWER["content"],
        "Nguyễn Văn An",
        "Vụ trưởng",
    )
    assert plain.answer.publish is True and plain.answer.pdf is None
    pdf = base64.b64encode(TINY_PDF).decode()
    with_pdf = decode(doc("answer", **ANSWER, publish=False, pdf_base64=pdf))
    assert with_pdf.answer is not None and with_pdf.answer.pdf == TINY_PDF and not with_pdf.answer.publish


def test_transfer_decodes_with_and_without_a_reason() -> None:
    reply = decode(doc("transfer", to_unit="CVL", reason="Thuộc lĩnh vực việc làm"))
    assert (reply.kind, reply.to_unit, reply.note) == (ReplyKind.TRANSFER, "CVL", "Thuộc lĩnh vực việc làm")
    assert decode(doc("transfer", to_unit="CVL")).note is None


def test_transfer_out_decodes_with_and_without_a_suggested_organisation() -> None:
    reply = decode(
        doc("transfer_out", reason="Thuộc thẩm quyền Bộ Nội vụ", suggested_organ_id="000.00.00.G09")
    )
    assert (reply.kind, reply.note, reply.suggested_organ_id) == (
        ReplyKind.TRANSFER_OUT,
        "Thuộc thẩm quyền Bộ Nội vụ",
        "000.00.00.G09",
    )
    assert decode(doc("transfer_out", reason="Không thuộc thẩm quyền")).suggested_organ_id is None


@pytest.mark.parametrize(
    "reply",
    [
        UnitReply(MID, ReplyKind.CLAIM, PID, "VBHXH", WHEN),
        UnitReply(MID, ReplyKind.NOTE, PID, "VBHXH", WHEN, note="Đang xác minh"),
        UnitReply(MID, ReplyKind.TRANSFER, PID, "VBHXH", WHEN, note="lý do", to_unit="CVL"),
        UnitReply(
            MID, ReplyKind.TRANSFER_OUT, PID, "VBHXH", WHEN, note="lý do", suggested_organ_id="000.00.00.G09"
        ),
    ],
    ids=lambda r: r.kind.value,
)
def test_what_a_unit_would_send_decodes_back_to_the_same_reply(reply: UnitReply) -> None:
    assert decode(reply_to_json(reply)) == reply


def test_an_answer_round_trips_with_its_pdf() -> None:
    reply = decode(doc("answer", **ANSWER, publish=True, pdf_base64=base64.b64encode(TINY_PDF).decode()))
    assert decode(reply_to_json(reply)) == reply


def test_bytes_decode_like_the_document() -> None:
    body = json.dumps(doc("note", text="Đang xác minh"), ensure_ascii=False).encode()
    assert reply_from_bytes(body, clock=lambda: NOW) == decode(doc("note", text="Đang xác minh"))


# ---------------------------------------------------------------- NFC


def test_all_text_is_stored_in_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn Ánh đề nghị xác minh")
    assert nfd != unicodedata.normalize("NFC", nfd)
    nfc = unicodedata.normalize("NFC", nfd)
    answer = decode(doc("answer", content=nfd, signer_name=nfd, signer_position=nfd, publish=True)).answer
    assert answer is not None
    assert (answer.content, answer.signer_name, answer.signer_position) == (nfc, nfc, nfc)
    assert decode(doc("note", text=nfd)).note == nfc
    assert decode(doc("transfer", to_unit="CVL", reason=nfd)).note == nfc
    assert decode(doc("transfer_out", reason=nfd)).note == nfc
    assert (
        decode(doc("claim", petition_id="HS-" + unicodedata.normalize("NFD", "Đơn"))).petition_id == "HS-Đơn"
    )


# ---------------------------------------------------------------- schema violations


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (doc("note"), "'text' is a required property"),
        (doc("answer", **ANSWER), "'publish' is a required property"),
        (doc("answer", content="x", publish=True), "'signer_name' is a required property"),
        (doc("transfer"), "'to_unit' is a required property"),
        (doc("transfer_out"), "'reason' is a required property"),
        (doc("claim", text="x"), "field 'text' does not belong to a claim reply"),
        (doc("note", text="x", to_unit="CVL"), "field 'to_unit' does not belong to a note reply"),
        (doc("transfer", to_unit="CVL", suggested_organ_id="000.00.00.G09"), "does not belong to a transfer"),
        (doc("claim", colour="red"), "field 'colour' does not belong"),
        (doc("approve"), r"\$.type: 'approve' is not one of"),
        (doc("claim", message_id="not-a-uuid"), r"\$.message_id"),
        (doc("claim", version=2), r"\$.version: 1 was expected"),
        (doc("claim", schema="urn:pakn:case-message:1"), r"\$.schema"),
        (doc("claim", unit_code="vbhxh"), r"\$.unit_code"),
        (doc("claim", petition_id=""), r"\$.petition_id"),
        (doc("claim", petition_id="x" * 41), r"\$.petition_id"),
        (doc("claim", at="2026-11-28T09:30:00"), r"\$.at"),  # no offset
        (doc("claim", at="28/11/2026"), r"\$.at"),
        (doc("note", text="   \n"), r"\$.text"),  # blank
        (doc("note", text="x" * 3901), r"\$.text"),
        (doc("answer", **ANSWER, publish="yes"), r"\$.publish"),
        (doc("transfer", to_unit="cvl"), r"\$.to_unit"),
        (doc("transfer_out", reason="x", suggested_organ_id="G09"), r"\$.suggested_organ_id"),
        ({k: v for k, v in doc("claim").items() if k != "message_id"}, "'message_id' is a required property"),
    ],
)
def test_schema_violations_are_refused_saying_where(bad: dict[str, Any], match: str) -> None:
    message = refused(bad, match)
    assert message.startswith("not a valid urn:pakn:unit-reply:1 document: ")


@pytest.mark.parametrize("bad", [[], "claim", 3, None, True])
def test_a_reply_is_a_json_object(bad: object) -> None:
    refused(bad, "a reply is a JSON object")


def test_unparseable_bodies_are_refused() -> None:
    with pytest.raises(InvalidReply, match="not JSON"):
        parse_json(b"{claim")
    with pytest.raises(InvalidReply, match="not UTF-8"):
        parse_json('{"text": "Đơn"}'.encode("utf-16"))
    with pytest.raises(InvalidReply, match="not JSON"):
        parse_json(b"[" * 100_000)  # nesting deep enough to exhaust the parser


def test_a_time_that_does_not_exist_is_refused() -> None:
    refused(doc("claim", at="2026-02-30T09:30:00+07:00"), "at: '2026-02-30T09:30:00[+]07:00' is not a date")


def test_a_body_naming_another_unit_is_refused() -> None:
    refused(doc("claim"), "names unit VBHXH but was sent for unit CVL", unit_code="CVL")
    assert decode(doc("claim"), unit_code="VBHXH").unit_code == "VBHXH"


def test_a_huge_value_is_not_quoted_back_whole() -> None:
    message = refused(doc("note", text="x" * 1_000_000), r"\$.text")
    assert len(message) < 400


# ---------------------------------------------------------------- the PDF


def pdf_doc(encoded: str) -> dict[str, Any]:
    return doc("answer", **ANSWER, publish=True, pdf_base64=encoded)


@pytest.mark.parametrize(
    ("encoded", "match"),
    [
        (base64.b64encode(TINY_PDF).decode()[:-1], "not strict base64"),  # bad padding
        ("JVBERi0x*LjcK", "not strict base64"),  # outside the alphabet
        (base64.encodebytes(TINY_PDF * 4).decode(), "not strict base64"),  # line breaks (MIME style)
        (base64.urlsafe_b64encode(b"%PDF-\xfb\xff\xfe" * 3).decode(), "not strict base64"),  # - and _
        (base64.b64encode(b"<html>not a pdf</html>").decode(), "not a PDF"),
        (base64.b64encode(b" %PDF-1.7").decode(), "not a PDF"),
        (base64.b64encode(TINY_PDF[:-12]).decode(), "not a whole PDF"),  # truncated
        (base64.b64encode(TINY_PDF + b"\0" * 1024).decode(), "not a whole PDF"),  # trailer buried
    ],
)
def test_a_pdf_must_be_strict_base64_of_a_pdf(encoded: str, match: str) -> None:
    refused(pdf_doc(encoded), match)


def test_a_pdf_may_have_20_mib_and_not_a_byte_more() -> None:
    trailer = b"\nstartxref\n0\n%%EOF\n"
    at_limit = b"%PDF-" + b"\0" * (MAX_PDF_BYTES - 5 - len(trailer)) + trailer
    reply = decode(pdf_doc(base64.b64encode(at_limit).decode()))
    assert (
        reply.answer is not None and reply.answer.pdf is not None and len(reply.answer.pdf) == MAX_PDF_BYTES
    )
    # one byte more still fits the schema's maxLength (base64 pads to 4): the decoder counts bytes
    refused(pdf_doc(base64.b64encode(at_limit[:5] + b"\0" + at_limit[5:]).decode()), "more than 20971520")
    refused(pdf_doc("A" * (MAX_PDF_BYTES * 2)), r"\$.pdf_base64")  # refused before decoding


# ---------------------------------------------------------------- the contract files


def test_the_schemas_are_valid_and_their_examples_pass() -> None:
    for name in ("unit-reply-1.schema.json", "unit-error-1.schema.json"):
        schema = json.loads((schema_dir() / name).read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        assert schema["examples"]
        for example in schema["examples"]:
            validator.validate(example)
    for example in reply_schema()["examples"]:
        assert decode(example).message_id == example["message_id"]


def test_the_asyncapi_document_describes_replies_and_errors() -> None:
    api = yaml.safe_load((schema_dir() / "asyncapi.yaml").read_text(encoding="utf-8"))
    messages = api["components"]["messages"]
    assert messages["unitReply"]["payload"]["schema"]["$ref"] == "./unit-reply-1.schema.json"
    assert messages["unitError"]["payload"]["schema"]["$ref"] == "./unit-error-1.schema.json"
    channels = api["channels"]
    assert channels["replies"]["address"] == "pakn.replies"
    assert channels["repliesQueue"]["address"] == "pakn.gateway.replies"
    assert channels["unitErrors"]["address"] == "pakn.unit.{unitCode}.errors"
    actions = {(op["action"], op["channel"]["$ref"]) for op in api["operations"].values()}
    assert {
        ("send", "#/channels/replies"),
        ("receive", "#/channels/repliesQueue"),
        ("send", "#/channels/unitErrors"),
        ("receive", "#/channels/unitErrors"),
    } <= actions
    for op in api["operations"].values():  # every reference resolves
        for ref in op["messages"]:
            _, channel, _, message = ref["$ref"].lstrip("#/").split("/")
            assert message in channels[channel]["messages"]


# ---------------------------------------------------------------- the AMQP intake, on fakes


class FakeLetterMaker:
    """A FAKE AnswerDocuments for unit tests only: returns the unit's PDF, or a tiny one, unsigned."""

    def __init__(self) -> None:
        self.calls = 0

    async def signed_letter(self, *, draft: Any, **_: object) -> bytes:
        self.calls += 1
        return draft.pdf or TINY_PDF


async def intake_on_fakes() -> tuple[ReplyIntake, FakeUnitOfWorkFactory, FakeLetterMaker]:
    uow = FakeUnitOfWorkFactory()
    routing = load_config().routing
    await Intake(uow=uow, routing=routing, clock=lambda: WHEN).submit_petition(header(), petition())
    async with uow() as u:  # the relay's confirm: VBHXH holds the case (04)
        case = await u.cases.get(PID)
        assert case is not None
        case.assign(WHEN)
        await u.cases.save(case)
        await u.commit()
    letters = FakeLetterMaker()
    replies = Replies(uow=uow, routing=routing, documents=letters, clock=lambda: WHEN)
    return ReplyIntake(replies, clock=lambda: WHEN), uow, letters


def body(type_: str, *, message_id: str | None = None, **fields: Any) -> bytes:
    d = doc(type_, **fields) | {"message_id": message_id or str(uuid.uuid4())}
    return json.dumps(d, ensure_ascii=False).encode()


SAME_AS_BODY = "same as the body"


async def send(
    intake: ReplyIntake, raw: bytes, key: str | None = None, message_id: str | None = SAME_AS_BODY
) -> None:
    """As the consumer calls it; by default with the routing key and AMQP message_id a unit should use."""
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = {}
    key = key or f"unit.{decoded.get('unit_code', 'VBHXH')}.reply.{decoded.get('type', 'claim')}"
    amqp_id = decoded.get("message_id") if message_id == SAME_AS_BODY else message_id
    await intake(raw, message_id=amqp_id, routing_key=key)


async def refusal(intake: ReplyIntake, raw: bytes, **kw: Any) -> ReplyRefusal:
    with pytest.raises(ReplyRefusal) as caught:
        await send(intake, raw, **kw)
    return caught.value


async def test_claim_then_answer_with_the_units_own_pdf() -> None:
    intake, uow, letters = await intake_on_fakes()
    await send(intake, body("claim"))
    assert uow.world.cases[PID].status.value == "05"
    pdf = base64.b64encode(TINY_PDF).decode()
    await send(intake, body("answer", **ANSWER, publish=True, pdf_base64=pdf))
    assert uow.world.cases[PID].status.value == "06"
    [answer] = uow.world.answers
    assert answer.document == TINY_PDF and letters.calls == 1


async def test_the_same_reply_twice_is_applied_once() -> None:
    intake, uow, _ = await intake_on_fakes()
    raw = body("note", text="Đang xác minh")
    await send(intake, raw)
    await send(intake, raw)
    assert [h.description for h in uow.world.cases[PID].history].count(
        "Đã chuyển đơn vị xử lý / Assigned to a unit: Đang xác minh"
    ) == 1


async def test_an_answer_to_a_withdrawn_case_is_refused_to_the_unit_saying_why() -> None:
    intake, uow, letters = await intake_on_fakes()
    intake_for_updates = Intake(uow=uow, routing=load_config().routing, clock=lambda: WHEN)
    update = PetitionUpdate(PID, UpdateAction.WITHDRAW, "Tôi rút đơn", WHEN)
    await intake_for_updates.submit_update(header("0b6f3a52-1c1e-4a53-9d43-3b1a4c1f0e99"), update)
    mid = str(uuid.uuid4())
    got = await refusal(intake, body("answer", message_id=mid, **ANSWER, publish=True))
    assert (got.code, got.unit_code, got.petition_id, got.reply_message_id) == (
        "InvalidTransition",
        "VBHXH",
        PID,
        mid,
    )
    assert "08" in got.message_en and "withdrawn" in got.message_en
    assert "08" in got.message_vi and "rút đơn" in got.message_vi and "trả lời" in got.message_vi
    assert letters.calls == 0 and uow.world.answers == []


async def test_a_unit_that_never_held_the_case_learns_nothing_of_it() -> None:
    intake, _, _ = await intake_on_fakes()
    foreign = await refusal(intake, body("claim", unit_code="CVL"))
    missing = await refusal(intake, body("claim", unit_code="CVL", petition_id="KHONG-CO-HO-SO"))
    assert (foreign.code, missing.code) == ("UnknownCase", "UnknownCase")
    assert foreign.unit_code == "CVL"
    assert foreign.message_en == f"Unit CVL has no case {PID}."


async def test_a_unit_that_handed_the_case_on_is_told_it_moved() -> None:
    intake, uow, _ = await intake_on_fakes()
    await send(intake, body("transfer", to_unit="CVL", reason="Thuộc lĩnh vực việc làm"))
    assert uow.world.cases[PID].unit_code == "CVL"
    got = await refusal(intake, body("claim"))
    assert (got.code, got.unit_code) == ("WrongUnit", "VBHXH")
    assert "CVL" not in got.message_en  # who holds it now is not said
    await send(intake, body("claim", unit_code="CVL"))
    assert uow.world.cases[PID].status.value == "05"


async def test_a_transfer_to_an_unknown_unit_is_refused() -> None:
    intake, _, _ = await intake_on_fakes()
    got = await refusal(intake, body("transfer", to_unit="KHONG_CO"))
    assert (got.code, got.unit_code) == ("UnknownUnit", "VBHXH")
    itself = await refusal(intake, body("transfer", to_unit="VBHXH"))
    assert itself.code == "InvalidReply" and "another unit" in itself.message_en


@pytest.mark.parametrize(
    ("key", "amqp_id", "match"),
    [
        ("unit.CVL.reply.claim", SAME_AS_BODY, "names unit VBHXH but was sent for unit CVL"),
        ("unit.VBHXH.reply.note", SAME_AS_BODY, "says note, the body claim"),
        ("replies.VBHXH", SAME_AS_BODY, "is not unit.<UNIT>.reply.<type>"),
        (None, "00000000-0000-4000-8000-000000000000", "is not the message's message_id"),
    ],
)
async def test_routing_key_and_message_id_must_agree_with_the_body(
    key: str | None, amqp_id: str, match: str
) -> None:
    intake, _, _ = await intake_on_fakes()
    got = await refusal(intake, body("claim"), key=key, message_id=amqp_id)
    assert got.code == "InvalidReply" and match in got.message_en
    # the routing key's unit is told; with no unit in the key, the body's
    assert got.unit_code == ("CVL" if key and key.startswith("unit.CVL") else "VBHXH")


async def test_a_missing_amqp_message_id_falls_back_to_the_bodys() -> None:
    intake, uow, _ = await intake_on_fakes()
    await send(intake, body("claim", message_id=MID), message_id=None)
    assert MID in uow.world.receipts


async def test_garbage_names_the_routing_keys_unit_or_nobody() -> None:
    intake, _, _ = await intake_on_fakes()
    told = await refusal(intake, b"\xff\xfe garbage", key="unit.VBHXH.reply.claim")
    assert (told.code, told.unit_code, told.petition_id) == ("InvalidReply", "VBHXH", None)
    nobody = await refusal(intake, b"{not json", key="anything")
    assert nobody.unit_code is None
    unconfigured = await refusal(intake, body("claim", unit_code="KHONG_CO"), key="unit.KHONG_CO.reply.claim")
    assert unconfigured.unit_code is None  # it has no error queue: dead-lettered by the consumer


async def test_a_lost_race_is_retried_and_a_store_outage_passes_through() -> None:
    intake, uow, _ = await intake_on_fakes()
    calls = 0
    real = uow.__call__

    def flaky() -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise StoreConflict("another writer")
        return real()

    intake._replies.uow = flaky
    await send(intake, body("claim"))
    assert uow.world.cases[PID].status.value == "05" and calls > 1

    def down() -> Any:
        raise StoreError("store unavailable")

    intake._replies.uow = down
    with pytest.raises(StoreError):
        await send(intake, body("note", text="x"))
