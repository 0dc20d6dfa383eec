"""Signature wrapping is refused: only what was signed ever reaches the caller (DESIGN §5)."""

from __future__ import annotations

import copy
import uuid

import pytest
from lxml import etree
from signxml.algorithms import CanonicalizationMethod
from signxml.signer import XMLSigner

from signing import SignatureInvalid, SigningKey, TrustStore, sign_xml, verify_xml
from signing.testing import EphemeralCa

pytestmark = pytest.mark.unit

PAKN = "urn:pakn:exchange:1"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"p": PAKN, "ds": DS}


@pytest.fixture(scope="module")
def ca() -> EphemeralCa:
    return EphemeralCa.create()


@pytest.fixture(scope="module")
def trust(ca: EphemeralCa) -> TrustStore:
    return ca.trust_store()


@pytest.fixture(scope="module")
def national(ca: EphemeralCa) -> SigningKey:
    return ca.issue("000.00.00.G22", "Văn phòng Chính phủ")


def petition(petition_id: str = "PAKN-2026-000123") -> etree._Element:
    return etree.fromstring(
        f"""<PetitionMessage xmlns="{PAKN}"><Header><MessageId>{uuid.uuid4()}</MessageId>"""
        """<From>000.00.00.G22</From><To>000.00.00.G07</To><SentAt>2026-11-28T10:00:00+07:00</SentAt>"""
        f"""</Header><Petition><PetitionId>{petition_id}</PetitionId>"""
        """<Title>Đề nghị giải quyết chế độ trợ cấp</Title></Petition></PetitionMessage>""".encode()
    )


def test_control_the_untouched_message_verifies(national: SigningKey, trust: TrustStore) -> None:
    """Each attack below starts from this message; it verifies before it is tampered with."""
    verified = verify_xml(etree.tostring(sign_xml(petition(), national)), trust)
    assert verified.element.findtext("p:Petition/p:PetitionId", namespaces=NS) == "PAKN-2026-000123"


def test_injected_second_petition_id_is_refused(national: SigningKey, trust: TrustStore) -> None:
    signed = sign_xml(petition("PAKN-2026-000123"), national)
    body = signed.find("p:Petition", NS)
    assert body is not None
    body.insert(1, etree.Element(f"{{{PAKN}}}PetitionId"))
    body[1].text = "PAKN-EVIL-1"

    with pytest.raises(SignatureInvalid, match="Digest mismatch"):
        verify_xml(etree.tostring(signed), trust)


def test_injected_element_after_the_signature_is_refused(national: SigningKey, trust: TrustStore) -> None:
    signed = sign_xml(petition(), national)
    etree.SubElement(signed, f"{{{PAKN}}}Petition").text = "unsigned"

    with pytest.raises(SignatureInvalid, match="last element"):
        verify_xml(etree.tostring(signed), trust)


def test_signature_moved_into_a_child_is_refused(national: SigningKey, trust: TrustStore) -> None:
    signed = sign_xml(petition(), national)
    signature = signed.find("ds:Signature", NS)
    header = signed.find("p:Header", NS)
    assert signature is not None and header is not None
    header.append(signature)

    with pytest.raises(SignatureInvalid, match="direct child"):
        verify_xml(etree.tostring(signed), trust)


def test_duplicated_signature_is_refused(national: SigningKey, trust: TrustStore) -> None:
    signed = sign_xml(petition(), national)
    signature = signed.find("ds:Signature", NS)
    assert signature is not None
    signed.append(copy.deepcopy(signature))

    with pytest.raises(SignatureInvalid, match="exactly one ds:Signature"):
        verify_xml(etree.tostring(signed), trust)


def test_signed_message_wrapped_beside_an_evil_one_is_refused(
    national: SigningKey, trust: TrustStore
) -> None:
    wrapper = etree.Element(f"{{{PAKN}}}PetitionMessage")
    wrapper.append(sign_xml(petition("PAKN-2026-000123"), national))
    wrapper.append(petition("PAKN-EVIL-1"))

    with pytest.raises(SignatureInvalid, match="direct child"):
        verify_xml(etree.tostring(wrapper), trust)


def test_signed_content_moved_into_the_signature_is_refused(national: SigningKey, trust: TrustStore) -> None:
    """Classic wrapping: an evil root reuses the Signature and hides the signed original in a ds:Object."""
    signed = sign_xml(petition("PAKN-2026-000123"), national)
    signature = signed.find("ds:Signature", NS)
    assert signature is not None
    evil = petition("PAKN-EVIL-1")
    hidden = etree.SubElement(signature, f"{{{DS}}}Object")
    signed.remove(signature)
    hidden.append(signed)
    evil.append(signature)

    with pytest.raises(SignatureInvalid, match="Digest mismatch"):
        verify_xml(etree.tostring(evil), trust)


def test_signature_as_the_root_is_refused(national: SigningKey, trust: TrustStore) -> None:
    signed = sign_xml(petition(), national)
    signature = signed.find("ds:Signature", NS)
    assert signature is not None
    signed.remove(signature)
    etree.SubElement(signature, f"{{{DS}}}Object").append(signed)

    with pytest.raises(SignatureInvalid, match="direct child"):
        verify_xml(etree.tostring(signature), trust)


def test_reference_to_an_id_instead_of_the_whole_message_is_refused(
    national: SigningKey, trust: TrustStore
) -> None:
    """signxml signs only the element with that Id; the contract requires URI=\"\"."""
    message = petition()
    body = message.find("p:Petition", NS)
    assert body is not None
    body.set("Id", "p1")
    signer = XMLSigner(c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    signed = signer.sign(message, key=national.private_key, cert=[national.certificate], reference_uri="#p1")
    header_from = signed.find("p:Header/p:From", NS)
    assert header_from is not None
    header_from.text = "000.00.00.EVIL"  # outside the signed part

    with pytest.raises(SignatureInvalid, match='URI=""'):
        verify_xml(etree.tostring(signed), trust)


def test_comment_inside_text_cannot_truncate_what_the_caller_reads(
    national: SigningKey, trust: TrustStore
) -> None:
    """A comment splits the text node but not the canonical form; the caller gets the whole signed text."""
    signed = sign_xml(petition("PAKN-2026-000123"), national)
    petition_id = signed.find("p:Petition/p:PetitionId", NS)
    assert petition_id is not None
    petition_id.text = "PAKN-"
    comment = etree.Comment("")
    comment.tail = "2026-000123"
    petition_id.append(comment)
    data = etree.tostring(signed)
    assert etree.fromstring(data).findtext("p:Petition/p:PetitionId", namespaces=NS) == "PAKN-"

    verified = verify_xml(data, trust)

    assert verified.element.findtext("p:Petition/p:PetitionId", namespaces=NS) == "PAKN-2026-000123"
