"""Generated petitions are what the national portal would send: valid against the XSD once zeep has
built them into a SubmitPetition request, varied across every Kind, sender Type and field, coherent,
NFC, and reproducible from a seed."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from lxml import etree

import schemas
from connectors.national_sim.generator import (
    CHANNELS,
    DEFAULT_FIELDS,
    KINDS,
    SENDER_TYPES,
    generate_petitions,
)
from connectors.national_sim.ministry_client import message_header
from connectors.national_sim.vn_time import VN_TZ
from connectors.soap_signing import build_client

pytestmark = pytest.mark.integration

NS = schemas.NAMESPACE
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=VN_TZ)
ID = re.compile(r"SIM-2026-[0-9A-Z]{10}")


@pytest.fixture(scope="module")
def petitions() -> list[dict[str, Any]]:
    return generate_petitions(200, seed=2026, now=NOW)


@pytest.fixture(scope="module")
def xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schemas.xsd_path())))


@pytest.fixture(scope="module")
def ministry_wsdl() -> Any:
    return build_client(str(schemas.ministry_wsdl_path()))


def request_element(client: Any, petition: dict[str, Any]) -> etree._Element:
    """The PetitionMessage zeep puts in the Body, detached as the gateway validates it."""
    header = message_header("000.00.00.G22", "000.00.00.G07", message_id=str(uuid.uuid4()))
    envelope = client.create_message(client.service, "SubmitPetition", Header=header, Petition=petition)
    [element] = envelope.find(f"{{{SOAP}}}Body")
    return etree.fromstring(etree.tostring(element))


def test_every_generated_petition_is_valid_against_the_xsd_as_zeep_sends_it(
    petitions: list[dict[str, Any]], xsd: etree.XMLSchema, ministry_wsdl: Any
) -> None:
    invalid = {}
    for petition in petitions:
        element = request_element(ministry_wsdl, petition)
        if not xsd.validate(element):
            invalid[petition["PetitionId"]] = str(xsd.error_log)
    assert invalid == {}


def test_a_batch_covers_every_kind_sender_type_field_and_an_unclassified_petition(
    petitions: list[dict[str, Any]],
) -> None:
    assert set(Counter(p["Kind"] for p in petitions)) == set(KINDS)
    assert set(Counter(p["Sender"]["Type"] for p in petitions)) == set(SENDER_TYPES)
    fields = Counter(p.get("FieldCode") for p in petitions)
    assert set(fields) == {*DEFAULT_FIELDS, None}
    assert {p["Channel"] for p in petitions} <= set(CHANNELS)
    assert len({p["Channel"] for p in petitions}) >= 4


@pytest.mark.parametrize("count", [10, 11, 17])
def test_coverage_does_not_depend_on_the_seed(count: int) -> None:
    for seed in range(5):
        batch = generate_petitions(count, seed=seed, now=NOW)
        assert {p["Kind"] for p in batch} == set(KINDS)
        assert {p["Sender"]["Type"] for p in batch} == set(SENDER_TYPES)
        assert {p.get("FieldCode") for p in batch} >= set(DEFAULT_FIELDS)


def test_petition_ids_are_unique_short_and_prefixed(petitions: list[dict[str, Any]]) -> None:
    ids = [p["PetitionId"] for p in petitions]
    assert len(set(ids)) == len(ids)
    assert all(ID.fullmatch(i) and len(i) <= 40 for i in ids)
    assert generate_petitions(1, prefix="LOAD7", now=NOW)[0]["PetitionId"].startswith("LOAD7-2026-")


def test_senders_carry_the_fields_their_category_has(petitions: list[dict[str, Any]]) -> None:
    for petition in petitions:
        sender, kind = petition["Sender"], petition["Kind"]
        category = sender["Type"]
        if category == "CA_NHAN":
            assert re.fullmatch(r"[0-9]{12}", sender["IdNumber"])
            assert "TaxCode" not in sender and "OrganizationName" not in sender
            assert len(sender["FullName"].split()) >= 3  # họ, tên đệm, tên
        elif category == "DOANH_NGHIEP":
            assert re.fullmatch(r"[0-9]{10}(-[0-9]{3})?", sender["TaxCode"])
            assert sender["OrganizationName"].startswith(("Công ty", "Doanh nghiệp"))
            assert "IdNumber" not in sender
        elif category == "TO_CHUC":
            assert sender["OrganizationName"] and "IdNumber" not in sender
        elif category == "CU_TRI":
            assert sender["FullName"].startswith("Cử tri ")
            assert kind == "CU_TRI"
        elif category == "DAI_BIEU":
            assert sender["OrganizationName"].startswith("Đoàn đại biểu Quốc hội")
            assert sender["Email"].endswith("@quochoi.vn")
            assert kind == "DBQH"
        if kind == "CU_TRI":
            assert category == "CU_TRI"
        if kind == "DBQH":
            assert category == "DAI_BIEU"
        address = sender.get("Address")
        if address and "WardCode" in address:
            assert re.fullmatch(r"[0-9]{5}", address["WardCode"])
            assert re.fullmatch(r"[0-9]{2}", address["ProvinceCode"])


def test_texts_are_vietnamese_nfc_and_fit_the_kind(petitions: list[dict[str, Any]]) -> None:
    def strings(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [s for item in value.values() for s in strings(item)]
        if isinstance(value, list):
            return [s for item in value for s in strings(item)]
        return []

    for petition in petitions:
        for text in strings(petition):
            assert unicodedata.is_normalized("NFC", text), text
        assert any(ord(ch) > 127 for ch in petition["Sender"]["FullName"] + petition["Title"])
    titles = Counter(p["Title"].split(" ", 1)[0] for p in petitions if p["Kind"] == "HOI_DAP")
    assert set(titles) == {"Hỏi"}
    assert all(p["Content"].rstrip().endswith(".") for p in petitions)


def test_times_priority_and_consent_are_plausible(petitions: list[dict[str, Any]]) -> None:
    for petition in petitions:
        received = petition["ReceivedAt"]
        assert received.utcoffset() == timedelta(hours=7)
        assert NOW - timedelta(days=14) <= received < NOW
        if "DueAt" in petition:
            assert petition["DueAt"] > received
        assert 0 <= petition["Priority"] <= 4
        assert isinstance(petition["PublishConsent"], bool)
    assert {p["PublishConsent"] for p in petitions} == {True, False}


def test_attachments_are_consistent_with_their_bytes(petitions: list[dict[str, Any]]) -> None:
    with_files = [p for p in petitions if "Attachments" in p]
    assert 0.15 * len(petitions) <= len(with_files) <= 0.35 * len(petitions)
    kinds = set()
    for petition in with_files:
        files = petition["Attachments"]["Attachment"]
        assert 1 <= len(files) <= 2
        for item in files:
            data = item["Data"]
            assert item["Size"] == len(data)
            assert item["Sha256"] == hashlib.sha256(data).hexdigest()  # lowercase hex
            magic = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff"}[item["ContentType"]]
            assert data.startswith(magic)
            kinds.add(item["ContentType"])
    assert kinds == {"application/pdf", "image/jpeg"}
    assert not any("Attachments" in p for p in generate_petitions(30, seed=1, attachment_ratio=0.0, now=NOW))
    assert all("Attachments" in p for p in generate_petitions(30, seed=1, attachment_ratio=1.0, now=NOW))


def test_the_same_seed_gives_the_same_petitions_and_another_seed_others() -> None:
    assert generate_petitions(50, seed=7, now=NOW) == generate_petitions(50, seed=7, now=NOW)
    assert generate_petitions(20, seed=7) == generate_petitions(20, seed=7)  # `now` defaults to today
    first = [p["PetitionId"] for p in generate_petitions(50, seed=7, now=NOW)]
    other = [p["PetitionId"] for p in generate_petitions(50, seed=8, now=NOW)]
    assert not set(first) & set(other)


def test_custom_field_codes_are_used(xsd: etree.XMLSchema, ministry_wsdl: Any) -> None:
    batch = generate_petitions(12, seed=3, field_codes=["Y_TE", "NOI_VU"], now=NOW)
    assert {p.get("FieldCode") for p in batch} <= {"Y_TE", "NOI_VU", None}
    assert {"Y_TE", "NOI_VU"} <= {p.get("FieldCode") for p in batch}
    assert all(xsd.validate(request_element(ministry_wsdl, p)) for p in batch)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_small_batches_work(count: int) -> None:
    assert len(generate_petitions(count, seed=1, now=NOW)) == count


@pytest.mark.parametrize(
    "kwargs",
    [
        {"count": -1},
        {"count": 1, "attachment_ratio": 1.5},
        {"count": 1, "prefix": "SIM 2026"},
        {"count": 1, "prefix": "X" * 21},
        {"count": 1, "field_codes": []},
        {"count": 1, "field_codes": ["lĩnh vực"]},
        {"count": 1, "now": datetime(2026, 1, 1)},
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        generate_petitions(**kwargs)
