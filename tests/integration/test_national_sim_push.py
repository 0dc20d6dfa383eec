"""The portal's client side: MinistryClient and push() over real HTTP, signed requests checked by the
signing component and by xmlsec1.

The server here is a small stand-in for the gateway's MinistryExchange (the gateway is another
component and this suite must not depend on it): it serves the ministry WSDL, validates every request
against the XSD, verifies its signature against the dev CA, remembers PetitionIds and signs its
Receipts with the ministry key, which is all a client can observe of the real one.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
import zeep.exceptions
from fastapi import FastAPI, Request, Response
from lxml import etree

import schemas
import signing
from connectors.national_sim.generator import generate_petitions
from connectors.national_sim.ministry_client import GOVERNMENT_OFFICE, MOLISA, MinistryClient
from connectors.national_sim.push import PushResult, push, wsdl_url_of
from connectors.national_sim.recorder import SimRecorder
from connectors.national_sim.vn_time import VN_TZ
from connectors.soap_signing import ForeignImportRefused, build_client
from signing.pki import DevPki, init_dev_pki
from tests.support.live_server import serve_in_thread

pytestmark = pytest.mark.integration

NS = schemas.NAMESPACE
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
XML = "text/xml; charset=utf-8"


# --------------------------------------------------------------------------- a stand-in MinistryExchange


@dataclass
class MinistryStub:
    trust: signing.TrustStore
    key: signing.SigningKey
    petitions: set[str] = field(default_factory=set)
    verified: list[signing.VerifiedXml] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        app = FastAPI()
        wsdl = schemas.ministry_wsdl_path().read_text("utf-8")
        xsd = etree.XMLSchema(etree.parse(str(schemas.xsd_path())))

        @app.get("/soap/pakn")
        async def describe(request: Request) -> Response:
            base = str(request.base_url).rstrip("/")
            if "wsdl" in request.query_params:
                served = wsdl.replace("http://localhost:8080/soap/pakn", f"{base}/soap/pakn").replace(
                    'schemaLocation="pakn-exchange-1.xsd"',
                    f'schemaLocation="{base}/soap/pakn?xsd=pakn-exchange-1.xsd"',
                )
                return Response(served, media_type=XML)
            return Response(schemas.xsd_path().read_bytes(), media_type=XML)

        @app.post("/soap/pakn")
        async def exchange(request: Request) -> Response:
            body = etree.fromstring(await request.body()).find(f"{{{SOAP}}}Body")
            assert body is not None
            [element] = body
            detached = etree.tostring(element)
            if not xsd.validate(etree.fromstring(detached)):
                return fault("Client.SchemaInvalid")
            try:
                verified = signing.verify_xml(detached, self.trust)
            except signing.SigningError as exc:
                return fault(f"Client.{exc.code}")
            with self.lock:
                self.verified.append(verified)
            return Response(
                envelope(signing.sign_xml(self.answer(verified.element), self.key)), media_type=XML
            )

        return app

    def answer(self, request: etree._Element) -> etree._Element:
        message_id = request.findtext(f"{{{NS}}}Header/{{{NS}}}MessageId")
        name = etree.QName(request).localname
        if name == "StatusQuery":
            report = etree.Element(f"{{{NS}}}StatusReport")
            values = ((request.findtext(f"{{{NS}}}PetitionId"), "PetitionId"), ("01", "StatusCode"))
            for text, tag in values:
                etree.SubElement(report, f"{{{NS}}}{tag}").text = text
            etree.SubElement(report, f"{{{NS}}}History")
            return report
        duplicate = False
        if name == "PetitionMessage":
            petition_id = request.findtext(f"{{{NS}}}Petition/{{{NS}}}PetitionId")
            with self.lock:
                duplicate = petition_id in self.petitions
                self.petitions.add(str(petition_id))
        receipt = etree.Element(f"{{{NS}}}Receipt")
        for tag, text in (
            ("MessageId", message_id),
            ("ReceiptId", f"RC-{uuid.uuid4().hex[:12]}"),
            ("Accepted", "true"),
            ("Duplicate", "true" if duplicate else "false"),
        ):
            etree.SubElement(receipt, f"{{{NS}}}{tag}").text = text
        return receipt


def envelope(payload: etree._Element) -> bytes:
    soap = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP})
    etree.SubElement(soap, f"{{{SOAP}}}Body").append(payload)
    return etree.tostring(soap, xml_declaration=True, encoding="utf-8")


def fault(code: str) -> Response:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><soap:Fault><faultcode>soap:{code}</faultcode>'
        f"<faultstring>Từ chối / Refused</faultstring></soap:Fault></soap:Body></soap:Envelope>"
    )
    return Response(body.encode(), status_code=500, media_type=XML)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return init_dev_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def stub(pki: DevPki) -> MinistryStub:
    return MinistryStub(pki.trust_store(), signing.load_pem_key(pki.ministry_cert, pki.ministry_key))


@pytest.fixture
def gateway(stub: MinistryStub) -> Iterator[str]:
    with serve_in_thread(stub.app()) as base_url:
        yield base_url


@pytest.fixture
def client(gateway: str, pki: DevPki) -> MinistryClient:
    key = signing.load_pem_key(pki.national_cert, pki.national_key)
    return MinistryClient(f"{gateway}/soap/pakn?wsdl", key, trust=pki.trust_store(), timeout=10)


# --------------------------------------------------------------------------- MinistryClient


def test_submit_petition_is_signed_by_the_portal_and_the_receipt_by_the_ministry(
    client: MinistryClient, stub: MinistryStub
) -> None:
    [petition] = generate_petitions(1, seed=1, attachment_ratio=1.0)
    message_id = str(uuid.uuid4())
    receipt = client.submit_petition(petition, message_id=message_id)
    assert (receipt.MessageId, receipt.Accepted, receipt.Duplicate) == (message_id, True, False)
    assert receipt.signature_verdict == "valid"
    assert client.last_response is not None and client.last_response.signer == MOLISA
    [verified] = stub.verified
    assert verified.organisation_id == GOVERNMENT_OFFICE
    assert verified.element.findtext(f"{{{NS}}}Petition/{{{NS}}}Title") == petition["Title"]
    sent_at = datetime.fromisoformat(str(verified.element.findtext(f"{{{NS}}}Header/{{{NS}}}SentAt")))
    assert sent_at.utcoffset() == VN_TZ.utcoffset(None)
    assert verified.element.findtext(f"{{{NS}}}Header/{{{NS}}}From") == GOVERNMENT_OFFICE
    assert verified.element.findtext(f"{{{NS}}}Header/{{{NS}}}To") == MOLISA


def test_updates_feedback_and_status_queries_go_through(client: MinistryClient, stub: MinistryStub) -> None:
    at = datetime.now(VN_TZ).replace(microsecond=0)
    update = {"PetitionId": "SIM-2026-X", "Action": "SUPPLEMENT", "Content": "Bổ sung bảng lương.", "At": at}
    feedback = {"PetitionId": "SIM-2026-X", "AnswerId": "TL-1", "Rating": 4, "Comment": "Hài lòng", "At": at}
    assert client.submit_update(update).Accepted is True
    assert client.submit_feedback(feedback, correlation_id="TL-1").Accepted is True
    report = client.petition_status("SIM-2026-X")
    assert (report.PetitionId, report.StatusCode) == ("SIM-2026-X", "01")
    operations = [etree.QName(v.element).localname for v in stub.verified]
    assert operations == ["PetitionUpdateMessage", "FeedbackMessage", "StatusQuery"]
    assert stub.verified[1].element.findtext(f"{{{NS}}}Header/{{{NS}}}CorrelationId") == "TL-1"


def test_a_fault_propagates_as_a_zeep_fault_with_its_code(gateway: str, pki: DevPki) -> None:
    unsigned = MinistryClient(f"{gateway}/soap/pakn?wsdl", None, timeout=10)
    with pytest.raises(zeep.exceptions.Fault) as raised:
        unsigned.submit_petition(generate_petitions(1, seed=2)[0])
    assert raised.value.code == "soap:Client.SignatureMissing"
    assert unsigned.last_response is not None and unsigned.last_response.fault


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 not installed (Debian package xmlsec1)")
def test_the_request_zeep_sent_verifies_with_xmlsec1_once_detached(
    client: MinistryClient, pki: DevPki, tmp_path: Path
) -> None:
    client.submit_petition(generate_petitions(1, seed=3, attachment_ratio=1.0)[0])
    assert client.plugin.last_request is not None
    body = etree.fromstring(client.plugin.last_request).find(f"{{{SOAP}}}Body")
    assert body is not None
    [request] = body
    document = tmp_path / "petition-message.xml"
    document.write_bytes(etree.tostring(request, xml_declaration=True, encoding="utf-8"))
    xmlsec1 = [str(shutil.which("xmlsec1")), "--verify", "--enabled-reference-uris", "empty"]
    result = subprocess.run(
        [*xmlsec1, "--enabled-key-data", "x509", "--trusted-pem", str(pki.ca_cert), str(document)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    title = request.find(f".//{{{NS}}}Title")
    assert title is not None
    title.text = "Tiêu đề đã bị sửa"
    document.write_bytes(etree.tostring(request, xml_declaration=True, encoding="utf-8"))
    tampered = subprocess.run(
        [*xmlsec1, "--enabled-key-data", "x509", "--trusted-pem", str(pki.ca_cert), str(document)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert tampered.returncode != 0


def test_the_client_loads_nothing_from_another_origin() -> None:
    app = FastAPI()
    foreign = (
        schemas.national_wsdl_path()
        .read_text("utf-8")
        .replace(
            'schemaLocation="pakn-exchange-1.xsd"', 'schemaLocation="http://127.0.0.2:9/pakn-exchange-1.xsd"'
        )
    )

    @app.get("/soap/national")
    async def wsdl() -> Response:
        return Response(foreign, media_type=XML)

    with serve_in_thread(app) as base_url, pytest.raises(ForeignImportRefused):
        build_client(f"{base_url}/soap/national?wsdl", timeout=5)


# --------------------------------------------------------------------------- push


def test_push_sends_every_petition_once_signed_and_reports(
    gateway: str, pki: DevPki, stub: MinistryStub
) -> None:
    results: list[PushResult] = []
    lock = threading.Lock()

    def collect(result: PushResult) -> None:
        with lock:
            results.append(result)

    recorder = SimRecorder()
    report = push(gateway, pki.directory, 30, seed=5, concurrency=4, on_result=collect, recorder=recorder)
    expected = [p["PetitionId"] for p in generate_petitions(30, seed=5)]
    assert (report.sent, report.accepted, report.duplicates) == (30, 30, 0)
    assert report.faults == {} and report.errors == {}
    assert report.petition_ids == expected
    assert report.elapsed > 0 and report.per_second > 0
    assert sorted(r.petition_id for r in results) == sorted(expected)
    assert len({r.message_id for r in results}) == 30
    assert stub.petitions == set(expected)
    assert {v.organisation_id for v in stub.verified} == {GOVERNMENT_OFFICE}
    assert [p["PetitionId"] for p in recorder.petitions()] == expected


def test_pushing_the_same_petitions_again_reports_duplicates(gateway: str, pki: DevPki) -> None:
    batch = generate_petitions(12, seed=6)
    first = push(gateway, pki.directory, 0, petitions=batch, concurrency=3)
    again = push(f"{gateway}/soap/pakn?wsdl", pki.directory, 0, petitions=batch, concurrency=3)
    assert (first.accepted, first.duplicates) == (12, 0)
    assert (again.accepted, again.duplicates, again.sent) == (0, 12, 12)


def test_push_counts_faults_by_code(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A gateway that trusts another CA refuses every petition: counted, not raised."""
    other = init_dev_pki(tmp_path_factory.mktemp("other-pki"))
    stub = MinistryStub(other.trust_store(), signing.load_pem_key(other.ministry_cert, other.ministry_key))
    with serve_in_thread(stub.app()) as url:
        report = push(url, pki.directory, 8, seed=7, concurrency=2)
    assert (report.sent, report.accepted) == (8, 0)
    assert report.faults == {"soap:Client.CertificateUntrusted": 8}


def test_push_counts_transport_errors_when_the_gateway_is_down(pki: DevPki) -> None:
    app = FastAPI()
    with serve_in_thread(app) as url:
        pass  # the port was free a moment ago and is closed now
    report = push(url, pki.directory, 5, seed=8, concurrency=2, timeout=2)
    assert (report.sent, report.accepted) == (5, 0)
    assert sum(report.errors.values()) == 5
    assert report.faults == {}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://gw:8080", "http://gw:8080/soap/pakn?wsdl"),
        ("http://gw:8080/", "http://gw:8080/soap/pakn?wsdl"),
        ("http://gw:8080/soap/pakn?wsdl", "http://gw:8080/soap/pakn?wsdl"),
    ],
)
def test_the_wsdl_url_is_derived_from_the_gateway_url(given: str, expected: str) -> None:
    assert wsdl_url_of(given) == expected
