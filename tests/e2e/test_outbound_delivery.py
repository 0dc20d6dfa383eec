"""The outbound direction end to end: unit replies → the gateway → the national portal simulator,
over real HTTP (signed SOAP both ways), real RabbitMQ, SQLite and PostgreSQL.

What the portal receives is judged by the simulator (it verifies every signature against the dev
CA and records the per-petition order) and, independently, by `xmlsec1` on the captured request
elements and by `pdfsig`, pyhanko and `pdftotext` on the answer letter it received.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from lxml import etree
from sqlalchemy import select
from typer.testing import CliRunner

import signing
from connectors.db.message_log_store import verify_chain
from connectors.db.tables import MessageLogRow
from connectors.national_sim.recorder import Received
from gateway.cli.main import app as cli_app
from tests.e2e.unit_side import (
    SIGNER,
    issue_token,
    national,
    petition_at_its_unit,
    publish_reply,
    reply_doc,
    seeded_petition,
)
from tests.support import verifiers
from tests.support.amqp import own_vhost
from tests.support.databases import sqlite_url
from tests.support.gateway import LiveGateway, eventually, live_gateway

pytestmark = pytest.mark.e2e

QUICK_RETRIES = {
    # seconds, not minutes: the outage tests wait for the backlog to drain after the portal is back
    "national_retry_attempts": 1,
    "national_base_backoff_seconds": 0.2,
    "national_max_backoff_seconds": 1.0,
    "national_breaker_threshold": 3,
    "national_breaker_reset_seconds": 0.5,
    "national_timeout": 2.0,
}
DRAIN = 60.0


@pytest.fixture
async def quick(any_db_url: str, tmp_path: Path) -> AsyncIterator[LiveGateway]:
    """A gateway whose national backoff is short, so an outage test drains within seconds."""
    async with own_vhost() as url, live_gateway(tmp_path, any_db_url, amqp_url=url, **QUICK_RETRIES) as live:
        yield live


async def drained(gw: LiveGateway, petition_ids: list[str], timeout: float = DRAIN) -> None:
    """Wait until the gateway holds nothing pending for the portal about these petitions."""

    async def check() -> bool | None:
        for pid in petition_ids:
            if any(m.state != "delivered" for m in await national(gw, pid)):
                return None
        return True

    await eventually(check, timeout, "the national outbox did not drain")


async def assert_delivered_once_in_order(gw: LiveGateway, pid: str) -> list[Received]:
    """Everything the gateway sent about `pid` reached the portal exactly once, in the gateway's order."""
    sent = await national(gw, pid)
    assert sent and all(m.state == "delivered" for m in sent), [(m.operation, m.state) for m in sent]
    got = gw.portal.recorder.delivered(pid)
    assert [r.message_id for r in got] == [m.message_id for m in sent]  # once each, same order
    seqs = [m.payload["Seq"] for m in sent if m.operation == "ReceiveStatus"]
    assert seqs == list(range(1, len(seqs) + 1))  # rising, no gap
    assert [s for s, _ in gw.portal.recorder.statuses(pid)] == seqs
    assert all(r.verdict == "valid" for r in got), [r.verdict for r in got]
    return got


def assert_portal_saw_no_disorder(gw: LiveGateway) -> None:
    assert gw.portal.recorder.order_violations == []
    assert gw.portal.recorder.answers_before_assignment == []


async def test_an_answer_reaches_the_portal_signed_after_its_statuses(
    gw: LiveGateway, tmp_path: Path
) -> None:
    pid, holder = await petition_at_its_unit(gw, seed=81)
    token = await asyncio.to_thread(issue_token, gw, holder)
    content = "Bộ Lao động - Thương binh và Xã hội trả lời: Ông/Bà đủ điều kiện hưởng trợ cấp người có công."
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=60) as http:
        answered = await http.post(
            f"/api/units/{holder}/cases/{pid}/answer",
            headers={"Authorization": f"Bearer {token}"},
            json={"content": content, "publish": True, **SIGNER},
        )
    assert answered.status_code == 200, answered.text
    answer_id = answered.json()["answer_id"]
    await drained(gw, [pid])

    got = await assert_delivered_once_in_order(gw, pid)
    assert [(r.operation, r.status_code) for r in got] == [
        ("ReceiveStatus", "01"),
        ("ReceiveStatus", "03"),
        ("ReceiveStatus", "04"),
        ("ReceiveStatus", "05"),
        ("ReceiveAnswer", None),
        ("ReceiveStatus", "06"),
    ]
    assert_portal_saw_no_disorder(gw)

    # every captured request element verifies with xmlsec1 against the dev CA; a tampered one does not
    for number, received in enumerate(got):
        document = verifiers.write_detached(received.raw, tmp_path / f"out-{number}.xml")
        result = verifiers.xmlsec1_verify(document, gw.pki.ca_cert)
        assert result.returncode == 0, (received.operation, result.stderr)
    first = verifiers.request_element(got[0].raw)
    [code] = first.iter("{urn:pakn:exchange:1}StatusCode")
    assert code.text == "01"
    code.text = "06"  # "completed" before anything was done
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(etree.tostring(first, xml_declaration=True, encoding="UTF-8"))
    assert verifiers.xmlsec1_verify(tampered, gw.pki.ca_cert).returncode != 0

    # the gateway's own message log kept each request as sent and each receipt as received, chained
    async with gw.uow()() as uow:
        rows = (
            await uow.session.execute(
                select(
                    MessageLogRow.direction,
                    MessageLogRow.message_id,
                    MessageLogRow.signature_verdict,
                    MessageLogRow.signer,
                    MessageLogRow.outcome,
                    MessageLogRow.raw,
                ).where(MessageLogRow.peer == gw.settings.national_id)
            )
        ).all()
        chain = await verify_chain(uow)
    sent = {r.message_id for r in got}
    out = {row.message_id: row for row in rows if row.direction == "out" and row.outcome == "accepted"}
    back = {row.message_id: row for row in rows if row.direction == "in" and row.outcome == "accepted"}
    assert set(out) == set(back) == sent
    assert all(row.signature_verdict == "signed" for row in out.values())
    assert {(row.signature_verdict, row.signer) for row in back.values()} == {
        ("valid", gw.settings.national_id)
    }
    kept = verifiers.write_detached(bytes(out[got[-1].message_id].raw), tmp_path / "kept.xml")
    assert verifiers.xmlsec1_verify(kept, gw.pki.ca_cert).returncode == 0
    assert chain == (True, None)

    # the letter the portal holds: PAdES, trusted by pdfsig and pyhanko, Vietnamese text intact
    pdf = gw.portal.recorder.answer_pdf(pid, answer_id)
    assert pdf is not None
    db = verifiers.nss_db(tmp_path / "nss", gw.pki.ca_cert)
    verifiers.assert_pdfsig_accepts(verifiers.pdfsig(pdf, db, tmp_path), count=1)
    verdict = await signing.async_verify_pdf(pdf, gw.pki.trust_store())
    [signature] = verdict.signatures
    assert (signature.intact, signature.valid, signature.trusted) == (True, True, True)
    text = " ".join(verifiers.pdftotext(pdf, tmp_path).split())
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Nguyễn Văn An"):
        assert expected in text
    assert "người có công" in text


async def test_replies_in_any_order_reach_the_portal_in_order(gw: LiveGateway) -> None:
    """Replies for several cases, interleaved at random, some too late (a claim after the answer):
    per petition the portal still sees rising Seq, no answer before 04, the answer before its 06."""
    gw.portal.faults.slow_seconds = 0.05  # deliveries overlap with new status changes
    cases = [await petition_at_its_unit(gw, seed=90 + n) for n in range(6)]
    url = gw.settings.amqp_url
    rng = random.Random(7)
    plans: list[list[dict[str, object]]] = []
    for pid, holder in cases:
        steps: list[dict[str, object]] = [
            reply_doc("note", pid, holder, text="Đã tiếp nhận, đang xác minh hồ sơ"),
            reply_doc("claim", pid, holder),
            reply_doc("note", pid, holder, text="Đang lấy ý kiến Cục Người có công"),
            reply_doc(
                "answer",
                pid,
                holder,
                content="Trả lời: đã giải quyết theo quy định.",
                publish=False,
                **SIGNER,
            ),
        ]
        if rng.random() < 0.5:
            steps.append(reply_doc("claim", pid, holder))  # too late: refused, the portal hears nothing
        plans.append(steps)
    while any(plans):  # per case in its order, across cases at random
        steps = rng.choice([p for p in plans if p])
        await publish_reply(url, steps.pop(0))
    for pid, _ in cases:
        await gw.wait_status(pid, "06", timeout=60)
    gw.portal.faults.slow_seconds = 0
    await drained(gw, [pid for pid, _ in cases])
    for pid, _ in cases:
        got = await assert_delivered_once_in_order(gw, pid)
        codes = [r.status_code or r.operation for r in got]
        assert codes == ["01", "03", "04", "04", "05", "05", "ReceiveAnswer", "06"]
    assert_portal_saw_no_disorder(gw)


async def test_the_portal_down_then_faulting_then_back_gets_everything_once_in_order(
    quick: LiveGateway,
) -> None:
    gw, faults = quick, quick.portal.faults
    faults.down = True
    cases = [await petition_at_its_unit(gw, seed=100 + n) for n in range(4)]
    token = await asyncio.to_thread(issue_token, gw, cases[0][1])
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=60) as http:
        for pid, holder in cases[:2]:
            answered = await http.post(
                f"/api/units/{holder}/cases/{pid}/answer",
                headers={"Authorization": f"Bearer {token}"},
                json={"content": "Trả lời trong lúc Cổng quốc gia gián đoạn", "publish": False, **SIGNER},
            )
            assert answered.status_code == 200, answered.text

    recorder = gw.portal.recorder

    async def breaker_open() -> bool | None:
        # the breaker opened after a few calls; since then one trial call at a time, not a flood
        async with httpx.AsyncClient(base_url=gw.base_url, timeout=10) as http:
            ready = (await http.get("/health/ready")).json()
        down = sum(1 for r in recorder.received if r.outcome == "down")
        return (
            True
            if down >= QUICK_RETRIES["national_breaker_threshold"] and ready["national_portal"] != "closed"
            else None
        )

    await eventually(breaker_open, DRAIN, "the gateway never found the portal down")
    assert all(recorder.delivered(pid) == [] for pid, _ in cases)
    tried = [m for pid, _ in cases for m in await national(gw, pid) if m.attempts]
    assert tried and all(m.state == "pending" and (m.last_error or "").startswith("HTTP.503") for m in tried)

    faults.down = False
    faults.update(fault_next=5)  # back, but answering Server.Unavailable for a while: retried
    await drained(gw, [pid for pid, _ in cases])
    assert any(r.outcome == "Server.Unavailable" for r in recorder.received)
    for pid, _ in cases:
        await assert_delivered_once_in_order(gw, pid)
    for pid, _ in cases[:2]:
        assert [r.operation for r in recorder.delivered(pid)].count("ReceiveAnswer") == 1
    assert_portal_saw_no_disorder(gw)


async def test_a_permanent_fault_is_dead_lettered_with_its_reason_and_replayed(tmp_path: Path) -> None:
    async with (
        own_vhost() as url,
        live_gateway(tmp_path, sqlite_url(tmp_path), amqp_url=url, **QUICK_RETRIES) as gw,
    ):
        # the portal says it never heard of `poison` (as if it were another ministry's): permanent
        poison = seeded_petition(120)["PetitionId"]
        gw.portal.faults.fault_for_petition = {poison: "Client.UnknownPetition"}
        assert (await petition_at_its_unit(gw, seed=120))[0] == poison
        healthy, _ = await petition_at_its_unit(gw, seed=121)

        async def dead() -> list[object] | None:
            found = [m for m in await national(gw, poison) if m.state == "dead"]
            return found or None

        await eventually(dead, DRAIN, "the refused message was never dead-lettered")
        await drained(gw, [healthy])
        [letter] = [m for m in await national(gw, poison) if m.state == "dead"]
        assert letter.last_error is not None and letter.last_error.startswith("Client.UnknownPetition: ")
        later = [m for m in await national(gw, poison) if (m.id or 0) > (letter.id or 0)]
        assert later and all(m.state == "pending" for m in later)  # held back: never overtake it
        assert letter.payload["Seq"] == 1 and gw.portal.recorder.delivered(poison) == []
        async with gw.uow()() as uow:  # the refused attempt is on record: the request and the Fault
            logged = (
                await uow.session.execute(
                    select(MessageLogRow.direction, MessageLogRow.outcome).where(
                        MessageLogRow.message_id == letter.message_id
                    )
                )
            ).all()
        assert sorted(logged) == [("in", "Client.UnknownPetition"), ("out", "Client.UnknownPetition")]
        await asyncio.sleep(1.5)  # several rounds of the sender: a permanent fault is not retried
        assert gw.portal.recorder.attempts(poison) == 1

        env = {
            "PAKN_DATABASE_URL": gw.settings.database_url,
            "PAKN_CONFIG_DIR": str(gw.settings.config_dir),
            "PAKN_PKI_DIR": str(gw.settings.pki_dir),
            "COLUMNS": "200",  # a terminal wide enough for whole ids, as an operator's is
        }
        listed = await asyncio.to_thread(CliRunner().invoke, cli_app, ["outbound", "list"], env=env)
        assert listed.exit_code == 0, listed.output
        assert poison in listed.output and "Client.UnknownPetition" in listed.output

        gw.portal.faults.fault_for_petition = {}
        replayed = await asyncio.to_thread(
            CliRunner().invoke, cli_app, ["outbound", "replay", str(letter.id)], env=env
        )
        assert replayed.exit_code == 0, replayed.output
        await drained(gw, [poison])
        await assert_delivered_once_in_order(gw, poison)
        await assert_delivered_once_in_order(gw, healthy)
        assert_portal_saw_no_disorder(gw)
