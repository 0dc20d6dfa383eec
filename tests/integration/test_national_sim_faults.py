"""The simulator's failure modes and answer letters, seen from a zeep client as the gateway will call it.

The client is `connectors.soap_signing.build_signed_client` on the LOCAL `national-exchange.wsdl`,
bound to the simulator's URL and signing with the ministry's dev key: exactly how the gateway calls
the national portal. Every mode is switched from Python (`app.state.faults`) or over `/sim/control`,
and must be visible on the wire (HTTP 503, a timeout, a SOAP Fault) and in the recorder (attempts
counted, nothing delivered).
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import zeep
import zeep.exceptions
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from lxml import etree

import schemas
import signing
from connectors.national_sim.failure_modes import SimFaults
from connectors.national_sim.ministry_client import GOVERNMENT_OFFICE, MOLISA, message_header
from connectors.national_sim.recorder import Received, SimRecorder, answer_file_name
from connectors.national_sim.server import create_sim_app
from connectors.national_sim.vn_time import VN_TZ
from connectors.soap_signing import ForeignImportRefused, SigningPlugin, build_signed_client
from signing.pki import DevPki
from tests.support.live_server import serve_in_thread

pytestmark = pytest.mark.integration

NS = schemas.NAMESPACE
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


# --------------------------------------------------------------------------- fixtures


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
    """The module's simulator, every failure mode off before and after each test."""
    running_sim.faults.reset()
    yield running_sim
    running_sim.faults.reset()


@dataclass
class Client:
    client: zeep.Client
    service: Any
    plugin: SigningPlugin


@pytest.fixture
def connect(pki: DevPki, ministry_key: signing.SigningKey, sim: Sim) -> Callable[..., Client]:
    """The gateway's way in: the local WSDL, the endpoint from settings, the ministry's key."""

    def make(*, timeout: float = 10.0) -> Client:
        client, service, plugin = build_signed_client(
            schemas.national_wsdl_path(),
            key=ministry_key,
            trust=pki.trust_store(),
            address=sim.endpoint,
            timeout=timeout,
        )
        return Client(client, service, plugin)

    return make


@pytest.fixture
def ministry(connect: Callable[..., Client]) -> Client:
    return connect()


def header(message_id: str | None = None) -> Any:
    return message_header(MOLISA, GOVERNMENT_OFFICE, message_id=message_id)


def status(petition_id: str, seq: int, code: str = "05") -> dict[str, Any]:
    return {
        "PetitionId": petition_id,
        "StatusCode": code,
        "Description": "Đang xử lý tại Cục Việc làm",
        "UnitCode": "CVL",
        "ChangedAt": datetime.now(VN_TZ).replace(microsecond=0),
        "Seq": seq,
    }


def answer(
    petition_id: str, answer_id: str, *, document: bytes = PDF, declared: bytes = PDF
) -> dict[str, Any]:
    return {
        "PetitionId": petition_id,
        "AnswerId": answer_id,
        "UnitCode": "CVL",
        "Content": "Cục Việc làm trả lời: hồ sơ hưởng trợ cấp thất nghiệp của ông đã được giải quyết.",
        "AnsweredAt": datetime.now(VN_TZ).replace(microsecond=0),
        "Signer": {"FullName": "Lê Quang Trung", "Position": "Cục trưởng Cục Việc làm"},
        "Document": {
            "FileName": "Công văn trả lời.pdf",
            "ContentType": "application/pdf",
            "Sha256": hashlib.sha256(declared).hexdigest(),
            "Data": document,
        },
        "Publish": True,
    }


def new_petition_id() -> str:
    return f"SIM-FAULT-{uuid.uuid4().hex[:12].upper()}"


def entries(recorder: SimRecorder, petition_id: str) -> list[Received]:
    return [r for r in recorder.received if r.petition_id == petition_id]


def assert_fault(raised: pytest.ExceptionInfo[zeep.exceptions.Fault], code: str) -> None:
    """The simulator's Fault shape: `soap:<code>`, Vietnamese / English faultstring, code in detail."""
    assert raised.value.code == f"soap:{code}"
    vietnamese, english = raised.value.message.split(" / ", 1)
    assert any(ord(ch) > 127 for ch in vietnamese)
    assert english.isascii()
    detail = raised.value.detail
    assert detail is not None
    assert detail.findtext(f"{{{NS}}}ErrorCode") == code


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)


# --------------------------------------------------------------------------- the shared signing client


def test_build_signed_client_binds_the_local_wsdl_to_the_given_address(ministry: Client, sim: Sim) -> None:
    assert ministry.service._binding_options["address"] == sim.endpoint
    # the WSDL's own address is the development placeholder, not this server
    port = ministry.client.wsdl.services["NationalExchange"].ports["NationalExchangePort"]
    assert port.binding_options["address"] != sim.endpoint
    petition_id = new_petition_id()
    receipt = ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, 1))
    assert (receipt.Accepted, receipt.Duplicate) == (True, False)
    last = ministry.plugin.last_response
    assert last is not None
    assert (last.verdict, last.signer) == ("valid", GOVERNMENT_OFFICE)
    [entry] = entries(sim.recorder, petition_id)
    assert (entry.verdict, entry.outcome, entry.injected) == ("valid", "accepted", None)
    sent = ministry.plugin.last_request
    assert sent is not None
    request = etree.fromstring(sent).find(f".//{{{NS}}}StatusMessage")
    assert request is not None
    assert request[-1].tag == f"{{{schemas.DSIG_NAMESPACE}}}Signature"


def test_build_signed_client_without_address_uses_the_wsdls(ministry_key: signing.SigningKey) -> None:
    _, service, _ = build_signed_client(schemas.national_wsdl_path(), key=ministry_key, trust=None)
    assert service._binding_options["address"] == "http://localhost:8090/soap/national"


def test_build_signed_client_refuses_anything_remote(
    tmp_path: Path, ministry_key: signing.SigningKey
) -> None:
    wsdl = schemas.national_wsdl_path().read_text("utf-8")
    hostile = tmp_path / "hostile.wsdl"
    hostile.write_text(
        wsdl.replace('schemaLocation="pakn-exchange-1.xsd"', 'schemaLocation="http://127.0.0.1:9/x.xsd"'),
        "utf-8",
    )
    with pytest.raises(ForeignImportRefused):
        build_signed_client(hostile, key=ministry_key, trust=None)
    with pytest.raises(ValueError, match="local WSDL"):
        build_signed_client("http://127.0.0.1:9/soap/national?wsdl", key=ministry_key, trust=None)
    with pytest.raises(ValueError, match="http"):
        build_signed_client(
            schemas.national_wsdl_path(), key=ministry_key, trust=None, address="file:///etc/passwd"
        )
    with pytest.raises(ValueError, match="timeout"):
        build_signed_client(schemas.national_wsdl_path(), key=ministry_key, trust=None, timeout=0)


def test_the_gateway_client_does_not_follow_redirects(ministry_key: signing.SigningKey, sim: Sim) -> None:
    """A redirect would re-send the signed message (a citizen's data) elsewhere: it is an error."""
    redirect = FastAPI()

    @redirect.post("/soap/moved")
    async def moved() -> RedirectResponse:
        return RedirectResponse(sim.endpoint, status_code=307)

    with serve_in_thread(redirect) as other:
        _, service, _ = build_signed_client(
            schemas.national_wsdl_path(), key=ministry_key, trust=None, address=f"{other}/soap/moved"
        )
        petition_id = new_petition_id()
        with pytest.raises(zeep.exceptions.TransportError) as raised:
            service.ReceiveStatus(Header=header(), Status=status(petition_id, 1))
    assert raised.value.status_code == 307
    assert sim.recorder.attempts(petition_id) == 0


def test_the_gateway_client_reaches_the_portal_through_the_environments_proxy(
    ministry_key: signing.SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment is read once per address (not at every call), and still obeyed: an
    HTTP_PROXY set for the gateway carries every call, the first and the later ones."""
    seen: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def proxy() -> None:  # a forward proxy that records the request line and says "unavailable"
        for _ in range(2):
            connection, _ = listener.accept()
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    more = connection.recv(65536)
                    if not more:
                        break
                    data += more
                seen.append(data.split(b"\r\n", 1)[0])
                connection.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )

    worker = threading.Thread(target=proxy, daemon=True)
    worker.start()
    for name in ("HTTP_PROXY", "http_proxy"):  # urllib prefers the lower-case one where both are set
        monkeypatch.setenv(name, f"http://127.0.0.1:{listener.getsockname()[1]}")
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    try:
        _, service, _ = build_signed_client(
            schemas.national_wsdl_path(), key=ministry_key, trust=None,
            address="http://portal.invalid/soap/national", timeout=5,
        )
        for _ in range(2):
            with pytest.raises(zeep.exceptions.TransportError) as raised:
                service.ReceiveStatus(Header=header(), Status=status(new_petition_id(), 1))
            assert raised.value.status_code == 503
        worker.join(timeout=10)
    finally:
        listener.close()
    assert seen == [b"POST http://portal.invalid/soap/national HTTP/1.1"] * 2


# --------------------------------------------------------------------------- down


def test_down_answers_503_without_a_soap_body_and_records_the_attempt(ministry: Client, sim: Sim) -> None:
    petition_id, message_id = new_petition_id(), str(uuid.uuid4())
    sim.faults.down = True
    with pytest.raises(zeep.exceptions.TransportError) as raised:
        ministry.service.ReceiveStatus(Header=header(message_id), Status=status(petition_id, 1))
    assert raised.value.status_code == 503
    raw = httpx.post(sim.endpoint, content=b"<x/>", headers={"Content-Type": "text/xml"})
    assert raw.status_code == 503
    assert raw.headers["content-type"].startswith("text/plain")
    assert b"Envelope" not in raw.content

    [entry] = entries(sim.recorder, petition_id)
    assert (entry.outcome, entry.injected, entry.verdict) == ("down", "down", "not-checked")
    assert (entry.operation, entry.message_id, entry.seq) == ("ReceiveStatus", message_id, 1)
    assert sim.recorder.attempts(petition_id) == 1
    assert sim.recorder.delivered(petition_id) == []
    assert sim.recorder.statuses(petition_id) == []

    sim.faults.down = False  # back up: the same message goes through, as new
    receipt = ministry.service.ReceiveStatus(Header=header(message_id), Status=status(petition_id, 1))
    assert (receipt.Accepted, receipt.Duplicate) == (True, False)
    assert [r.message_id for r in sim.recorder.delivered(petition_id)] == [message_id]
    assert sim.recorder.attempts(petition_id) == 2


# --------------------------------------------------------------------------- slow


def test_slow_trips_a_short_client_timeout_and_is_not_delivered(
    connect: Callable[..., Client], sim: Sim
) -> None:
    petition_id = new_petition_id()
    sim.faults.slow_seconds = 1.0
    impatient = connect(timeout=0.3)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        impatient.service.ReceiveStatus(Header=header(), Status=status(petition_id, 1))
    assert time.monotonic() - started < 0.9
    wait_for(lambda: sim.recorder.attempts(petition_id) == 1)
    [entry] = entries(sim.recorder, petition_id)
    assert (entry.outcome, entry.injected, entry.seq) == ("slow", "slow", 1)
    assert sim.recorder.delivered(petition_id) == []


def test_slow_with_a_patient_client_is_only_late(connect: Callable[..., Client], sim: Sim) -> None:
    petition_id = new_petition_id()
    sim.faults.slow_seconds = 0.3
    started = time.monotonic()
    receipt = connect(timeout=5).service.ReceiveStatus(Header=header(), Status=status(petition_id, 1))
    assert time.monotonic() - started >= 0.3
    assert receipt.Accepted is True
    assert [r.outcome for r in sim.recorder.delivered(petition_id)] == ["accepted"]


def test_slow_commits_delivers_what_the_client_gave_up_on(connect: Callable[..., Client], sim: Sim) -> None:
    """Delivered but never acknowledged: the sender's retry with the same MessageId gets a Duplicate."""
    petition_id, message_id = new_petition_id(), str(uuid.uuid4())
    sim.faults.update(slow_seconds=0.8, slow_commits=True)
    with pytest.raises(requests.exceptions.Timeout):
        connect(timeout=0.2).service.ReceiveStatus(Header=header(message_id), Status=status(petition_id, 1))
    wait_for(lambda: len(sim.recorder.delivered(petition_id)) == 1)
    sim.faults.reset()
    again = connect().service.ReceiveStatus(Header=header(message_id), Status=status(petition_id, 1))
    assert (again.Accepted, again.Duplicate) == (True, True)
    assert [r.outcome for r in entries(sim.recorder, petition_id)] == ["accepted", "duplicate"]


# --------------------------------------------------------------------------- injected Faults


def test_fault_next_two_transient_faults_then_success(ministry: Client, sim: Sim) -> None:
    petition_id, message_id = new_petition_id(), str(uuid.uuid4())
    sim.faults.fault_next = 2
    for _ in range(2):
        with pytest.raises(zeep.exceptions.Fault) as raised:
            ministry.service.ReceiveStatus(Header=header(message_id), Status=status(petition_id, 1))
        assert_fault(raised, "Server.Unavailable")
    assert sim.faults.fault_next == 0
    receipt = ministry.service.ReceiveStatus(Header=header(message_id), Status=status(petition_id, 1))
    assert (receipt.Accepted, receipt.Duplicate) == (True, False)  # the faults stored nothing
    outcomes = [(r.outcome, r.injected, r.verdict) for r in entries(sim.recorder, petition_id)]
    assert outcomes == [
        ("Server.Unavailable", "fault_next", "valid"),
        ("Server.Unavailable", "fault_next", "valid"),
        ("accepted", None, "valid"),
    ]
    assert sim.recorder.attempts(petition_id) == 3
    assert len(sim.recorder.delivered(petition_id)) == 1


def test_fault_next_with_a_permanent_code(ministry: Client, sim: Sim) -> None:
    sim.faults.update(fault_next=1, fault_code="Client.UnknownPetition")
    with pytest.raises(zeep.exceptions.Fault) as raised:
        ministry.service.RequestTransfer(
            Header=header(),
            Transfer={"PetitionId": new_petition_id(), "Reason": "Thuộc thẩm quyền Bộ Nội vụ."},
        )
    assert_fault(raised, "Client.UnknownPetition")
    page = ministry.service.ListPetitions(Header=header(), OrganId=MOLISA, Limit=1)
    assert page is not None  # one only: the next call is normal again


def test_a_real_refusal_keeps_its_own_code_and_does_not_use_up_fault_next(
    connect: Callable[..., Client], pki: DevPki, sim: Sim
) -> None:
    sim.faults.fault_next = 1
    _, unsigned, _ = build_signed_client(
        schemas.national_wsdl_path(), key=None, trust=pki.trust_store(), address=sim.endpoint
    )
    with pytest.raises(zeep.exceptions.Fault) as raised:
        unsigned.ReceiveStatus(Header=header(), Status=status(new_petition_id(), 1))
    assert_fault(raised, "Client.SignatureMissing")
    assert sim.faults.fault_next == 1


def test_fault_for_petition_always_faults_that_petition_only(ministry: Client, sim: Sim) -> None:
    poison, healthy = new_petition_id(), new_petition_id()
    sim.faults.update(fault_for_petition={poison: "Client.SchemaInvalid"}, fault_next=1)
    for seq in (1, 1, 2):
        with pytest.raises(zeep.exceptions.Fault) as raised:
            ministry.service.ReceiveStatus(Header=header(), Status=status(poison, seq))
        assert_fault(raised, "Client.SchemaInvalid")
    with pytest.raises(zeep.exceptions.Fault) as raised:
        ministry.service.ReceiveAnswer(Header=header(), Answer=answer(poison, "TL-POISON"))
    assert_fault(raised, "Client.SchemaInvalid")
    assert sim.faults.fault_next == 1  # the poison did not use up fault_next
    sim.faults.fault_next = 0
    receipt = ministry.service.ReceiveStatus(Header=header(), Status=status(healthy, 1))
    assert receipt.Accepted is True
    assert sim.recorder.attempts(poison) == 4
    assert {r.injected for r in entries(sim.recorder, poison)} == {"fault_for_petition"}
    assert sim.recorder.delivered(poison) == []
    assert sim.recorder.answers(poison) == []
    assert len(sim.recorder.delivered(healthy)) == 1


def test_refusals_never_count_for_order(ministry: Client, sim: Sim) -> None:
    """Seq 2 refused twice (a Fault, then down), then delivered: the portal saw 1, 2, 3 in order."""
    petition_id = new_petition_id()
    ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, 1, "03"))
    sim.faults.fault_next = 1
    with pytest.raises(zeep.exceptions.Fault):
        ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, 2, "04"))
    sim.faults.down = True
    with pytest.raises(zeep.exceptions.TransportError):
        ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, 2, "04"))
    sim.faults.down = False
    ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, 2, "04"))
    ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, 3, "05"))
    assert not [v for v in sim.recorder.order_violations if v.petition_id == petition_id]
    assert [r.seq for r in sim.recorder.delivered(petition_id)] == [1, 2, 3]
    assert sim.recorder.statuses(petition_id) == [(1, "03"), (2, "04"), (3, "05")]
    assert sim.recorder.attempts(petition_id) == 5


def test_delivered_keeps_an_out_of_order_arrival_as_it_came(ministry: Client, sim: Sim) -> None:
    petition_id = new_petition_id()
    for seq in (1, 3, 2):
        ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, seq))
    ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, 3))  # a replay
    assert [r.seq for r in sim.recorder.delivered(petition_id)] == [1, 3, 2]
    assert len([v for v in sim.recorder.order_violations if v.petition_id == petition_id]) == 1


# --------------------------------------------------------------------------- control over HTTP


def test_control_endpoints_set_show_and_reset_the_modes(ministry: Client, sim: Sim) -> None:
    control = f"{sim.url}/sim/control"
    defaults = {
        "down": False,
        "slow_seconds": 0.0,
        "slow_commits": False,
        "fault_next": 0,
        "fault_code": "Server.Unavailable",
        "fault_for_petition": {},
    }
    assert httpx.get(control).json() == defaults

    assert httpx.post(control, json={"down": True}).json()["down"] is True
    assert sim.faults.down is True
    with pytest.raises(zeep.exceptions.TransportError) as raised:
        ministry.service.ReceiveStatus(Header=header(), Status=status(new_petition_id(), 1))
    assert raised.value.status_code == 503

    poison = new_petition_id()
    changed = httpx.post(
        control,
        json={
            "down": False,
            "fault_next": 1,
            "fault_code": "Client.UnknownPetition",
            "fault_for_petition": {poison: "soap:Client.SchemaInvalid"},
        },
    ).json()
    assert changed == defaults | {
        "fault_next": 1,
        "fault_code": "Client.UnknownPetition",
        "fault_for_petition": {poison: "Client.SchemaInvalid"},
    }
    with pytest.raises(zeep.exceptions.Fault) as first:
        ministry.service.ReceiveStatus(Header=header(), Status=status(new_petition_id(), 1))
    assert_fault(first, "Client.UnknownPetition")
    with pytest.raises(zeep.exceptions.Fault) as poisoned:
        ministry.service.ReceiveStatus(Header=header(), Status=status(poison, 1))
    assert_fault(poisoned, "Client.SchemaInvalid")
    assert httpx.get(control).json()["fault_next"] == 0

    before = httpx.get(control).json()
    for bad in (
        {"fault_code": "Client.Bogus"},
        {"slow_seconds": -1},
        {"fault_next": -2},
        {"fault_for_petition": {poison: "Nope"}},
        {"fault_next": 1, "fault_code": "Client.Bogus"},  # nothing half-applied
        {"explode": True},
    ):
        response = httpx.post(control, json=bad)
        assert response.status_code == 422, bad
    assert httpx.get(control).json() == before

    assert httpx.delete(control).json() == defaults
    assert sim.faults.snapshot() == defaults
    assert ministry.service.ReceiveStatus(Header=header(), Status=status(poison, 1)).Accepted is True


def test_faults_given_to_create_sim_app_are_in_force_from_the_start(pki: DevPki) -> None:
    faults = SimFaults(down=True)
    app = create_sim_app(trust=pki.trust_store(), faults=faults)
    assert app.state.faults is faults
    with serve_in_thread(app) as url:
        assert httpx.get(f"{url}/sim/control").json()["down"] is True
        assert httpx.post(f"{url}/soap/national", content=b"<x/>").status_code == 503


def test_sim_faults_validates_in_python() -> None:
    faults = SimFaults()
    for change in (
        {"fault_code": "Server.Nope"},
        {"slow_seconds": float("nan")},
        {"slow_seconds": 10_000},
        {"fault_next": True},
        {"down": "yes"},
        {"fault_for_petition": {"": "Server.Unavailable"}},
    ):
        with pytest.raises(ValueError):
            faults.update(**change)
    assert faults.snapshot()["fault_code"] == "Server.Unavailable"
    with pytest.raises(ValueError):
        SimFaults(fault_next=-1)


# --------------------------------------------------------------------------- answer letters


def test_receive_answer_keeps_the_letter_and_serves_it(ministry: Client, sim: Sim) -> None:
    petition_id, answer_id = new_petition_id(), f"TL-{uuid.uuid4().hex[:8]}"
    ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, 1, "04"))
    receipt = ministry.service.ReceiveAnswer(Header=header(), Answer=answer(petition_id, answer_id))
    assert (receipt.Accepted, receipt.Duplicate) == (True, False)
    ministry.service.ReceiveAnswer(Header=header(), Answer=answer(petition_id, answer_id))  # a replay

    [kept] = sim.recorder.answers(petition_id)
    assert (kept.petition_id, kept.answer_id, kept.pdf, kept.sha256_ok, kept.verdict) == (
        petition_id,
        answer_id,
        PDF,
        True,
        "valid",
    )
    path = sim.record_dir / "answers" / f"{petition_id}-{answer_id}.pdf"
    assert kept.path == path
    assert path.read_bytes() == PDF
    assert [r.operation for r in sim.recorder.delivered(petition_id)] == ["ReceiveStatus", "ReceiveAnswer"]

    listed = [a for a in httpx.get(f"{sim.url}/sim/answers").json() if a["petition_id"] == petition_id]
    assert len(listed) == 1
    assert listed[0]["answer_id"] == answer_id
    assert listed[0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert listed[0]["sha256_ok"] is True
    assert listed[0]["url"] == f"/sim/answers/{petition_id}/{answer_id}.pdf"
    letter = httpx.get(f"{sim.url}{listed[0]['url']}")
    assert letter.status_code == 200
    assert letter.headers["content-type"] == "application/pdf"
    assert letter.content == PDF
    assert httpx.get(f"{sim.url}/sim/answers/{petition_id}/TL-NONE.pdf").status_code == 404


def test_a_letter_that_does_not_match_its_hash_is_kept_for_inspection_but_never_served(
    ministry: Client, sim: Sim
) -> None:
    petition_id, answer_id = new_petition_id(), "TL-BAD"
    with pytest.raises(zeep.exceptions.Fault) as raised:
        ministry.service.ReceiveAnswer(
            Header=header(), Answer=answer(petition_id, answer_id, document=PDF + b"x", declared=PDF)
        )
    assert_fault(raised, "Client.DocumentMismatch")
    [kept] = sim.recorder.answers(petition_id)
    assert (kept.sha256_ok, kept.pdf, kept.path) == (False, PDF + b"x", None)
    assert not (sim.record_dir / "answers" / f"{petition_id}-{answer_id}.pdf").exists()
    assert httpx.get(f"{sim.url}/sim/answers/{petition_id}/{answer_id}.pdf").status_code == 404
    assert sim.recorder.delivered(petition_id) == []


def test_an_answer_refused_by_a_failure_mode_is_not_kept(ministry: Client, sim: Sim) -> None:
    petition_id = new_petition_id()
    sim.faults.fault_next = 1
    with pytest.raises(zeep.exceptions.Fault):
        ministry.service.ReceiveAnswer(Header=header(), Answer=answer(petition_id, "TL-1"))
    assert sim.recorder.answers(petition_id) == []
    assert sim.recorder.attempts(petition_id) == 1


def test_peer_chosen_ids_cannot_escape_the_answers_directory(ministry: Client, sim: Sim) -> None:
    petition_id, answer_id = "../../SIM-ESCAPE", f"../{uuid.uuid4().hex[:8]}"
    ministry.service.ReceiveAnswer(Header=header(), Answer=answer(petition_id, answer_id))
    [kept] = sim.recorder.answers(petition_id)
    assert kept.path is not None
    assert kept.path.parent == sim.record_dir / "answers"
    assert kept.path.name == answer_file_name(petition_id, answer_id)
    assert not kept.path.name.startswith(".")
    assert kept.path.read_bytes() == PDF
    [listed] = [a for a in httpx.get(f"{sim.url}/sim/answers").json() if a["petition_id"] == petition_id]
    assert httpx.get(f"{sim.url}{listed['url']}").content == PDF
