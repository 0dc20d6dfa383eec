"""`ZeepNationalClient` against the real national portal simulator over HTTP, with the dev PKI.

The gateway signs with ministry.pem/.key; the simulator verifies with ca.pem and signs its receipts
with national.pem/.key, which the client verifies. Failure modes are switched on `app.state.faults`.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi import FastAPI, Request, Response
from lxml import etree

import schemas
import signing
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from connectors.national import ZeepNationalClient
from connectors.national_sim.failure_modes import SimFaults
from connectors.national_sim.ministry_client import GOVERNMENT_OFFICE, MOLISA
from connectors.national_sim.recorder import SimRecorder
from connectors.national_sim.server import create_sim_app
from gateway.domain.answer import Answer
from gateway.domain.case import DESCRIPTIONS, Case, Status, StatusChange
from gateway.domain.exchange import NationalMessage
from gateway.domain.national import answer_message, status_message, transfer_message
from gateway.outbound.circuit_breaker import CircuitBreaker
from gateway.outbound.national_sender import NationalSender
from gateway.ports import NationalRefused, NationalUnavailable
from signing.pki import DevPki
from tests.support.live_server import serve_in_thread
from tests.unit.samples import petition

pytestmark = pytest.mark.integration

NS = {"p": schemas.NAMESPACE}
VN = timezone(timedelta(hours=7))
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class Sim:
    url: str
    app: FastAPI
    record_dir: Path

    @property
    def faults(self) -> SimFaults:
        faults: SimFaults = self.app.state.faults
        return faults

    @property
    def recorder(self) -> SimRecorder:
        recorder: SimRecorder = self.app.state.recorder
        return recorder

    @property
    def endpoint(self) -> str:
        return f"{self.url}/soap/national"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return signing.init_dev_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def ministry_key(pki: DevPki) -> signing.SigningKey:
    return signing.load_pem_key(pki.ministry_cert, pki.ministry_key)


@pytest.fixture(scope="module")
def running_sim(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    record_dir = tmp_path_factory.mktemp("sim-records")
    national = signing.load_pem_key(pki.national_cert, pki.national_key)
    app = create_sim_app(trust=pki.trust_store(), signer=national, record_dir=record_dir)
    with serve_in_thread(app) as url:
        yield Sim(url, app, record_dir)


@pytest.fixture
def sim(running_sim: Sim) -> Iterator[Sim]:
    running_sim.faults.reset()
    yield running_sim
    running_sim.faults.reset()


Connect = Callable[..., ZeepNationalClient]


@pytest.fixture
def connect(pki: DevPki, ministry_key: signing.SigningKey, sim: Sim) -> Iterator[Connect]:
    """A client as bootstrap builds it: local WSDL, endpoint from settings, the ministry's key."""
    made: list[ZeepNationalClient] = []

    def make(**options: object) -> ZeepNationalClient:
        settings: dict[str, object] = {
            "address": sim.endpoint,
            "key": ministry_key,
            "trust": pki.trust_store(),
            "ministry_id": MOLISA,
            "national_id": GOVERNMENT_OFFICE,
            "timeout": 5.0,
            "attempts": 3,
            "retry_initial": 0.05,
            "retry_max": 0.2,
        }
        client = ZeepNationalClient(**(settings | options))  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def new_petition_id() -> str:
    return f"PAKN-NC-{uuid.uuid4().hex[:12].upper()}"


def status(petition_id: str, seq: int, code: Status = Status.PROCESSING) -> NationalMessage:
    change = StatusChange(seq, code, "CVL", DESCRIPTIONS[code], datetime.now(VN).replace(microsecond=0))
    return status_message(petition_id, change, datetime.now(VN))


def answer(petition_id: str, document: bytes = PDF) -> NationalMessage:
    letter = Answer(
        answer_id=f"TL-{uuid.uuid4().hex[:8].upper()}",
        petition_id=petition_id,
        unit_code="CVL",
        content="Cục Việc làm trả lời: hồ sơ hưởng trợ cấp thất nghiệp của ông đã được giải quyết.",
        answered_at=datetime.now(VN).replace(microsecond=0),
        signer_name="Lê Quang Trung",
        signer_position="Cục trưởng Cục Việc làm",
        publish=True,
        document_name="Công văn trả lời.pdf",
        document=document,
        document_sha256=hashlib.sha256(document).hexdigest(),
    )
    return answer_message(letter, datetime.now(VN))


def request_element(raw: bytes) -> etree._Element:
    envelope = etree.fromstring(raw)
    body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert body is not None
    return body[0]


# --------------------------------------------------------------------------- delivered


async def test_a_status_is_accepted_signed_and_its_receipt_verified(connect: Connect, sim: Sim) -> None:
    petition_id = new_petition_id()
    message = status(petition_id, 1)
    receipt = await connect().send(message)
    assert (receipt.message_id, receipt.accepted, receipt.duplicate) == (message.message_id, True, False)
    assert receipt.receipt_id.startswith("NAT-RC-")
    [entry] = sim.recorder.delivered(petition_id)
    assert (entry.operation, entry.verdict, entry.outcome) == ("ReceiveStatus", "valid", "accepted")
    assert (entry.message_id, entry.seq, entry.sender) == (message.message_id, 1, MOLISA)
    assert sim.recorder.statuses(petition_id) == [(1, "05")]

    sent = request_element(entry.raw)
    assert sent.findtext("p:Header/p:MessageId", namespaces=NS) == message.message_id
    assert sent.findtext("p:Header/p:From", namespaces=NS) == MOLISA
    assert sent.findtext("p:Header/p:To", namespaces=NS) == GOVERNMENT_OFFICE
    assert sent.findtext("p:Header/p:CorrelationId", namespaces=NS) == petition_id
    sent_at = sent.findtext("p:Header/p:SentAt", namespaces=NS)
    assert sent_at is not None and sent_at.endswith("+07:00")
    assert sent[-1].tag == f"{{{schemas.DSIG_NAMESPACE}}}Signature"


async def test_a_resend_of_the_same_message_is_a_duplicate_and_a_success(connect: Connect, sim: Sim) -> None:
    petition_id = new_petition_id()
    message = status(petition_id, 1)
    client = connect()
    first = await client.send(message)
    again = await client.send(message)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.accepted and again.receipt_id == first.receipt_id
    assert len(sim.recorder.delivered(petition_id)) == 1


async def test_an_answer_letter_arrives_with_its_sha256(connect: Connect, sim: Sim) -> None:
    petition_id = new_petition_id()
    message = answer(petition_id)
    receipt = await connect().send(message)
    assert receipt.accepted
    [stored] = sim.recorder.answers(petition_id)
    assert stored.sha256_ok and stored.verdict == "valid"
    assert stored.pdf == PDF
    assert hashlib.sha256(stored.pdf).hexdigest() == message.payload["Document"]["Sha256"]
    assert stored.declared_sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored.path is not None and stored.path.read_bytes() == PDF
    assert sim.recorder.answer_pdf(petition_id, message.payload["AnswerId"]) == PDF


async def test_a_transfer_request_is_delivered(connect: Connect, sim: Sim) -> None:
    petition_id = new_petition_id()
    message = transfer_message(petition_id, "Thuộc thẩm quyền Bộ Nội vụ.", "000.00.00.G09", datetime.now(VN))
    assert (await connect().send(message)).accepted
    assert sim.recorder.transfers(petition_id) == ["Thuộc thẩm quyền Bộ Nội vụ."]


async def test_concurrent_sends_each_on_a_client_of_their_own(connect: Connect, sim: Sim) -> None:
    client = connect(concurrency=4)
    messages = [status(new_petition_id(), 1) for _ in range(12)]
    receipts = await asyncio.gather(*(client.send(m) for m in messages))
    assert [r.message_id for r in receipts] == [m.message_id for m in messages]
    assert all(r.accepted and not r.duplicate for r in receipts)
    assert 1 <= client.clients_built <= 4
    for m in messages:
        assert [e.verdict for e in sim.recorder.delivered(m.petition_id)] == ["valid"]


# --------------------------------------------------------------------------- refused for good


async def test_a_client_fault_is_refused_without_retrying(connect: Connect, sim: Sim) -> None:
    petition_id = new_petition_id()
    sim.faults.update(fault_next=1, fault_code="Client.SchemaInvalid")
    with pytest.raises(NationalRefused) as raised:
        await connect().send(status(petition_id, 1))
    assert raised.value.code == "Client.SchemaInvalid"
    assert "XSD" in raised.value.message or "schema" in raised.value.message
    assert sim.recorder.attempts(petition_id) == 1
    assert sim.recorder.delivered(petition_id) == []


async def test_an_unknown_petition_is_refused(connect: Connect, sim: Sim) -> None:
    petition_id = new_petition_id()
    sim.faults.fault_for_petition = {petition_id: "Client.UnknownPetition"}
    with pytest.raises(NationalRefused) as raised:
        await connect().send(answer(petition_id))
    assert raised.value.code == "Client.UnknownPetition"
    assert sim.recorder.answers(petition_id) == []


async def test_a_wrong_endpoint_path_is_refused(connect: Connect, sim: Sim) -> None:
    with pytest.raises(NationalRefused) as raised:
        await connect(address=f"{sim.url}/soap/nowhere").send(status(new_petition_id(), 1))
    assert raised.value.code == "HTTP.404"


# --------------------------------------------------------------------------- unavailable: retried


async def test_server_faults_are_retried_and_then_succeed(connect: Connect, sim: Sim) -> None:
    petition_id = new_petition_id()
    sim.faults.fault_next = 2  # Server.Unavailable twice, then normal
    receipt = await connect(attempts=3).send(status(petition_id, 1))
    assert receipt.accepted and not receipt.duplicate
    assert sim.recorder.attempts(petition_id) == 3
    assert len(sim.recorder.delivered(petition_id)) == 1


async def test_server_faults_beyond_the_attempts_are_unavailable(connect: Connect, sim: Sim) -> None:
    petition_id = new_petition_id()
    sim.faults.fault_next = 3
    with pytest.raises(NationalUnavailable) as raised:
        await connect(attempts=3).send(status(petition_id, 1))
    assert raised.value.code == "Server.Unavailable"
    assert sim.recorder.attempts(petition_id) == 3
    assert sim.recorder.delivered(petition_id) == []


async def test_down_is_unavailable(connect: Connect, sim: Sim) -> None:
    petition_id = new_petition_id()
    sim.faults.down = True
    with pytest.raises(NationalUnavailable) as raised:
        await connect(attempts=2).send(status(petition_id, 1))
    assert raised.value.code == "HTTP.503"
    assert sim.recorder.attempts(petition_id) == 2
    sim.faults.down = False
    assert (await connect().send(status(petition_id, 1))).accepted


async def test_slow_beyond_the_timeout_is_unavailable_in_bounded_time(connect: Connect, sim: Sim) -> None:
    petition_id = new_petition_id()
    sim.faults.slow_seconds = 3.0
    started = time.monotonic()
    with pytest.raises(NationalUnavailable) as raised:
        await connect(timeout=0.3, attempts=2).send(status(petition_id, 1))
    elapsed = time.monotonic() - started
    assert raised.value.code == "Network.Timeout"
    assert elapsed < 2.0  # two attempts of 0.3 s and a short backoff, not the 3 s the portal takes
    assert sim.recorder.delivered(petition_id) == []


async def test_a_message_delivered_but_not_acknowledged_is_settled_by_the_retry(
    connect: Connect, sim: Sim
) -> None:
    """The portal stores it but the answer comes too late: the retry's Duplicate receipt settles it."""
    petition_id = new_petition_id()
    sim.faults.update(slow_seconds=0.6, slow_commits=True)
    message = status(petition_id, 1)
    with pytest.raises(NationalUnavailable):
        await connect(timeout=0.2, attempts=1).send(message)
    deadline = time.monotonic() + 5
    while not sim.recorder.delivered(petition_id):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    sim.faults.reset()
    receipt = await connect().send(message)
    assert (receipt.accepted, receipt.duplicate) == (True, True)
    assert len(sim.recorder.delivered(petition_id)) == 1


async def test_nothing_listening_is_unavailable(connect: Connect, sim: Sim) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NationalUnavailable) as raised:
        await connect(address=f"http://127.0.0.1:{port}/soap/national", attempts=1).send(
            status(new_petition_id(), 1)
        )
    assert raised.value.code == "Network.ConnectionError"


async def test_a_receipt_signed_by_an_untrusted_key_is_never_a_delivery(
    pki: DevPki, ministry_key: signing.SigningKey, tmp_path: Path
) -> None:
    impostor = signing.init_dev_pki(tmp_path / "other")
    app = create_sim_app(
        trust=pki.trust_store(), signer=signing.load_pem_key(impostor.national_cert, impostor.national_key)
    )
    with serve_in_thread(app) as url:
        client = ZeepNationalClient(
            address=f"{url}/soap/national",
            key=ministry_key,
            trust=pki.trust_store(),
            ministry_id=MOLISA,
            national_id=GOVERNMENT_OFFICE,
            attempts=2,
            retry_initial=0.01,
            retry_max=0.05,
        )
        try:
            with pytest.raises(NationalUnavailable) as raised:
                await client.send(status(new_petition_id(), 1))
        finally:
            client.close()
    assert raised.value.code == "Server.ReceiptUnverified"
    assert "invalid:" in raised.value.message


# --------------------------------------------------------------------------- a portal that misbehaves


def stub_portal(answer: Callable[[bytes], Response]) -> FastAPI:
    """A stand-in for the portal answering every call with `answer(request body)`."""
    app = FastAPI()

    @app.post("/soap/national")
    async def exchange(request: Request) -> Response:
        return answer(await request.body())

    return app


def receipt_envelope(raw_request: bytes, *, accepted: bool, code: str | None, echo: bool = True) -> bytes:
    message_id = request_element(raw_request).findtext("p:Header/p:MessageId", namespaces=NS)
    if not echo:
        message_id = str(uuid.uuid4())
    error = f"<p:ErrorCode>{code}</p:ErrorCode><p:ErrorText>Từ chối / refused</p:ErrorText>" if code else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<p:Receipt xmlns:p="{schemas.NAMESPACE}"><p:MessageId>{message_id}</p:MessageId>'
        f"<p:ReceiptId>RC-STUB</p:ReceiptId><p:Accepted>{'true' if accepted else 'false'}</p:Accepted>"
        f"<p:Duplicate>false</p:Duplicate>{error}</p:Receipt></soap:Body></soap:Envelope>"
    ).encode()


def soap(body: bytes) -> Response:
    return Response(body, media_type="text/xml; charset=utf-8")


@pytest.mark.parametrize(
    ("answer", "error", "code"),
    [
        (
            lambda raw: soap(receipt_envelope(raw, accepted=False, code=None)),
            NationalRefused,
            "Client.NotAccepted",
        ),
        (
            lambda raw: soap(receipt_envelope(raw, accepted=False, code="Client.Rejected")),
            NationalRefused,
            "Client.Rejected",
        ),
        (
            lambda raw: soap(receipt_envelope(raw, accepted=False, code="Server.Busy")),
            NationalUnavailable,
            "Server.Busy",
        ),
        (
            lambda raw: soap(receipt_envelope(raw, accepted=True, code=None, echo=False)),
            NationalUnavailable,
            "Server.ReceiptMismatch",
        ),
        (lambda raw: Response("slow down", status_code=429), NationalUnavailable, "HTTP.429"),
        (lambda raw: Response("timeout", status_code=408), NationalUnavailable, "HTTP.408"),
        (lambda raw: Response("forbidden", status_code=403), NationalRefused, "HTTP.403"),
        (lambda raw: Response("<html>maintenance</html>"), NationalUnavailable, "Server.BadResponse"),
        (lambda raw: Response("maintenance until 18:00"), NationalUnavailable, "HTTP.200"),
    ],
    ids=[
        "not-accepted",
        "not-accepted-code",
        "not-accepted-server",
        "other-message",
        "429",
        "408",
        "403",
        "html",
        "text",
    ],
)
async def test_what_a_misbehaving_portal_answer_means(
    ministry_key: signing.SigningKey,
    pki: DevPki,
    answer: Callable[[bytes], Response],
    error: type[Exception],
    code: str,
) -> None:
    with serve_in_thread(stub_portal(answer)) as url:
        client = ZeepNationalClient(
            address=f"{url}/soap/national",
            key=ministry_key,
            trust=pki.trust_store(),
            ministry_id=MOLISA,
            national_id=GOVERNMENT_OFFICE,
            attempts=1,
        )
        try:
            with pytest.raises(error) as raised:
                await client.send(status(new_petition_id(), 1))
        finally:
            client.close()
    assert getattr(raised.value, "code", None) == code


# --------------------------------------------------------------------------- with the sender and the store


async def test_the_sender_drains_the_store_through_an_outage_in_order_once(
    connect: Connect, sim: Sim, db_uow: SqlUnitOfWorkFactory
) -> None:
    """Real store (SQLite and PostgreSQL), real client, real simulator: down, then back, then a poison."""
    offset = timedelta()

    def clock() -> datetime:
        return datetime.now(UTC) + offset

    healthy, poison = new_petition_id(), new_petition_id()
    for petition_id in (healthy, poison):
        sample = petition(petition_id)
        async with db_uow() as uow:  # 01 and 03 go to the national outbox with the case
            await uow.cases.add(Case.arrive(petition_id, "CVL", sample.fingerprint(), clock()), sample)
            await uow.commit()
    breaker = CircuitBreaker(threshold=2, reset_seconds=0.0)
    sender = NationalSender(db_uow, connect(attempts=1), clock=clock, breaker=breaker, base_backoff=1.0)

    sim.faults.down = True
    assert await sender.run_once() == 0
    async with db_uow() as uow:
        pending = await uow.national.list("pending")
    assert {m.petition_id for m in pending if m.attempts == 1} == {healthy, poison}
    assert all(m.last_error and m.last_error.startswith("HTTP.503") for m in pending if m.attempts)

    sim.faults.down = False
    sim.faults.fault_for_petition = {poison: "Client.UnknownPetition"}
    offset += timedelta(hours=1)
    delivered = 0
    for _ in range(5):
        delivered += await sender.run_once()
    assert delivered == 2
    assert sim.recorder.statuses(healthy) == [(1, "01"), (2, "03")]
    assert sim.recorder.order_violations == []
    async with db_uow() as uow:
        dead = await uow.national.list("dead")
        counts = await uow.national.counts()
    assert [(m.petition_id, m.payload["Seq"]) for m in dead] == [(poison, 1)]
    assert dead[0].last_error is not None and dead[0].last_error.startswith("Client.UnknownPetition: ")
    assert counts == {"delivered": 2, "dead": 1, "pending": 1}  # the poison's 03 waits behind its 01

    sim.faults.fault_for_petition = {}
    async with db_uow() as uow:
        assert await uow.national.replay(dead[0].id or 0, clock())
        await uow.commit()
    assert await sender.run_once() + await sender.run_once() == 2
    assert sim.recorder.statuses(poison) == [(1, "01"), (2, "03")]
    assert [len(sim.recorder.delivered(p)) for p in (healthy, poison)] == [2, 2]
