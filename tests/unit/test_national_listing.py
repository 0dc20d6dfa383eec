"""How the national client judges a ListPetitions page: only a page the portal signed, only what it signed."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

import schemas
import signing
from connectors.national.listing import query, verified_page
from connectors.national_sim.contract import NationalContract
from connectors.national_sim.generator import generate_petitions
from connectors.soap_signing import SOAP_ENV, ResponseRecord
from gateway.ports import NationalUnavailable
from signing.testing import EphemeralCa

pytestmark = pytest.mark.unit

NS = schemas.NAMESPACE
NATIONAL = "000.00.00.G22"
PETITION = f"{{{NS}}}Petition"
SIGNATURE = f"{{{schemas.DSIG_NAMESPACE}}}Signature"


@functools.cache
def _contract() -> NationalContract:
    return NationalContract()


@pytest.fixture(scope="module")
def ca() -> EphemeralCa:
    return EphemeralCa.create()


@pytest.fixture(scope="module")
def portal_key(ca: EphemeralCa) -> signing.SigningKey:
    return ca.issue(NATIONAL, "Văn phòng Chính phủ")


def page_element(count: int = 2, cursor: str | None = "2") -> etree._Element:
    petitions = generate_petitions(count, seed=21, prefix="LISTED", attachment_ratio=1.0)
    return _contract().petition_list(petitions, cursor)


def response(element: etree._Element, verdict: str) -> ResponseRecord:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(element)
    raw = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    return ResponseRecord(raw=raw, operation="ListPetitions", fault=False, verdict=verdict, signer=None)


def judged(record: ResponseRecord, trust: signing.TrustStore | None) -> Any:
    return verified_page(record, trust=trust, national_id=NATIONAL, message_id="m-1")


def test_a_signed_page_gives_each_signed_petition_on_its_own(
    ca: EphemeralCa, portal_key: signing.SigningKey
) -> None:
    element = page_element(3, cursor="3")
    ids = [p.findtext(f"{{{NS}}}PetitionId") for p in element.iterchildren(PETITION)]
    page = judged(response(signing.sign_xml(element, portal_key), "valid"), ca.trust_store())
    assert (page.next_cursor, page.message_id, len(page.petitions)) == ("3", "m-1", 3)
    parsed = [etree.fromstring(raw) for raw in page.petitions]
    assert [p.tag for p in parsed] == [PETITION] * 3
    assert [p.findtext(f"{{{NS}}}PetitionId") for p in parsed] == ids
    assert not any(p.find(f".//{SIGNATURE}") is not None for p in parsed)


def test_the_last_page_has_no_cursor(ca: EphemeralCa, portal_key: signing.SigningKey) -> None:
    page = judged(response(signing.sign_xml(page_element(1, None), portal_key), "valid"), ca.trust_store())
    assert page.next_cursor is None and len(page.petitions) == 1


def test_an_unsigned_page_is_refused_when_signatures_are_required(ca: EphemeralCa) -> None:
    with pytest.raises(NationalUnavailable) as refused:
        judged(response(page_element(), "absent"), ca.trust_store())
    assert refused.value.code == "Server.ListUnsigned"


def test_a_page_whose_signature_failed_is_refused(ca: EphemeralCa, portal_key: signing.SigningKey) -> None:
    signed = signing.sign_xml(page_element(), portal_key)
    with pytest.raises(NationalUnavailable) as refused:
        judged(response(signed, "invalid:SignatureInvalid"), ca.trust_store())
    assert refused.value.code == "Server.ListUnverified"


def test_content_changed_after_signing_is_never_used_even_if_called_valid(
    ca: EphemeralCa, portal_key: signing.SigningKey
) -> None:
    signed = signing.sign_xml(page_element(1, None), portal_key)
    extra = page_element(2, None)[1]
    signed.insert(1, extra)  # a petition slipped in beside what the portal signed
    with pytest.raises(NationalUnavailable) as refused:
        judged(response(signed, "valid"), ca.trust_store())  # the page is verified again, not believed
    assert refused.value.code == "Server.ListUnverified"


def test_a_page_signed_by_another_organisation_is_refused(ca: EphemeralCa) -> None:
    ministry = ca.issue("000.00.00.G07", "Bộ Lao động - Thương binh và Xã hội")
    with pytest.raises(NationalUnavailable) as refused:
        judged(response(signing.sign_xml(page_element(), ministry), "valid"), ca.trust_store())
    assert refused.value.code == "Server.ListSignerMismatch"


def test_without_a_trust_store_the_page_is_read_as_received(portal_key: signing.SigningKey) -> None:
    page = judged(response(signing.sign_xml(page_element(2), portal_key), "unchecked"), None)
    assert len(page.petitions) == 2 and b"Signature" not in b"".join(page.petitions)


def test_a_response_that_is_not_a_petition_list_is_refused(ca: EphemeralCa) -> None:
    receipt = etree.Element(f"{{{NS}}}Receipt")
    with pytest.raises(NationalUnavailable) as refused:
        judged(response(receipt, "absent"), ca.trust_store())
    assert refused.value.code == "Server.BadList"
    with pytest.raises(NationalUnavailable):
        verified_page(None, trust=ca.trust_store(), national_id=NATIONAL, message_id="m-1")


def test_the_query_carries_since_with_its_offset_and_leaves_out_what_is_absent() -> None:
    since = datetime(2026, 11, 1, 17, 0, 0, 123456, tzinfo=UTC)
    payload = query(organ_id="000.00.00.G07", since=since, cursor=None, limit=50)
    assert payload.keys() == {"OrganId", "Since", "Limit"}
    assert payload["Since"].isoformat() == "2026-11-02T00:00:00+07:00"
    assert query(organ_id="x", since=None, cursor="7", limit=1) == {"OrganId": "x", "Limit": 1, "Cursor": "7"}
    with pytest.raises(ValueError, match="offset"):
        query(organ_id="x", since=datetime(2026, 11, 1), cursor=None, limit=1)
