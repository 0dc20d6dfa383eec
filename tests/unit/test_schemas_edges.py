"""Edges of the contract: boundary values the XSD must accept, limits of libxml2 it must survive,
conventions of the XSD file, and how zeep maps the contract to Python (what peers' code relies on)."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest
import zeep
from lxml import etree

import schemas
from tests.unit.test_schemas_contract import (
    ATT,
    DS,
    HDR,
    JPG_BYTES,
    MOLISA,
    NS,
    NSMAP,
    PDF_BYTES,
    PET,
    SND,
    UUID,
    VN,
    ZEEP_PAYLOADS,
    Mutation,
    Sample,
    _body_child,
    _emptying,
    _errors,
    _one,
    _removing,
    _setting,
    _sha,
    _signature,
    _zeep_header,
    feedback_message,
    list_query,
    petition_list,
    petition_message,
    petition_update_message,
    receipt,
    status_message,
    status_report,
    transfer_message,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schemas.xsd_path())))


@pytest.fixture(scope="module")
def ministry() -> zeep.Client:
    return zeep.Client(str(schemas.ministry_wsdl_path()), settings=zeep.Settings(strict=True))


@pytest.fixture(scope="module")
def national() -> zeep.Client:
    return zeep.Client(str(schemas.national_wsdl_path()), settings=zeep.Settings(strict=True))


# --------------------------------------------------------------------------- the XSD file


def test_every_named_type_ends_in_Type_and_is_documented() -> None:
    xs = "{http://www.w3.org/2001/XMLSchema}"
    root = etree.parse(str(schemas.xsd_path())).getroot()
    types = root.findall(f"{xs}complexType") + root.findall(f"{xs}simpleType")
    assert len(types) > 30
    for t in types:
        name = t.get("name")
        assert name and name.endswith("Type"), name
        docs = t.findall(f"{xs}annotation/{xs}documentation")
        assert len(docs) == 1 and docs[0].text and "\n" not in docs[0].text.strip(), name


# --------------------------------------------------------------------------- boundaries

ACCEPTED = [
    pytest.param(petition_message, _setting(PET + "PetitionId", "X" * 40), id="PetitionId of 40 chars"),
    pytest.param(petition_message, _setting(PET + "PetitionId", "HS 2025 001"), id="PetitionId inner space"),
    pytest.param(petition_message, _setting(HDR + "From", MOLISA), id="From the ministry G07"),
    pytest.param(petition_message, _setting(HDR + "SentAt", "2025-03-04T02:15:27Z"), id="SentAt in UTC"),
    pytest.param(petition_message, _setting(HDR + "SentAt", "2025-03-04T02:15:27.5Z"), id="SentAt fraction"),
    pytest.param(
        petition_message, _setting(HDR + "SentAt", "2025-03-04T02:15:27-05:00"), id="negative offset"
    ),
    pytest.param(petition_message, _setting(HDR + "MessageId", str(UUID).upper()), id="MessageId upper case"),
    pytest.param(petition_message, _setting(PET + "Priority", "0"), id="Priority 0"),
    pytest.param(petition_message, _setting(PET + "Priority", "4"), id="Priority 4"),
    pytest.param(petition_message, _setting(SND + "TaxCode", "0101234567"), id="TaxCode 10 digits"),
    pytest.param(petition_message, _setting(SND + "TaxCode", "0101234567001"), id="TaxCode 13 digits"),
    pytest.param(petition_message, _setting(ATT + "Sha256", _sha(PDF_BYTES).upper()), id="Sha256 upper case"),
    pytest.param(petition_message, _removing(HDR + "CorrelationId"), id="no CorrelationId"),
    pytest.param(petition_message, _removing(PET + "Attachments"), id="no Attachments"),
    pytest.param(petition_message, _emptying(PET + "Attachments"), id="empty Attachments"),
    pytest.param(
        petition_message, _emptying(PET + "Sender", keep=2), id="Sender with Type and FullName only"
    ),
    pytest.param(petition_update_message, _setting("p:PetitionUpdate/p:Action", "WITHDRAW"), id="WITHDRAW"),
    pytest.param(feedback_message, _setting("p:Feedback/p:Rating", "1"), id="Rating 1"),
    pytest.param(feedback_message, _removing("p:Feedback/p:Comment"), id="no Comment"),
    pytest.param(status_message, _setting("p:Status/p:StatusCode", "08"), id="StatusCode 08"),
    pytest.param(status_report, _emptying("p:History"), id="empty History"),
    pytest.param(list_query, _emptying(".", keep=2), id="ListQuery with OrganId only"),
    pytest.param(petition_list, _emptying("."), id="empty PetitionList"),
    pytest.param(transfer_message, _removing("p:Transfer/p:SuggestedOrganId"), id="no SuggestedOrganId"),
]


@pytest.mark.parametrize(("make", "mutate"), ACCEPTED)
def test_boundary_variant_is_accepted(xsd: etree.XMLSchema, make: Sample, mutate: Mutation) -> None:
    doc = make()
    mutate(doc)
    assert _errors(xsd, doc) == []


# --------------------------------------------------------------------------- libxml2


def test_libxml2_base64_check_is_lenient_so_receivers_must_decode_strictly(xsd: etree.XMLSchema) -> None:
    # Tripwire for the note in the XSD header: if libxml2 ever becomes strict, drop the note.
    doc = petition_message()
    _one(doc, "p:Petition/p:Attachments/p:Attachment[1]/p:Data").text = "@@@@"
    assert _errors(xsd, doc) == []


HUGE = 20_000_000  # characters; non-deterministic patterns made libxml2 fail with an internal error here


@pytest.mark.parametrize(
    "path",
    [
        "p:Petition/p:PetitionId",
        "p:Header/p:SentAt",
        "p:Petition/p:Sender/p:Phone",
        "p:Petition/p:Sender/p:Email",
        "p:Petition/p:Attachments/p:Attachment[1]/p:ContentType",
        "p:Petition/p:FieldCode",
    ],
)
def test_a_huge_value_is_reported_as_invalid_not_as_an_internal_error(
    xsd: etree.XMLSchema, path: str
) -> None:
    doc = petition_message()
    _one(doc, path).text = "1" * HUGE
    huge = etree.fromstring(etree.tostring(doc), etree.XMLParser(huge_tree=True))
    assert xsd.validate(huge) is False  # lxml raises XMLSchemaValidateError on an internal error


# --------------------------------------------------------------------------- zeep


def test_zeep_takes_attachments_as_a_list_under_the_wrapper_and_bytes_as_data(ministry: zeep.Client) -> None:
    payload = ZEEP_PAYLOADS["SubmitPetition"]()
    assert isinstance(payload["Petition"]["Attachments"]["Attachment"], list)
    envelope = ministry.create_message(ministry.service, "SubmitPetition", Header=_zeep_header(), **payload)
    data = _body_child(envelope).xpath(
        "p:Petition/p:Attachments/p:Attachment/p:Data/text()", namespaces=NSMAP
    )
    assert isinstance(data, list)
    assert [base64.b64decode(str(d)) for d in data] == [PDF_BYTES, JPG_BYTES]


def test_zeep_does_not_check_facets_so_a_naive_datetime_only_fails_at_the_xsd(
    ministry: zeep.Client, xsd: etree.XMLSchema
) -> None:
    header = _zeep_header() | {"SentAt": datetime(2025, 3, 4, 9, 15, 27)}  # no tzinfo
    envelope = ministry.create_message(ministry.service, "GetPetitionStatus", Header=header, PetitionId="P-1")
    request = _body_child(envelope)
    assert _one(request, "p:Header/p:SentAt").text == "2025-03-04T09:15:27"
    assert _errors(xsd, request) != []


def test_zeep_names_the_signature_wildcard_value_1_and_takes_an_lxml_element(
    ministry: zeep.Client, xsd: etree.XMLSchema
) -> None:
    signature = _signature()
    envelope = ministry.create_message(
        ministry.service, "GetPetitionStatus", Header=_zeep_header(), PetitionId="P-1", _value_1=signature
    )
    request = _body_child(envelope)
    assert etree.QName(request[-1]) == etree.QName(DS, "Signature")
    assert _errors(xsd, request) == []


def test_zeep_parses_a_signed_receipt_with_the_signature_in_value_1(national: zeep.Client) -> None:
    signed_receipt = receipt()
    signed_receipt.append(_signature())
    parsed = national.get_element(f"{{{NS}}}Receipt").parse(signed_receipt, national.wsdl.types)
    assert parsed.ReceiptId == "RC-2025-000001"
    assert parsed.Accepted is False
    assert parsed.ErrorCode == "UNKNOWN_PETITION"
    assert etree.QName(parsed._value_1) == etree.QName(DS, "Signature")


def test_zeep_parses_a_petition_list_page(national: zeep.Client) -> None:
    parsed = national.get_element(f"{{{NS}}}PetitionList").parse(petition_list(), national.wsdl.types)
    assert len(parsed.Petition) == 2
    first = parsed.Petition[0]
    assert first.Sender.FullName == "Nguyễn Thị Hồng Nhung"
    assert first.ReceivedAt == datetime(2025, 3, 4, 8, 2, 11, tzinfo=VN)
    assert first.Priority == 2 and first.PublishConsent is True
    assert [a.Data for a in first.Attachments.Attachment] == [PDF_BYTES, JPG_BYTES]
    assert parsed.NextCursor == "eyJvZmZzZXQiOjIwMH0="
    assert parsed._value_1 is None
