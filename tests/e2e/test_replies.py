"""Units reply through REST and AMQP to the real gateway (real HTTP, real RabbitMQ, SQLite and
PostgreSQL): claim, note, transfer to another unit, transfer out; refusals as problem bodies or as
messages on the unit's error queue naming the reply.

Each gateway gets a RabbitMQ virtual host of its own: every gateway consumes ``pakn.gateway.replies``
of its vhost, so on a shared vhost gateways of concurrent test runs would take each other's replies.

Answers go through the gateway's real letter rendering and PAdES signing; that the signatures
verify (pdfsig, pyhanko) is proven by the signing tests, here only that a signed letter is stored
and announced to the portal in order.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from connectors.amqp.topology import unit_error_queue_name, unit_queue_name
from tests.e2e.unit_side import (
    ERRORS,
    SIGNER,
    issue_token,
    minimal_pdf,
    national,
    petition_at_its_unit,
    problem,
    publish_reply,
    queue_depth,
    reply_doc,
    take,
)
from tests.support.gateway import WAIT, LiveGateway, eventually

pytestmark = pytest.mark.e2e


async def test_a_unit_claims_notes_and_transfers_over_rest(gw: LiveGateway) -> None:
    pid, holder = await petition_at_its_unit(gw, seed=71)
    assert holder == gw.units["VBHXH"]
    other = gw.units["CVL"]
    [new_case] = await take(gw.settings.amqp_url, unit_queue_name(holder), 1)
    assert json.loads(new_case.body)["petition_id"] == pid
    token = await asyncio.to_thread(issue_token, gw, holder)
    other_token = await asyncio.to_thread(issue_token, gw, other)
    mine = {"Authorization": f"Bearer {token}"}
    theirs = {"Authorization": f"Bearer {other_token}"}
    base = f"/api/units/{holder}/cases/{pid}"

    async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as http:
        # the same token rules as listing
        problem(await http.post(f"{base}/claim"), 401, "Unauthenticated")
        problem(await http.post(f"{base}/claim", headers=theirs), 403, "Forbidden")
        # a unit that never held the case learns nothing of it
        foreign = await http.post(f"/api/units/{other}/cases/{pid}/claim", headers=theirs)
        assert problem(foreign, 404, "UnknownCase")["detail"] == f"Unit {other} has no case {pid}."
        problem(
            await http.post(f"/api/units/{holder}/cases/KHONG-CO/claim", headers=mine), 404, "UnknownCase"
        )

        note = await http.post(f"{base}/notes", headers=mine, json={"text": "Đang xác minh với BHXH tỉnh"})
        assert note.status_code == 200, note.text
        assert note.json()["status"] == "04" and note.json()["duplicate"] is False

        claim_id = str(uuid.uuid4())
        claimed = await http.post(f"{base}/claim", headers=mine, json={"message_id": claim_id})
        assert claimed.status_code == 200, claimed.text
        assert claimed.json() == {
            "message_id": claim_id,
            "petition_id": pid,
            "status": "05",
            "duplicate": False,
            "answer_id": None,
        }
        again = await http.post(f"{base}/claim", headers=mine, json={"message_id": claim_id})
        assert again.status_code == 200 and again.json()["duplicate"] is True  # a safe retry
        twice = problem(await http.post(f"{base}/claim", headers=mine), 409, "InvalidTransition")
        assert "05" in twice["detail"] and "05" in twice["detail_vi"]

        # bodies are checked against the reply schema, with clear messages
        bad = problem(await http.post(f"{base}/notes", headers=mine, json={"txt": "x"}), 422, "InvalidReply")
        assert "txt" in bad["detail"]
        problem(await http.post(f"{base}/notes", headers=mine, content=b"{oops"), 422, "InvalidReply")
        sneaky = await http.post(f"{base}/claim", headers=mine, json={"unit_code": other})
        assert "set by the URL" in problem(sneaky, 422, "InvalidReply")["detail"]
        nowhere = await http.post(f"{base}/transfer", headers=mine, json={"to_unit": "KHONG_CO"})
        problem(nowhere, 422, "UnknownUnit")

        moved = await http.post(
            f"{base}/transfer", headers=mine, json={"to_unit": other, "reason": "Việc làm"}
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == "04"
        # the new unit's queue gets the case, its list shows it, the old unit's no longer does
        [handed] = await take(gw.settings.amqp_url, unit_queue_name(other), 1)
        assert handed.type == "pakn.case.new" and handed.correlation_id == pid
        assert json.loads(handed.body)["unit"]["code"] == other
        listed = await http.get(f"/api/units/{other}/cases", headers=theirs)
        assert [item["petition_id"] for item in listed.json()["items"]] == [pid]
        assert listed.json()["items"][0]["status"] == "04"
        assert (await http.get(f"/api/units/{holder}/cases", headers=mine)).json()["items"] == []
        # the old unit knew the case: it is told the case moved on, not that it does not exist
        gone = problem(await http.post(f"{base}/claim", headers=mine), 409, "WrongUnit")
        assert other not in gone["detail"]

        out = await http.post(
            f"/api/units/{other}/cases/{pid}/transfer-out",
            headers=theirs,
            json={"reason": "Thuộc thẩm quyền của Bộ Nội vụ", "suggested_organ_id": "000.00.00.G09"},
        )
        assert out.status_code == 200, out.text
        assert out.json()["status"] == "07"

    case = await gw.case(pid)
    assert case is not None
    assert [h.status.value for h in case.history] == ["01", "03", "04", "04", "05", "04", "07"]
    assert "Đang xác minh với BHXH tỉnh" in case.history[3].description
    sent = [(m.operation, m.payload.get("StatusCode", "")) for m in await national(gw, pid)]
    assert sent[-3:] == [("ReceiveStatus", "04"), ("RequestTransfer", ""), ("ReceiveStatus", "07")]
    [transfer] = [m.payload for m in await national(gw, pid) if m.operation == "RequestTransfer"]
    assert transfer == {
        "PetitionId": pid,
        "Reason": "Thuộc thẩm quyền của Bộ Nội vụ",
        "SuggestedOrganId": "000.00.00.G09",
    }


async def test_units_reply_over_amqp_and_refusals_reach_their_error_queue(gw: LiveGateway) -> None:
    url = gw.settings.amqp_url
    pid, holder = await petition_at_its_unit(gw, seed=72)
    other = gw.units["CVL"]

    await publish_reply(url, reply_doc("note", pid, holder, text="Đã nhận, đang xử lý"))
    await publish_reply(url, reply_doc("claim", pid, holder, at="2026-11-28T09:30:00+07:00"))
    case = await gw.wait_status(pid, "05")
    assert case.history[-1].changed_at == datetime(2026, 11, 28, 2, 30, tzinfo=UTC)  # the unit's time
    assert "Đã nhận, đang xử lý" in case.history[-2].description

    # a unit that never held it, a body that is not a reply, a key that lies about the unit
    foreign = await publish_reply(url, reply_doc("claim", pid, other))
    garbage = await publish_reply(
        url, {"message_id": str(uuid.uuid4()), "hello": 1}, key=f"unit.{holder}.reply.claim"
    )
    lying = await publish_reply(url, reply_doc("claim", pid, other), key=f"unit.{holder}.reply.claim")
    [unknown] = await take(url, unit_error_queue_name(other), 1)
    first, second = await take(url, unit_error_queue_name(holder), 2)
    by_reply = {json.loads(m.body)["reply_message_id"]: m for m in (unknown, first, second)}
    assert set(by_reply) == {foreign, garbage, lying}
    for reply_id, message in by_reply.items():
        ERRORS.validate(json.loads(message.body))
        assert message.correlation_id == reply_id and message.type == "pakn.reply.error"
    assert json.loads(by_reply[foreign].body)["code"] == "UnknownCase"
    assert json.loads(by_reply[garbage].body)["code"] == "InvalidReply"
    lie = json.loads(by_reply[lying].body)
    assert lie["code"] == "InvalidReply" and f"sent for unit {holder}" in lie["message_en"]

    # the citizen withdraws; the unit's answer is refused on its error queue, naming the answer
    client = await asyncio.to_thread(gw.client)
    withdraw = {
        "PetitionId": pid,
        "Action": "WITHDRAW",
        "Content": "Tôi xin rút đơn.",
        "At": "2026-11-28T10:00:00+07:00",
    }
    assert (await asyncio.to_thread(client.submit_update, withdraw)).Accepted
    await gw.wait_status(pid, "08")
    answer = reply_doc(
        "answer",
        pid,
        holder,
        content="Bộ trả lời như sau: …",
        signer_name="Nguyễn Văn An",
        signer_position="Vụ trưởng",
        publish=True,
    )
    answer_id = await publish_reply(url, answer)
    [refused] = await take(url, unit_error_queue_name(holder), 1)
    error = json.loads(refused.body)
    ERRORS.validate(error)
    assert error["reply_message_id"] == answer_id == refused.correlation_id
    assert (error["code"], error["petition_id"]) == ("InvalidTransition", pid)
    assert "08" in error["message_en"] and "withdrawn" in error["message_en"]
    assert "rút đơn" in error["message_vi"]

    closed = await gw.case(pid)
    assert closed is not None and closed.status.value == "08"
    async with gw.uow()() as uow:
        assert await uow.answers.for_petition(pid) == []

    # every reply was settled: nothing waits on the replies queue, nothing went to pakn.dead
    async def drained() -> bool | None:
        return (await queue_depth(url, "pakn.gateway.replies") == 0) or None

    await eventually(drained, WAIT, "replies left on pakn.gateway.replies")
    assert await queue_depth(url, "pakn.dead") == 0


async def test_a_transfer_over_amqp_reaches_the_new_units_queue(gw: LiveGateway) -> None:
    url = gw.settings.amqp_url
    pid, holder = await petition_at_its_unit(gw, seed=73)
    other = gw.units["CVL"]
    await publish_reply(
        url, reply_doc("transfer", pid, holder, to_unit=other, reason="Thuộc lĩnh vực việc làm")
    )
    [handed] = await take(url, unit_queue_name(other), 1)
    assert json.loads(handed.body)["petition_id"] == pid
    case = await gw.wait_status(pid, "04")
    assert case.unit_code == other
    await publish_reply(url, reply_doc("transfer_out", pid, other, reason="Thuộc thẩm quyền của Bộ Y tế"))
    await gw.wait_status(pid, "07")
    assert [m.operation for m in await national(gw, pid)][-2:] == ["RequestTransfer", "ReceiveStatus"]


async def test_answers_over_rest_and_amqp_become_signed_letters_announced_in_order(gw: LiveGateway) -> None:
    url = gw.settings.amqp_url
    by_rest, holder = await petition_at_its_unit(gw, seed=74)
    by_amqp, _ = await petition_at_its_unit(gw, seed=75)
    token = await asyncio.to_thread(issue_token, gw, holder)
    mine = {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(base_url=gw.base_url, timeout=60) as http:
        answered = await http.post(
            f"/api/units/{holder}/cases/{by_rest}/answer",
            headers=mine,
            json={
                "content": "Bộ trả lời như sau: chế độ hưu trí được tính theo …",
                "publish": True,
                **SIGNER,
            },
        )
        assert answered.status_code == 200, answered.text
        assert answered.json()["status"] == "06" and answered.json()["answer_id"]
        again = await http.post(
            f"/api/units/{holder}/cases/{by_rest}/answer",
            headers=mine,
            json={"content": "Trả lời lần hai", "publish": False, **SIGNER},
        )
        problem(again, 409, "InvalidTransition")

    # over AMQP, a claim and the answer back to back (with the unit's own letter): applied in order
    own = minimal_pdf()
    await publish_reply(url, reply_doc("claim", by_amqp, holder))
    pdf = base64.b64encode(own).decode()
    await publish_reply(
        url, reply_doc("answer", by_amqp, holder, content="Trả lời", publish=False, pdf_base64=pdf, **SIGNER)
    )
    await gw.wait_status(by_amqp, "06")

    for pid in (by_rest, by_amqp):
        case = await gw.case(pid)
        assert case is not None
        assert [h.status.value for h in case.history][-2:] == ["05", "06"]  # a REST answer claims first
        sent = [(m.operation, m.payload.get("StatusCode", "")) for m in await national(gw, pid)]
        assert sent[-3:] == [("ReceiveStatus", "05"), ("ReceiveAnswer", ""), ("ReceiveStatus", "06")]
        async with gw.uow()() as uow:
            [answer] = await uow.answers.for_petition(pid)
        assert answer.document.startswith(b"%PDF-") and b"/ByteRange" in answer.document  # signed
        assert answer.signer_name == "Nguyễn Văn An"
    async with gw.uow()() as uow:
        [kept] = await uow.answers.for_petition(by_amqp)
    assert kept.document.startswith(own) and len(kept.document) > len(own)  # an incremental update
    assert kept.publish is False
    assert await queue_depth(url, unit_error_queue_name(holder)) == 0
