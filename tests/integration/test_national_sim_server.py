"""The national portal simulator over real HTTP, called by zeep built from the WSDL it serves.

Messages are signed by the ministry's dev certificate (as the gateway signs them); the simulator
verifies against the dev CA, records the verdict and answers a Receipt, or a Fault with a stable code.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep
import zeep.exceptions
from fastapi import FastAPI
from lxml import etree

import schemas
import signing
from connectors.national_sim.generator import generate_petitions
from connectors.national_sim.ministry_client import GOVERNMENT_OFFICE, MOLISA, message_header
from connectors.national_sim.recorder import OrderViolation, Received, SimRecorder
from connectors.national_sim.server import create_sim_app
from connectors.national_sim.vn_time import VN_TZ
from connectors.soap_signing import ResponseRecord, SigningPlugin, build_client
from signing.pki import DevPki, init_dev_pki
from tests.support.live_server import serve_in_thread

pytestmark = pytest.mark.integration

NS = schemas.NAMESPACE
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return init_dev_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def foreign_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """Same organisation ids, another CA: what an impostor with a self-made certificate holds."""
    return init_dev_pki(tmp_path_factory.mktemp("foreign-pki"))


@pytest.fixture(scope="module")
def ministry_key(pki: DevPki) -> signing.SigningKey:
    return signing.load_pem_key(pki.ministry_cert, pki.ministry_key)


@pytest.fixture(scope="module")
def sim(pki: DevPki) -> Iterator[tuple[str, FastAPI]]:
    national = signing.load_pem_key(pki.national_cert, pki.national_key)
    app = create_sim_app(trust=pki.trust_store(), signer=national)
    with serve_in_thread(app) as base_url:
        yield base_url, app


@pytest.fixture(scope="module")
def base_url(sim: tuple[str, FastAPI]) -> str:
    return sim[0]


@pytest.fixture(scope="module")
def recorder(sim: tuple[str, FastAPI]) -> SimRecorder:
    rec: SimRecorder = sim[1].state.recorder
    return rec


class NationalClient:
    """A zeep client of NationalExchange and its signing plugin (which keeps the last response)."""

    def __init__(self, client: Any, plugin: SigningPlugin) -> None:
        self.client, self.plugin = client, plugin
        self.service, self.wsdl = client.service, client.wsdl

    @property
    def last_response(self) -> ResponseRecord:
        record = self.plugin.last_response
        assert record is not None, "no response yet"
        return record


def national_client(
    base_url: str, key: signing.SigningKey | None, pki: DevPki, *extra: Any
) -> NationalClient:
    plugin = SigningPlugin(key, pki.trust_store())
    client = build_client(f"{base_url}/soap/national?wsdl", plugins=[plugin, *extra], timeout=10)
    return NationalClient(client, plugin)


@pytest.fixture(scope="module")
def ministry(base_url: str, ministry_key: signing.SigningKey, pki: DevPki) -> NationalClient:
    """The gateway's side: a zeep client of NationalExchange signing with the ministry's key."""
    return national_client(base_url, ministry_key, pki)


def header(message_id: str | None = None, *, sender: str = MOLISA, recipient: str = GOVERNMENT_OFFICE) -> Any:
    return message_header(sender, recipient, message_id=message_id)


def status(petition_id: str, seq: int, code: str = "05") -> dict[str, Any]:
    return {
        "PetitionId": petition_id,
        "StatusCode": code,
        "Description": "Đang xử lý tại Cục Việc làm",
        "UnitCode": "CVL",
        "ChangedAt": datetime.now(VN_TZ).replace(microsecond=0),
        "Seq": seq,
    }


def answer(petition_id: str, *, document: bytes = PDF, declared: bytes = PDF) -> dict[str, Any]:
    return {
        "PetitionId": petition_id,
        "AnswerId": f"TL-{uuid.uuid4().hex[:8]}",
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
    return f"SIM-TEST-{uuid.uuid4().hex[:12].upper()}"


def entries(recorder: SimRecorder, message_id: str) -> list[Received]:
    return [r for r in recorder.received if r.message_id == message_id]


class Tamper(zeep.Plugin):
    """Runs after the signing plugin: changes signed content, as a man in the middle would."""

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        description = envelope.find(f".//{{{NS}}}Description")
        description.text = "Đã giải quyết xong"  # not what was signed
        return envelope, http_headers


# --------------------------------------------------------------------------- the served contract


def test_wsdl_is_served_addressed_to_this_server_with_its_xsd(base_url: str) -> None:
    wsdl = httpx.get(f"{base_url}/soap/national?wsdl")
    assert wsdl.status_code == 200
    assert f'location="{base_url}/soap/national"' in wsdl.text
    assert f'schemaLocation="{base_url}/soap/national?xsd=pakn-exchange-1.xsd"' in wsdl.text
    xsd = httpx.get(f"{base_url}/soap/national", params={"xsd": "pakn-exchange-1.xsd"})
    assert xsd.status_code == 200
    assert xsd.content == schemas.xsd_path().read_bytes()
    assert httpx.get(f"{base_url}/soap/national", params={"xsd": "../../etc/passwd"}).status_code == 404
    assert httpx.get(f"{base_url}/soap/national").status_code == 404


def test_zeep_built_from_the_served_wsdl_calls_this_server(ministry: NationalClient, base_url: str) -> None:
    port = ministry.wsdl.services["NationalExchange"].ports["NationalExchangePort"]
    assert port.binding_options["address"] == f"{base_url}/soap/national"


# --------------------------------------------------------------------------- accepted and duplicate


def test_status_signed_by_the_ministry_is_accepted_and_recorded_valid(
    ministry: NationalClient, recorder: SimRecorder
) -> None:
    petition_id, message_id = new_petition_id(), str(uuid.uuid4())
    receipt = ministry.service.ReceiveStatus(Header=header(message_id), Status=status(petition_id, 1, "03"))
    assert (receipt.MessageId, receipt.Accepted, receipt.Duplicate) == (message_id, True, False)
    assert receipt.ReceiptId.startswith("NAT-RC-")
    [entry] = entries(recorder, message_id)
    assert (entry.operation, entry.verdict, entry.outcome) == ("ReceiveStatus", "valid", "accepted")
    assert (entry.petition_id, entry.seq, entry.status_code, entry.sender) == (petition_id, 1, "03", MOLISA)
    request = etree.fromstring(entry.raw).find(f".//{{{NS}}}StatusMessage")
    assert request is not None
    assert request[-1].tag == f"{{{schemas.DSIG_NAMESPACE}}}Signature"  # enveloped, last child
    assert recorder.statuses(petition_id) == [(1, "03")]


def test_the_receipt_is_signed_by_the_portal(ministry: NationalClient) -> None:
    ministry.service.ReceiveStatus(Header=header(), Status=status(new_petition_id(), 1))
    last = ministry.last_response
    assert (last.verdict, last.signer, last.fault) == ("valid", GOVERNMENT_OFFICE, False)


def test_the_same_message_id_again_is_a_duplicate_with_the_first_receipt(
    ministry: NationalClient, recorder: SimRecorder
) -> None:
    petition_id, message_id = new_petition_id(), str(uuid.uuid4())
    first = ministry.service.ReceiveStatus(Header=header(message_id), Status=status(petition_id, 1))
    again = ministry.service.ReceiveStatus(Header=header(message_id), Status=status(petition_id, 1))
    assert (first.Duplicate, again.Duplicate, again.Accepted) == (False, True, True)
    assert again.ReceiptId == first.ReceiptId
    assert [e.outcome for e in entries(recorder, message_id)] == ["accepted", "duplicate"]
    assert recorder.statuses(petition_id) == [(1, "05")]


def test_the_same_petition_and_seq_under_a_new_message_id_is_a_duplicate(
    ministry: NationalClient, recorder: SimRecorder
) -> None:
    petition_id = new_petition_id()
    ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, 1))
    replay = ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, 1))
    assert replay.Duplicate is True
    assert not [v for v in recorder.order_violations if v.petition_id == petition_id]


def test_a_transfer_request_is_accepted(ministry: NationalClient, recorder: SimRecorder) -> None:
    petition_id = new_petition_id()
    transfer = {
        "PetitionId": petition_id,
        "Reason": "Thuộc thẩm quyền Bộ Nội vụ.",
        "SuggestedOrganId": "000.00.00.G09",
    }
    receipt = ministry.service.RequestTransfer(Header=header(), Transfer=transfer)
    assert (receipt.Accepted, receipt.Duplicate) == (True, False)
    assert recorder.transfers(petition_id) == ["Thuộc thẩm quyền Bộ Nội vụ."]


# --------------------------------------------------------------------------- refused


def assert_fault(raised: pytest.ExceptionInfo[zeep.exceptions.Fault], code: str) -> None:
    assert raised.value.code == f"soap:{code}"
    # Vietnamese, then English, separated by " / "
    vietnamese, english = raised.value.message.split(" / ", 1)
    assert any(ord(ch) > 127 for ch in vietnamese)
    assert english.isascii()


def test_a_tampered_message_is_refused_as_signature_invalid(
    base_url: str, ministry_key: signing.SigningKey, pki: DevPki, recorder: SimRecorder
) -> None:
    client = national_client(base_url, ministry_key, pki, Tamper())
    petition_id, message_id = new_petition_id(), str(uuid.uuid4())
    with pytest.raises(zeep.exceptions.Fault) as raised:
        client.service.ReceiveStatus(Header=header(message_id), Status=status(petition_id, 1))
    assert_fault(raised, "Client.SignatureInvalid")
    [entry] = entries(recorder, message_id)
    assert (entry.verdict, entry.outcome) == ("invalid:SignatureInvalid", "Client.SignatureInvalid")
    assert recorder.statuses(petition_id) == []  # nothing half-stored


def test_an_unsigned_message_is_refused_as_signature_missing(
    base_url: str, pki: DevPki, recorder: SimRecorder
) -> None:
    client = national_client(base_url, None, pki)
    message_id = str(uuid.uuid4())
    with pytest.raises(zeep.exceptions.Fault) as raised:
        client.service.ReceiveStatus(Header=header(message_id), Status=status(new_petition_id(), 1))
    assert_fault(raised, "Client.SignatureMissing")
    [entry] = entries(recorder, message_id)
    assert (entry.verdict, entry.outcome) == ("absent", "Client.SignatureMissing")


def test_a_message_signed_under_a_foreign_ca_is_refused(
    base_url: str, pki: DevPki, foreign_pki: DevPki, recorder: SimRecorder
) -> None:
    impostor = signing.load_pem_key(foreign_pki.ministry_cert, foreign_pki.ministry_key)
    client = national_client(base_url, impostor, pki)
    message_id = str(uuid.uuid4())
    with pytest.raises(zeep.exceptions.Fault) as raised:
        client.service.ReceiveStatus(Header=header(message_id), Status=status(new_petition_id(), 1))
    assert_fault(raised, "Client.CertificateUntrusted")
    [entry] = entries(recorder, message_id)
    assert entry.verdict == "invalid:CertificateUntrusted"


def test_a_valid_signature_of_another_organisation_is_refused(
    base_url: str, pki: DevPki, recorder: SimRecorder
) -> None:
    """Signed by the national portal's own certificate while claiming From = the ministry."""
    national = signing.load_pem_key(pki.national_cert, pki.national_key)
    client = national_client(base_url, national, pki)
    message_id = str(uuid.uuid4())
    with pytest.raises(zeep.exceptions.Fault) as raised:
        client.service.ReceiveStatus(Header=header(message_id), Status=status(new_petition_id(), 1))
    assert_fault(raised, "Client.SenderMismatch")
    [entry] = entries(recorder, message_id)
    assert (entry.verdict, entry.outcome) == ("valid", "Client.SenderMismatch")


def test_a_message_from_another_ministry_is_refused(ministry: NationalClient) -> None:
    with pytest.raises(zeep.exceptions.Fault) as raised:
        ministry.service.ReceiveStatus(
            Header=header(sender="000.00.00.G09"), Status=status(new_petition_id(), 1)
        )
    assert_fault(raised, "Client.SenderMismatch")


def test_a_message_not_addressed_to_the_portal_is_refused(ministry: NationalClient) -> None:
    with pytest.raises(zeep.exceptions.Fault) as raised:
        ministry.service.ReceiveStatus(Header=header(recipient=MOLISA), Status=status(new_petition_id(), 1))
    assert_fault(raised, "Client.WrongRecipient")


def test_a_schema_violation_is_refused_before_the_signature_is_looked_at(
    ministry: NationalClient, recorder: SimRecorder
) -> None:
    message_id = str(uuid.uuid4())
    naive = header(message_id) | {"SentAt": datetime(2026, 11, 28, 9, 0)}  # zeep does not check the facet
    with pytest.raises(zeep.exceptions.Fault) as raised:
        ministry.service.ReceiveStatus(Header=naive, Status=status(new_petition_id(), 1))
    assert_fault(raised, "Client.SchemaInvalid")
    assert "SentAt" in raised.value.message
    [entry] = entries(recorder, message_id)
    assert (entry.verdict, entry.outcome) == ("not-checked", "Client.SchemaInvalid")


def test_an_answer_whose_letter_does_not_match_its_hash_is_refused(ministry: NationalClient) -> None:
    with pytest.raises(zeep.exceptions.Fault) as raised:
        ministry.service.ReceiveAnswer(
            Header=header(), Answer=answer(new_petition_id(), document=PDF + b"x", declared=PDF)
        )
    assert_fault(raised, "Client.DocumentMismatch")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>'
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&e;</soap:Body>'
            b"</soap:Envelope>",
            "Client.ForbiddenDtd",
        ),
        (b"<not-closed>", "Client.MalformedXml"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><a/>', "Client.MalformedXml"),
        (b"<Envelope/>", "Client.NotSoap"),
        (
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            b'<p:StatusMessage xmlns:p="urn:pakn:exchange:1"/>'
            b'<p:StatusMessage xmlns:p="urn:pakn:exchange:1"/>'
            b"</soap:Body></soap:Envelope>",
            "Client.NotSoap",
        ),
        (
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            b'<p:PetitionMessage xmlns:p="urn:pakn:exchange:1"/></soap:Body></soap:Envelope>',
            "Client.UnknownOperation",
        ),
        (
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            + b"<a>" * 60
            + b"</a>" * 60
            + b"</soap:Body></soap:Envelope>",
            "Client.TooDeep",
        ),
    ],
    ids=[
        "dtd-entity",
        "not-well-formed",
        "latin-1",
        "not-soap",
        "two-body-children",
        "not-a-national-operation",
        "deep",
    ],
)
def test_hostile_or_malformed_bodies_get_a_fault_with_a_stable_code(
    base_url: str, body: bytes, code: str
) -> None:
    response = httpx.post(f"{base_url}/soap/national", content=body, headers={"Content-Type": "text/xml"})
    assert response.status_code == 500
    fault = etree.fromstring(response.content).find(".//faultcode")
    assert fault is not None
    assert fault.text == f"soap:{code}"


def test_an_oversized_body_is_refused_unread(pki: DevPki) -> None:
    app = create_sim_app(trust=pki.trust_store(), max_body_bytes=2048)
    with serve_in_thread(app) as url:
        response = httpx.post(f"{url}/soap/national", content=b"<a>" + b" " * 5000 + b"</a>")
    assert response.status_code == 500
    assert b"soap:Client.TooLarge" in response.content
    [entry] = app.state.recorder.received
    assert entry.outcome == "Client.TooLarge"


# --------------------------------------------------------------------------- ordering guarantees


def test_statuses_out_of_seq_order_are_accepted_and_recorded_as_violations(
    ministry: NationalClient, recorder: SimRecorder
) -> None:
    petition_id = new_petition_id()
    for seq, code in ((1, "03"), (3, "05"), (2, "04")):
        receipt = ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, seq, code))
        assert receipt.Accepted is True
    violations = [v for v in recorder.order_violations if v.petition_id == petition_id]
    assert len(violations) == 1
    assert violations[0] == OrderViolation(petition_id, 2, 3, "04", violations[0].message_id)
    assert recorder.statuses(petition_id) == [(1, "03"), (2, "04"), (3, "05")]


def test_statuses_in_order_record_no_violation(ministry: NationalClient, recorder: SimRecorder) -> None:
    petition_id = new_petition_id()
    for seq, code in ((1, "03"), (2, "04"), (3, "05"), (4, "06")):
        ministry.service.ReceiveStatus(Header=header(), Status=status(petition_id, seq, code))
    assert not [v for v in recorder.order_violations if v.petition_id == petition_id]


def test_an_answer_before_status_04_is_recorded(ministry: NationalClient, recorder: SimRecorder) -> None:
    early, proper = new_petition_id(), new_petition_id()
    ministry.service.ReceiveStatus(Header=header(), Status=status(early, 1, "03"))
    receipt = ministry.service.ReceiveAnswer(Header=header(), Answer=answer(early))
    assert receipt.Accepted is True
    ministry.service.ReceiveStatus(Header=header(), Status=status(proper, 1, "04"))
    ministry.service.ReceiveAnswer(Header=header(), Answer=answer(proper))
    before = recorder.answers_before_assignment
    assert early in before
    assert proper not in before
    assert len(recorder.answers(proper)) == 1


# --------------------------------------------------------------------------- ListPetitions


def test_list_petitions_pages_through_registered_petitions(
    ministry: NationalClient, recorder: SimRecorder
) -> None:
    batch = generate_petitions(25, seed=11, prefix="LIST", attachment_ratio=1.0)
    recorder.register_petitions(batch)
    registered = [p["PetitionId"] for p in recorder.petitions()]
    seen: list[str] = []
    pages: list[int] = []
    cursor = None
    while True:
        page = ministry.service.ListPetitions(Header=header(), OrganId=MOLISA, Cursor=cursor, Limit=10)
        pages.append(len(page.Petition))
        seen.extend(p.PetitionId for p in page.Petition)
        cursor = page.NextCursor
        if cursor is None:
            break
    assert seen == registered
    assert pages[:-1] == [10] * (len(pages) - 1) and 0 < pages[-1] <= 10
    assert ministry.last_response.verdict == "valid"


def test_listed_petitions_round_trip_intact_through_zeep(
    ministry: NationalClient, recorder: SimRecorder
) -> None:
    batch = generate_petitions(3, seed=12, prefix="ROUND", attachment_ratio=1.0)
    recorder.register_petitions(batch)
    since = min(p["ReceivedAt"] for p in batch)
    listed = {}
    cursor = None
    while True:
        page = ministry.service.ListPetitions(
            Header=header(), OrganId=MOLISA, Since=since, Cursor=cursor, Limit=1000
        )
        listed.update({p.PetitionId: p for p in page.Petition})
        cursor = page.NextCursor
        if cursor is None:
            break
    for original in batch:
        got = listed[original["PetitionId"]]
        assert got.Sender.FullName == original["Sender"]["FullName"]
        assert got.Content == original["Content"]
        assert got.ReceivedAt == original["ReceivedAt"]
        assert [a.Data for a in got.Attachments.Attachment] == [
            a["Data"] for a in original["Attachments"]["Attachment"]
        ]


def test_list_petitions_since_filters_by_received_at(ministry: NationalClient, recorder: SimRecorder) -> None:
    future = datetime.now(VN_TZ) + timedelta(days=365)
    page = ministry.service.ListPetitions(Header=header(), OrganId=MOLISA, Since=future)
    assert page.Petition == []
    assert page.NextCursor is None


def test_list_petitions_refuses_a_bad_cursor_and_another_organisation(ministry: NationalClient) -> None:
    with pytest.raises(zeep.exceptions.Fault) as bad_cursor:
        ministry.service.ListPetitions(Header=header(), OrganId=MOLISA, Cursor="abc")
    assert_fault(bad_cursor, "Client.InvalidCursor")
    with pytest.raises(zeep.exceptions.Fault) as other:
        ministry.service.ListPetitions(Header=header(), OrganId="000.00.00.G09")
    assert_fault(other, "Client.SenderMismatch")


# --------------------------------------------------------------------------- records for humans and tools


def test_every_message_is_journaled_and_summarised(
    tmp_path: Path, pki: DevPki, ministry_key: signing.SigningKey
) -> None:
    app = create_sim_app(trust=pki.trust_store(), record_dir=tmp_path / "records")
    with serve_in_thread(app) as url:
        client = national_client(url, ministry_key, pki)
        message_id = str(uuid.uuid4())
        client.service.ReceiveStatus(Header=header(message_id), Status=status("SIM-J-1", 1))
        with pytest.raises(zeep.exceptions.Fault):
            national_client(url, None, pki).service.ReceiveStatus(
                Header=header(), Status=status("SIM-J-1", 2)
            )
        summary = httpx.get(f"{url}/sim/received").json()
        assert client.last_response.verdict == "absent"  # this app has no signer
    lines = [
        json.loads(line) for line in (tmp_path / "records" / "received.jsonl").read_text("utf-8").splitlines()
    ]
    assert [(line["operation"], line["verdict"], line["outcome"]) for line in lines] == [
        ("ReceiveStatus", "valid", "accepted"),
        ("ReceiveStatus", "absent", "Client.SignatureMissing"),
    ]
    assert lines[0]["message_id"] == message_id
    assert summary["count"] == 2
    assert summary["by_verdict"] == {"valid": 1, "absent": 1}
    assert summary["messages"][0]["petition_id"] == "SIM-J-1"


def test_without_a_trust_store_messages_are_recorded_unverified(
    pki: DevPki, ministry_key: signing.SigningKey
) -> None:
    app = create_sim_app(trust=None)
    with serve_in_thread(app) as url:
        national_client(url, ministry_key, pki).service.ReceiveStatus(
            Header=header(), Status=status("SIM-U-1", 1)
        )
        national_client(url, None, pki).service.ReceiveStatus(Header=header(), Status=status("SIM-U-1", 2))
    assert [r.verdict for r in app.state.recorder.received] == ["unverified", "absent"]
