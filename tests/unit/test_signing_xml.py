"""XML-DSig as the national contract needs it: round trips, refusals, algorithms, hostile XML."""

from __future__ import annotations

import base64
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

from signing import (
    CertificateExpired,
    CertificateUntrusted,
    KeyLoadError,
    SignatureInvalid,
    SignatureMissing,
    SigningError,
    SigningKey,
    TrustStore,
    VerifiedXml,
    load_pem_key,
    load_pkcs12,
    sign_xml,
    verify_xml,
)
from signing.testing import EphemeralCa

pytestmark = pytest.mark.unit

PAKN = "urn:pakn:exchange:1"
DS = "http://www.w3.org/2000/09/xmldsig#"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
NS = {"p": PAKN, "ds": DS}
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
TITLE = "Đề nghị giải quyết chế độ trợ cấp"
CONTENT = "Ông Nguyễn Văn Được ở xã Hương Thủy, tỉnh Thừa Thiên Huế, hỏi về trợ cấp ưu đãi người có công."
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def ca() -> EphemeralCa:
    return EphemeralCa.create()


@pytest.fixture(scope="module")
def trust(ca: EphemeralCa) -> TrustStore:
    return ca.trust_store()


@pytest.fixture(scope="module")
def national(ca: EphemeralCa) -> SigningKey:
    return ca.issue("000.00.00.G22", "Văn phòng Chính phủ")


@pytest.fixture(scope="module")
def national_ec(ca: EphemeralCa) -> SigningKey:
    return ca.issue("000.00.00.G22", "Văn phòng Chính phủ", key_type="ec")


@pytest.fixture(scope="module")
def short_lived(ca: EphemeralCa) -> SigningKey:
    """Valid from yesterday until tomorrow: verify it two days from now to see it expired."""
    return ca.issue("000.00.00.G22", "Văn phòng Chính phủ", not_after=NOW + timedelta(days=1))


def petition(petition_id: str = "PAKN-2026-000123", title: str = TITLE) -> etree._Element:
    message = etree.fromstring(f'<PetitionMessage xmlns="{PAKN}"/>')
    header = etree.SubElement(message, f"{{{PAKN}}}Header")
    for tag, text in (
        ("MessageId", str(uuid.uuid4())),
        ("From", "000.00.00.G22"),
        ("To", "000.00.00.G07"),
        ("SentAt", "2026-11-28T10:00:00+07:00"),
    ):
        etree.SubElement(header, f"{{{PAKN}}}{tag}").text = text
    body = etree.SubElement(message, f"{{{PAKN}}}Petition")
    etree.SubElement(body, f"{{{PAKN}}}PetitionId").text = petition_id
    etree.SubElement(body, f"{{{PAKN}}}Title").text = title
    etree.SubElement(body, f"{{{PAKN}}}Content").text = CONTENT
    return message


def c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)


def signed_bytes(key: SigningKey, message: etree._Element | None = None) -> bytes:
    return etree.tostring(sign_xml(message if message is not None else petition(), key))


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_fixture", "algorithm"), [("national", RSA_SHA256), ("national_ec", ECDSA_SHA256)]
)
def test_round_trip_returns_exactly_the_signed_element(
    request: pytest.FixtureRequest, trust: TrustStore, key_fixture: str, algorithm: str
) -> None:
    key: SigningKey = request.getfixturevalue(key_fixture)
    original = petition()

    verified = verify_xml(etree.tostring(sign_xml(original, key)), trust)

    assert isinstance(verified, VerifiedXml)
    assert c14n(verified.element) == c14n(original)
    assert verified.element.find(f"{{{DS}}}Signature") is None
    assert verified.algorithm == algorithm
    assert verified.certificate == key.certificate
    assert verified.organisation_id == "000.00.00.G22"


def test_signed_element_has_the_contract_shape(national: SigningKey) -> None:
    original = petition()
    signed = sign_xml(original, national)

    assert [child.tag for child in signed] == [
        f"{{{PAKN}}}Header",
        f"{{{PAKN}}}Petition",
        f"{{{DS}}}Signature",
    ]
    assert signed.getparent() is None
    reference = signed.find("ds:Signature/ds:SignedInfo/ds:Reference", NS)
    assert reference is not None and reference.get("URI") == ""
    assert [t.get("Algorithm") for t in reference.iterfind("ds:Transforms/ds:Transform", NS)] == [
        f"{DS}enveloped-signature",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
    ]
    digest = reference.find("ds:DigestMethod", NS)
    assert digest is not None and digest.get("Algorithm") == "http://www.w3.org/2001/04/xmlenc#sha256"
    certificate = signed.findtext("ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NS)
    assert certificate and base64.b64decode(certificate) == national.certificate.public_bytes(
        serialization.Encoding.DER
    )
    assert original.find(f"{{{DS}}}Signature") is None, "sign_xml must not modify its input"


def test_verify_accepts_an_element_as_well_as_bytes(national: SigningKey, trust: TrustStore) -> None:
    signed = sign_xml(petition(), national)
    assert verify_xml(signed, trust).organisation_id == "000.00.00.G22"


def test_sign_an_element_that_sits_inside_a_larger_document(national: SigningKey, trust: TrustStore) -> None:
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP, "x": "urn:unrelated"})
    body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
    body.append(petition())

    signed = sign_xml(body[0], national)

    assert signed.getparent() is None
    assert c14n(verify_xml(etree.tostring(signed), trust).element) == c14n(body[0])


def test_survives_a_soap_envelope_and_detaching(national: SigningKey, trust: TrustStore) -> None:
    """What the gateway does: embed the signed element in a SOAP Body, send, detach the Body child."""
    signed = sign_xml(petition(), national)
    envelope = etree.Element(
        f"{{{SOAP}}}Envelope",
        nsmap={"soap": SOAP, "xsi": "http://www.w3.org/2001/XMLSchema-instance", "ds": DS},
    )
    etree.SubElement(envelope, f"{{{SOAP}}}Header")
    body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
    body.append(signed)
    wire = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")

    received_body = etree.fromstring(wire).find(f"{{{SOAP}}}Body")
    assert received_body is not None
    detached = etree.tostring(received_body[0])
    assert b"xmlns:soap=" in detached, "the detached element carries the envelope's namespaces"

    verified = verify_xml(detached, trust)
    assert verified.element.findtext("p:Petition/p:Title", namespaces=NS) == TITLE
    assert verify_xml(received_body[0], trust).organisation_id == "000.00.00.G22"


def test_vietnamese_text_survives_unchanged_in_nfc(national: SigningKey, trust: TrustStore) -> None:
    verified = verify_xml(signed_bytes(national), trust)

    title = verified.element.findtext("p:Petition/p:Title", namespaces=NS)
    content = verified.element.findtext("p:Petition/p:Content", namespaces=NS)
    assert title == TITLE and unicodedata.is_normalized("NFC", title)
    assert content == CONTENT


def test_decomposed_vietnamese_is_signed_as_nfc(national: SigningKey, trust: TrustStore) -> None:
    decomposed = unicodedata.normalize("NFD", TITLE)
    assert decomposed != TITLE

    signed = sign_xml(petition(title=decomposed), national)

    assert signed.findtext("p:Petition/p:Title", namespaces=NS) == TITLE
    assert (
        verify_xml(etree.tostring(signed), trust).element.findtext("p:Petition/p:Title", namespaces=NS)
        == TITLE
    )


# --- refusals ----------------------------------------------------------------------------------


def test_tampered_text_is_refused(national: SigningKey, trust: TrustStore) -> None:
    signed = sign_xml(petition(), national)
    title = signed.find("p:Petition/p:Title", NS)
    assert title is not None
    title.text = "Đề nghị giải quyết chế độ trợ cấp (đã sửa)"

    with pytest.raises(SignatureInvalid, match="Digest mismatch") as caught:
        verify_xml(etree.tostring(signed), trust)
    assert caught.value.code == "SignatureInvalid"


def test_tampered_signature_value_is_refused(national: SigningKey, trust: TrustStore) -> None:
    signed = sign_xml(petition(), national)
    value = signed.find("ds:Signature/ds:SignatureValue", NS)
    assert value is not None and value.text
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()

    with pytest.raises(SignatureInvalid):
        verify_xml(etree.tostring(signed), trust)


def test_unsigned_message_is_signature_missing(trust: TrustStore) -> None:
    with pytest.raises(SignatureMissing) as caught:
        verify_xml(etree.tostring(petition()), trust)
    assert caught.value.code == "SignatureMissing"


def test_signer_from_another_ca_is_untrusted(trust: TrustStore) -> None:
    foreign = EphemeralCa.create("Foreign CA").issue("000.00.00.G22", "Văn phòng Chính phủ")

    with pytest.raises(CertificateUntrusted) as caught:
        verify_xml(signed_bytes(foreign), trust)
    assert caught.value.code == "CertificateUntrusted"


def test_signer_certificate_expired_at_verification_time(short_lived: SigningKey, trust: TrustStore) -> None:
    data = signed_bytes(short_lived)
    assert verify_xml(data, trust).certificate == short_lived.certificate  # control: valid now

    with pytest.raises(CertificateExpired) as caught:
        verify_xml(data, trust, now=NOW + timedelta(days=2))
    assert caught.value.code == "CertificateExpired"


def test_signer_certificate_not_yet_valid_is_expired_error(
    short_lived: SigningKey, trust: TrustStore
) -> None:
    with pytest.raises(CertificateExpired):
        verify_xml(signed_bytes(short_lived), trust, now=NOW - timedelta(days=2))


def test_expired_and_untrusted_reports_untrusted(trust: TrustStore) -> None:
    foreign = EphemeralCa.create("Foreign CA").issue(
        "000.00.00.G22", "Văn phòng Chính phủ", not_after=NOW + timedelta(days=1)
    )

    with pytest.raises(CertificateUntrusted):
        verify_xml(signed_bytes(foreign), trust, now=NOW + timedelta(days=2))


def test_signing_with_an_expired_certificate_is_refused(ca: EphemeralCa) -> None:
    expired = ca.issue(
        "000.00.00.G22",
        "Văn phòng Chính phủ",
        not_before=NOW - timedelta(days=10),
        not_after=NOW - timedelta(days=1),
    )
    with pytest.raises(CertificateExpired):
        sign_xml(petition(), expired)


def test_element_with_an_id_attribute_is_not_signed(national: SigningKey) -> None:
    message = petition()
    message.set("Id", "m1")
    with pytest.raises(SigningError):
        sign_xml(message, national)


def test_already_signed_element_is_not_signed_again(national: SigningKey) -> None:
    with pytest.raises(SigningError):
        sign_xml(sign_xml(petition(), national), national)


def test_not_well_formed_input_is_invalid(trust: TrustStore) -> None:
    with pytest.raises(SignatureInvalid):
        verify_xml(b"<PetitionMessage xmlns='urn:pakn:exchange:1'><Header>", trust)


# --- algorithms --------------------------------------------------------------------------------


class _AnySigner(XMLSigner):
    """signxml's signer with its SHA-1 refusal switched off, to build hostile samples."""

    def check_deprecated_methods(self) -> None:
        return None


def _sign_with(
    key: SigningKey,
    method: SignatureMethod,
    digest: DigestAlgorithm = DigestAlgorithm.SHA256,
    c14n: CanonicalizationMethod = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
) -> bytes:
    signer = _AnySigner(signature_algorithm=method, digest_algorithm=digest, c14n_algorithm=c14n)
    return etree.tostring(signer.sign(petition(), key=key.private_key, cert=[key.certificate]))


def test_control_signxml_signature_with_contract_algorithms_verifies(
    national: SigningKey, trust: TrustStore
) -> None:
    """The hostile samples below differ from this one only in the algorithm."""
    assert verify_xml(_sign_with(national, SignatureMethod.RSA_SHA256), trust).algorithm == RSA_SHA256


EXC = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0


@pytest.mark.parametrize(
    ("method", "digest", "c14n", "reason"),
    [
        (SignatureMethod.RSA_SHA1, DigestAlgorithm.SHA1, EXC, "rsa-sha1 is not allowed"),
        (SignatureMethod.RSA_SHA1, DigestAlgorithm.SHA256, EXC, "rsa-sha1 is not allowed"),
        (SignatureMethod.RSA_SHA256, DigestAlgorithm.SHA1, EXC, "digest must be SHA-256"),
        (SignatureMethod.RSA_SHA512, DigestAlgorithm.SHA512, EXC, "rsa-sha512 is not allowed"),
        (
            SignatureMethod.RSA_SHA256,
            DigestAlgorithm.SHA256,
            CanonicalizationMethod.CANONICAL_XML_1_1,
            "exclusive C14N",
        ),
    ],
    ids=["rsa-sha1+sha1", "rsa-sha1", "sha1-digest", "rsa-sha512", "inclusive-c14n"],
)
def test_algorithms_outside_the_contract_are_refused(
    national: SigningKey,
    trust: TrustStore,
    method: SignatureMethod,
    digest: DigestAlgorithm,
    c14n: CanonicalizationMethod,
    reason: str,
) -> None:
    with pytest.raises(SignatureInvalid, match=reason):
        verify_xml(_sign_with(national, method, digest, c14n), trust)


# --- hostile XML -------------------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE PetitionMessage [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<PetitionMessage xmlns="urn:pakn:exchange:1"><Petition><Title>&xxe;</Title></Petition></PetitionMessage>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<PetitionMessage xmlns="urn:pakn:exchange:1"><Title>&lol3;</Title></PetitionMessage>"""


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["xxe", "entity-expansion"])
def test_dtd_and_entity_payloads_are_refused(trust: TrustStore, payload: bytes) -> None:
    with pytest.raises(SignatureInvalid, match="DTD"):
        verify_xml(payload, trust)


def test_dtd_in_front_of_a_valid_signature_is_refused(national: SigningKey, trust: TrustStore) -> None:
    data = signed_bytes(national)
    assert verify_xml(data, trust)  # control
    with pytest.raises(SignatureInvalid, match="DTD"):
        verify_xml(b"<!DOCTYPE PetitionMessage [<!ENTITY e 'x'>]>\n" + data, trust)


# --- keys ------------------------------------------------------------------------------------


def _write_pem(tmp_path: Path, key: SigningKey, password: bytes | None = None) -> tuple[Path, Path]:
    cert_path, key_path = tmp_path / "org.pem", tmp_path / "org.key"
    cert_path.write_bytes(key.certificate.public_bytes(serialization.Encoding.PEM))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    key_path.write_bytes(
        key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )
    return cert_path, key_path


def test_load_pkcs12_with_password(
    tmp_path: Path, ca: EphemeralCa, national: SigningKey, trust: TrustStore
) -> None:
    path = tmp_path / "national.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"national",
            national.private_key,
            national.certificate,
            [ca.certificate],
            serialization.BestAvailableEncryption(b"mat-khau-p12"),
        )
    )

    loaded = load_pkcs12(path, b"mat-khau-p12")

    assert loaded.certificate == national.certificate
    assert loaded.chain == (ca.certificate,)
    assert verify_xml(signed_bytes(loaded), trust).certificate == national.certificate
    with pytest.raises(KeyLoadError):
        load_pkcs12(path, b"wrong")
    with pytest.raises(KeyLoadError):
        load_pkcs12(path, None)


def test_mismatched_key_is_refused(
    tmp_path: Path, national: SigningKey, national_ec: SigningKey, ca: EphemeralCa
) -> None:
    other = ca.issue("000.00.00.G07", "Bộ Lao động - Thương binh và Xã hội")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cert_path, _ = _write_pem(tmp_path / "a", national)
    _, other_key_path = _write_pem(tmp_path / "b", other)

    with pytest.raises(KeyLoadError) as caught:
        load_pem_key(cert_path, other_key_path)
    assert caught.value.code == "KeyLoadError"
    with pytest.raises(KeyLoadError):
        SigningKey(private_key=national_ec.private_key, certificate=national.certificate)
