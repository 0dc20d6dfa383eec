"""National portal → gateway → store → unit queue, over real HTTP with zeep built from the served
WSDL, real RabbitMQ, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import unicodedata
from typing import Any

import aio_pika
import httpx
import jsonschema
import pytest
import zeep.exceptions

from connectors.amqp.topology import unit_queue_name
from connectors.national_sim.generator import generate_petitions
from gateway.routing_config import load_config
from schemas import schema_dir
from tests.support.amqp import AMQP_URL
from tests.support.gateway import WAIT, LiveGateway

CASE_SCHEMA = json.loads((schema_dir() / "case-message-1.schema.json").read_text(encoding="utf-8"))


def one_petition(seed: int, **changes: Any) -> dict[str, Any]:
    petition = generate_petitions(1, seed=seed, attachment_ratio=1.0, field_codes=["BAO_HIEM_XA_HOI"])[0]
    petition.update(changes)
    return petition


async def take_from_queue(
    queue_name: str, expected: int, timeout: float = WAIT
) -> list[aio_pika.IncomingMessage]:
    """Consume exactly `expected` messages (acked) and check nothing more arrives right after."""
    connection = await aio_pika.connect(AMQP_URL, timeout=5)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name, ensure=True)
        got: list[aio_pika.IncomingMessage] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(got) < expected and asyncio.get_running_loop().time() < deadline:
            message = await queue.get(fail=False, no_ack=False)
            if message is None:
                await asyncio.sleep(0.1)
                continue
            await message.ack()
            got.append(message)
        await asyncio.sleep(0.5)
        extra = await queue.get(fail=False, no_ack=False)
        assert extra is None, f"unexpected extra message {extra.message_id if extra else ''}"
        return got


def unit_for(gateway: LiveGateway, field: str | None, kind: str, sender_type: str) -> str:
    from gateway.domain.petition import Kind, SenderType

    routing = load_config(gateway.settings.config_dir).routing
    return routing.route(field, Kind(kind), SenderType(sender_type)).code


async def test_wsdl_is_served_with_the_real_endpoint_address(sqlite_gateway: LiveGateway) -> None:
    async with httpx.AsyncClient() as http:
        wsdl = (await http.get(sqlite_gateway.wsdl_url)).text
        xsd = await http.get(f"{sqlite_gateway.soap_url}?xsd=pakn-exchange-1.xsd")
    assert f'location="{sqlite_gateway.base_url}/soap/pakn"' in wsdl
    assert f'schemaLocation="{sqlite_gateway.base_url}/soap/pakn?xsd=pakn-exchange-1.xsd"' in wsdl
    assert xsd.status_code == 200 and b'targetNamespace="urn:pakn:exchange:1"' in xsd.content
    client = await asyncio.to_thread(sqlite_gateway.client)
    operations = set(client.client.service._operations)
    assert operations == {"SubmitPetition", "SubmitPetitionUpdate", "SubmitFeedback", "GetPetitionStatus"}


async def test_petition_reaches_its_unit_queue_once_with_everything(gateway: LiveGateway) -> None:
    petition = one_petition(11)
    client = await asyncio.to_thread(gateway.client)
    receipt = await asyncio.to_thread(client.submit_petition, petition)
    assert receipt.Accepted and not receipt.Duplicate
    assert receipt.signature_verdict == "valid"  # the ministry signs its receipts

    unit = unit_for(gateway, "BAO_HIEM_XA_HOI", petition["Kind"], petition["Sender"]["Type"])
    assert unit == gateway.units["VBHXH"] or petition["Kind"] == "DBQH"
    case = await gateway.wait_status(petition["PetitionId"], "04")
    assert [h.status.value for h in case.history] == ["01", "03", "04"]
    assert [h.seq for h in case.history] == [1, 2, 3]

    [message] = await take_from_queue(unit_queue_name(unit), 1)
    assert message.correlation_id == petition["PetitionId"]
    assert message.type == "pakn.case.new"
    assert message.content_type == "application/json"
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    body = json.loads(message.body)
    jsonschema.validate(body, CASE_SCHEMA)
    assert body["message_id"] == message.message_id
    sent = body["petition"]
    assert sent["title"] == unicodedata.normalize("NFC", petition["Title"])
    assert sent["sender"]["full_name"] == petition["Sender"]["FullName"]
    assert sent["content"] == petition["Content"]
    for declared, carried in zip(petition["Attachments"]["Attachment"], sent["attachments"], strict=True):
        data = base64.b64decode(carried["data_base64"])
        assert data == declared["Data"]
        assert hashlib.sha256(data).hexdigest() == declared["Sha256"] == carried["sha256"]
        assert carried["file_name"] == declared["FileName"]

    report = await asyncio.to_thread(client.petition_status, petition["PetitionId"])
    assert report.StatusCode == "04"
    assert [s.StatusCode for s in report.History.Status] == ["01", "03", "04"]
    assert [s.Seq for s in report.History.Status] == [1, 2, 3]


async def test_duplicates_create_nothing_new(gateway: LiveGateway) -> None:
    petition = one_petition(12)
    client = await asyncio.to_thread(gateway.client)
    message_id = "5d0c7f3e-95a4-4d6b-9a3c-2f6e8b1c0a11"
    first = await asyncio.to_thread(client.submit_petition, petition, message_id=message_id)
    again = await asyncio.to_thread(client.submit_petition, petition, message_id=message_id)
    assert first.Accepted and not first.Duplicate
    assert again.Accepted and again.Duplicate and again.ReceiptId == first.ReceiptId
    resent = await asyncio.to_thread(client.submit_petition, petition)  # same content, new MessageId
    assert resent.Accepted and resent.Duplicate

    changed = dict(petition, Content=petition["Content"] + " Bổ sung thêm một câu.")
    with pytest.raises(zeep.exceptions.Fault) as fault:
        await asyncio.to_thread(client.submit_petition, changed)
    assert fault.value.code == "soap:Client.PetitionExists"
    assert "SubmitPetitionUpdate" in fault.value.message and "đã tồn tại" in fault.value.message

    unit = unit_for(gateway, petition.get("FieldCode"), petition["Kind"], petition["Sender"]["Type"])
    await gateway.wait_status(petition["PetitionId"], "04")
    messages = await take_from_queue(unit_queue_name(unit), 1)
    assert len(messages) == 1
    stored = await gateway.case(petition["PetitionId"])
    assert stored is not None and len(stored.history) == 3


async def test_concurrent_copies_of_one_message_make_one_case(sqlite_gateway: LiveGateway) -> None:
    petition = one_petition(13)
    message_id = "5d0c7f3e-95a4-4d6b-9a3c-2f6e8b1c0a12"

    def send() -> Any:
        return sqlite_gateway.client().submit_petition(petition, message_id=message_id)

    receipts = await asyncio.gather(*(asyncio.to_thread(send) for _ in range(6)))
    assert all(r.Accepted for r in receipts)
    assert sum(1 for r in receipts if not r.Duplicate) == 1
    assert len({r.ReceiptId for r in receipts}) == 1
    unit = unit_for(sqlite_gateway, petition.get("FieldCode"), petition["Kind"], petition["Sender"]["Type"])
    await sqlite_gateway.wait_status(petition["PetitionId"], "04")
    assert len(await take_from_queue(unit_queue_name(unit), 1)) == 1


async def test_updates_feedback_and_status_queries(gateway: LiveGateway) -> None:
    petition = one_petition(14)
    pid = petition["PetitionId"]
    client = await asyncio.to_thread(gateway.client)
    await asyncio.to_thread(client.submit_petition, petition)
    await gateway.wait_status(pid, "04")
    at = petition["ReceivedAt"]

    supplement = {
        "PetitionId": pid,
        "Action": "SUPPLEMENT",
        "Content": "Tôi gửi bổ sung sổ bảo hiểm xã hội.",
        "At": at,
    }
    assert (await asyncio.to_thread(client.submit_update, supplement)).Accepted
    feedback = {"PetitionId": pid, "AnswerId": "TL-1", "Rating": 4, "Comment": "Cảm ơn cán bộ", "At": at}
    with pytest.raises(zeep.exceptions.Fault) as no_answer:  # feedback belongs to an answer given
        await asyncio.to_thread(client.submit_feedback, feedback)
    assert no_answer.value.code == "soap:Client.UnknownAnswer"
    withdraw = {"PetitionId": pid, "Action": "WITHDRAW", "Content": "Tôi xin rút đơn.", "At": at}
    assert (await asyncio.to_thread(client.submit_update, withdraw)).Accepted
    case = await gateway.wait_status(pid, "08")
    assert [h.status.value for h in case.history] == ["01", "03", "04", "08"]

    with pytest.raises(zeep.exceptions.Fault) as closed:
        await asyncio.to_thread(client.submit_update, supplement)
    assert closed.value.code == "soap:Client.InvalidTransition"
    unknown = dict(supplement, PetitionId="KHONG-TON-TAI-1")
    with pytest.raises(zeep.exceptions.Fault) as missing:
        await asyncio.to_thread(client.submit_update, unknown)
    assert missing.value.code == "soap:Client.UnknownPetition"
    with pytest.raises(zeep.exceptions.Fault) as no_status:
        await asyncio.to_thread(client.petition_status, "KHONG-TON-TAI-1")
    assert no_status.value.code == "soap:Client.UnknownPetition"

    unit = unit_for(gateway, petition.get("FieldCode"), petition["Kind"], petition["Sender"]["Type"])
    types = [m.type for m in await take_from_queue(unit_queue_name(unit), 3)]
    assert types == ["pakn.case.new", "pakn.case.supplement", "pakn.case.withdrawn"]
