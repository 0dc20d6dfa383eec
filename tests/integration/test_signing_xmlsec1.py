"""An independent verifier, Debian's xmlsec1 (libxmlsec1/OpenSSL), agrees with sign_xml and verify_xml.

Flags, all of them tightening: ``--enabled-reference-uris empty`` accepts only Reference URI="" (the
contract), ``--enabled-key-data x509`` takes the key only from a certificate, which ``--trusted-pem``
must vouch for. Nothing that skips certificate checks (``--insecure``, ``--X509-skip-strict-checks``).
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from signing import SigningKey, TrustStore, load_pem_key, sign_xml, verify_xml
from signing.pki import DevPki, create_ca, init_dev_pki, issue_certificate

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("xmlsec1") is None, reason="xmlsec1 not installed (Debian package xmlsec1)"
    ),
]

PAKN = "urn:pakn:exchange:1"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
NS = {"p": PAKN}
STRICT = ["--enabled-reference-uris", "empty", "--enabled-key-data", "x509"]


def xmlsec1_verify(document: Path, trusted_pem: Path) -> subprocess.CompletedProcess[str]:
    xmlsec1 = shutil.which("xmlsec1")
    assert xmlsec1 is not None
    return subprocess.run(
        [xmlsec1, "--verify", *STRICT, "--trusted-pem", str(trusted_pem), str(document)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def petition(petition_id: str = "PAKN-2026-000123") -> etree._Element:
    return etree.fromstring(
        f"""<PetitionMessage xmlns="{PAKN}"><Header><MessageId>{uuid.uuid4()}</MessageId>"""
        """<From>000.00.00.G07</From><To>000.00.00.G22</To><SentAt>2026-11-28T10:00:00+07:00</SentAt>"""
        f"""</Header><Petition><PetitionId>{petition_id}</PetitionId>"""
        """<Title>Đề nghị giải quyết chế độ trợ cấp</Title></Petition></PetitionMessage>""".encode()
    )


def write(path: Path, element: etree._Element) -> Path:
    path.write_bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8"))
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return init_dev_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def ministry(pki: DevPki) -> SigningKey:
    return load_pem_key(pki.ministry_cert, pki.ministry_key)


@pytest.fixture(scope="module")
def ministry_ec(pki: DevPki) -> SigningKey:
    ca = load_pem_key(pki.ca_cert, pki.ca_key)
    now = datetime.now(UTC)
    key, cert = issue_certificate(
        ca.certificate,
        ca.private_key,
        organisation_id="000.00.00.G07",
        name="Bộ Lao động - Thương binh và Xã hội",
        key_type="ec",
        not_before=now - timedelta(hours=1),
        not_after=now + timedelta(days=30),
    )
    return SigningKey(private_key=key, certificate=cert)


@pytest.mark.parametrize(
    ("key_fixture", "algorithm"), [("ministry", "rsa-sha256"), ("ministry_ec", "ecdsa-sha256")]
)
def test_xmlsec1_accepts_what_sign_xml_produces(
    request: pytest.FixtureRequest, pki: DevPki, tmp_path: Path, key_fixture: str, algorithm: str
) -> None:
    key: SigningKey = request.getfixturevalue(key_fixture)
    document = write(tmp_path / "signed.xml", sign_xml(petition(), key))
    assert f'Algorithm="http://www.w3.org/2001/04/xmldsig-more#{algorithm}"'.encode() in document.read_bytes()

    result = xmlsec1_verify(document, pki.ca_cert)

    assert result.returncode == 0, result.stderr
    assert "SignedInfo References (ok/all): 1/1" in result.stderr


def test_xmlsec1_refuses_a_tampered_copy(pki: DevPki, ministry: SigningKey, tmp_path: Path) -> None:
    signed = sign_xml(petition("PAKN-2026-000123"), ministry)
    good = write(tmp_path / "good.xml", signed)
    petition_id = signed.find("p:Petition/p:PetitionId", NS)
    assert petition_id is not None
    petition_id.text = "PAKN-2026-999999"
    tampered = write(tmp_path / "tampered.xml", signed)

    assert xmlsec1_verify(good, pki.ca_cert).returncode == 0  # control
    assert xmlsec1_verify(tampered, pki.ca_cert).returncode != 0


def test_xmlsec1_refuses_a_signer_from_a_foreign_ca(pki: DevPki, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    foreign_key, foreign_cert = create_ca(
        name="Foreign CA", not_before=now - timedelta(hours=1), not_after=now + timedelta(days=30)
    )
    key, cert = issue_certificate(
        foreign_cert,
        foreign_key,
        organisation_id="000.00.00.G07",
        name="Bộ Lao động - Thương binh và Xã hội",
        not_before=now - timedelta(hours=1),
        not_after=now + timedelta(days=30),
    )
    document = write(
        tmp_path / "foreign.xml", sign_xml(petition(), SigningKey(private_key=key, certificate=cert))
    )
    foreign_pem = tmp_path / "foreign-ca.pem"
    foreign_pem.write_bytes(TrustStore((foreign_cert,)).pem())

    assert xmlsec1_verify(document, foreign_pem).returncode == 0  # control: the signature itself is sound
    assert xmlsec1_verify(document, pki.ca_cert).returncode != 0


def test_xmlsec1_accepts_the_element_detached_from_a_soap_envelope(
    pki: DevPki, ministry: SigningKey, tmp_path: Path
) -> None:
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP})
    etree.SubElement(envelope, f"{{{SOAP}}}Body").append(sign_xml(petition(), ministry))
    body = etree.fromstring(etree.tostring(envelope)).find(f"{{{SOAP}}}Body")
    assert body is not None
    detached = tmp_path / "detached.xml"
    detached.write_bytes(etree.tostring(body[0]))

    assert xmlsec1_verify(detached, pki.ca_cert).returncode == 0


TEMPLATE = """<PetitionMessage xmlns="urn:pakn:exchange:1"><Header><MessageId>{message_id}</MessageId>\
<From>000.00.00.G07</From><To>000.00.00.G22</To><SentAt>2026-11-28T10:00:00+07:00</SentAt></Header>\
<Petition><PetitionId>PAKN-2026-000123</PetitionId>\
<Title>Đề nghị giải quyết chế độ trợ cấp</Title></Petition>\
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>\
<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>\
<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>\
<ds:Reference URI=""><ds:Transforms>\
<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>\
<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>\
<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>\
</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature></PetitionMessage>"""


def test_verify_xml_accepts_what_xmlsec1_signs(pki: DevPki, tmp_path: Path) -> None:
    """Interoperability the other way: a peer signing with libxmlsec1 is understood."""
    template = tmp_path / "template.xml"
    template.write_text(TEMPLATE.format(message_id=uuid.uuid4()), encoding="utf-8")
    signed = tmp_path / "xmlsec1-signed.xml"
    xmlsec1 = shutil.which("xmlsec1")
    assert xmlsec1 is not None
    subprocess.run(
        [
            xmlsec1,
            "--sign",
            "--privkey-pem",
            f"{pki.ministry_key},{pki.ministry_cert}",
            "--output",
            str(signed),
            str(template),
        ],
        capture_output=True,
        timeout=30,
        check=True,
    )

    verified = verify_xml(signed.read_bytes(), pki.trust_store())

    assert verified.organisation_id == "000.00.00.G07"
    assert (
        verified.element.findtext("p:Petition/p:Title", namespaces=NS) == "Đề nghị giải quyết chế độ trợ cấp"
    )
