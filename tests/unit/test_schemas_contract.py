"""The national contract (DESIGN.md §2): the XSD accepts what it must and refuses what it must,
and zeep, loading the WSDLs from the package, builds request bodies that the XSD accepts."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import zeep
from lxml import etree
from lxml.builder import ElementMaker

import schemas

pytestmark = pytest.mark.unit

NS = schemas.NAMESPACE
DS = schemas.DSIG_NAMESPACE
NSMAP = {"p": NS, "ds": DS}
E = ElementMaker(namespace=NS, nsmap={"p": NS})
DSE = ElementMaker(namespace=DS, nsmap={"ds": DS})

VN = timezone(timedelta(hours=7))
MOLISA = "000.00.00.G07"
GOV_OFFICE = "000.00.00.G22"

UUID = uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")
Sample = Callable[[], etree._Element]
Mutation = Callable[[etree._Element], None]

PDF_BYTES = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
JPG_BYTES = bytes(range(256)) * 4


# --------------------------------------------------------------------------- sample documents


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _header() -> etree._Element:
    return E.Header(
        E.MessageId(str(UUID)),
        E.From(GOV_OFFICE),
        E.To(MOLISA),
        E.SentAt("2025-03-04T09:15:27.125+07:00"),
        E.CorrelationId("7c9e6679-7425-40de-944b-e07fc1f90ae7"),
    )


def _attachment(name: str, content_type: str, data: bytes) -> etree._Element:
    return E.Attachment(
        E.FileName(name),
        E.ContentType(content_type),
        E.Size(str(len(data))),
        E.Sha256(_sha(data)),
        E.Data(_b64(data)),
    )


def _petition() -> etree._Element:
    return E.Petition(
        E.PetitionId("PAKN-2025-000123"),
        E.Kind("KIEN_NGHI"),
        E.Sender(
            E.Type("CA_NHAN"),
            E.FullName("Nguyễn Thị Hồng Nhung"),
            E.IdNumber("001190012345"),
            E.TaxCode("0101234567-001"),
            E.OrganizationName("Hộ kinh doanh Hồng Nhung"),
            E.Phone("+84 912 345 678"),
            E.Email("nhung.nguyen@example.vn"),
            E.Address(E.Line("Số 12 ngõ 34 phố Lê Thanh Nghị"), E.WardCode("00133"), E.ProvinceCode("01")),
        ),
        E.Title("Kiến nghị về việc chậm chi trả trợ cấp thất nghiệp"),
        E.Content(
            "Tôi đã nộp hồ sơ hưởng trợ cấp thất nghiệp từ tháng 12/2024 nhưng đến nay chưa được chi trả.\n"
            "Đề nghị Bộ xem xét, chỉ đạo Trung tâm Dịch vụ việc làm giải quyết theo đúng quy định."
        ),
        E.FieldCode("VIEC_LAM"),
        E.ProcedureCode("1.001978.000.00.00.H26"),
        E.Channel("WEB"),
        E.ReceivedAt("2025-03-04T08:02:11+07:00"),
        E.DueAt("2025-03-18T17:00:00+07:00"),
        E.Priority("2"),
        E.PublishConsent("true"),
        E.Attachments(
            _attachment("Quyết định hưởng trợ cấp.pdf", "application/pdf", PDF_BYTES),
            _attachment("ảnh chụp sổ BHXH.jpg", "image/jpeg", JPG_BYTES),
        ),
    )


def _status(seq: int = 1, code: str = "04") -> etree._Element:
    return E.Status(
        E.PetitionId("PAKN-2025-000123"),
        E.StatusCode(code),
        E.Description("Đã chuyển Cục Việc làm xử lý"),
        E.UnitCode("CVL"),
        E.ChangedAt("2025-03-05T10:00:00+07:00"),
        E.Seq(str(seq)),
    )


def petition_message() -> etree._Element:
    return E.PetitionMessage(_header(), _petition())


def petition_update_message() -> etree._Element:
    return E.PetitionUpdateMessage(
        _header(),
        E.PetitionUpdate(
            E.PetitionId("PAKN-2025-000123"),
            E.Action("SUPPLEMENT"),
            E.Content("Bổ sung bản sao quyết định chấm dứt hợp đồng lao động."),
            E.Attachments(_attachment("QĐ chấm dứt HĐLĐ.pdf", "application/pdf", PDF_BYTES)),
            E.At("2025-03-06T14:20:00+07:00"),
        ),
    )


def feedback_message() -> etree._Element:
    return E.FeedbackMessage(
        _header(),
        E.Feedback(
            E.PetitionId("PAKN-2025-000123"),
            E.AnswerId("TL-2025-0456"),
            E.Rating("4"),
            E.Comment("Trả lời rõ ràng, đúng hạn."),
            E.At("2025-03-20T19:45:00+07:00"),
        ),
    )


def status_query() -> etree._Element:
    return E.StatusQuery(_header(), E.PetitionId("PAKN-2025-000123"))


def answer_message() -> etree._Element:
    return E.AnswerMessage(
        _header(),
        E.Answer(
            E.PetitionId("PAKN-2025-000123"),
            E.AnswerId("TL-2025-0456"),
            E.UnitCode("CVL"),
            E.Content("Bộ Lao động - Thương binh và Xã hội trả lời như sau: …"),
            E.AnsweredAt("2025-03-15T16:30:00+07:00"),
            E.Signer(E.FullName("Lê Văn Thanh"), E.Position("Thứ trưởng")),
            E.Document(
                E.FileName("CV-trả-lời-123.pdf"),
                E.ContentType("application/pdf"),
                E.Sha256(_sha(PDF_BYTES)),
                E.Data(_b64(PDF_BYTES)),
            ),
            E.Publish("false"),
        ),
    )


def status_message() -> etree._Element:
    return E.StatusMessage(_header(), _status())


def transfer_message() -> etree._Element:
    return E.TransferMessage(
        _header(),
        E.Transfer(
            E.PetitionId("PAKN-2025-000123"),
            E.Reason("Nội dung thuộc thẩm quyền của Bộ Y tế (bảo hiểm y tế)."),
            E.SuggestedOrganId("000.00.00.G18"),
        ),
    )


def list_query() -> etree._Element:
    return E.ListQuery(
        _header(),
        E.OrganId(MOLISA),
        E.Since("2025-03-01T00:00:00Z"),
        E.Cursor("eyJvZmZzZXQiOjEwMH0="),
        E.Limit("100"),
    )


def receipt() -> etree._Element:
    return E.Receipt(
        E.MessageId(str(UUID)),
        E.ReceiptId("RC-2025-000001"),
        E.Accepted("false"),
        E.Duplicate("false"),
        E.ErrorCode("UNKNOWN_PETITION"),
        E.ErrorText("Không tìm thấy hồ sơ / unknown petition"),
    )


def status_report() -> etree._Element:
    return E.StatusReport(
        E.PetitionId("PAKN-2025-000123"),
        E.StatusCode("05"),
        E.History(_status(1, "01"), _status(2, "03"), _status(3, "04"), _status(4, "05")),
    )


def petition_list() -> etree._Element:
    return E.PetitionList(_petition(), _petition(), E.NextCursor("eyJvZmZzZXQiOjIwMH0="))


ALL_SAMPLES: dict[str, Sample] = {
    "PetitionMessage": petition_message,
    "PetitionUpdateMessage": petition_update_message,
    "FeedbackMessage": feedback_message,
    "StatusQuery": status_query,
    "AnswerMessage": answer_message,
    "StatusMessage": status_message,
    "TransferMessage": transfer_message,
    "ListQuery": list_query,
    "Receipt": receipt,
    "StatusReport": status_report,
    "PetitionList": petition_list,
}


def _signature() -> etree._Element:
    """The shape of an enveloped signature; its content is the signer's business, not the schema's."""
    return DSE.Signature(
        DSE.SignedInfo(
            DSE.CanonicalizationMethod(Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"),
            DSE.SignatureMethod(Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
            DSE.Reference(
                DSE.Transforms(
                    DSE.Transform(Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature")
                ),
                DSE.DigestMethod(Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"),
                DSE.DigestValue("bm90IGEgcmVhbCBkaWdlc3Q="),
                URI="",
            ),
        ),
        DSE.SignatureValue("bm90IGEgcmVhbCBzaWduYXR1cmU="),
        DSE.KeyInfo(DSE.X509Data(DSE.X509Certificate("TUlJQw=="))),
    )


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schemas.xsd_path())))


def _errors(xsd: etree.XMLSchema, element: etree._Element) -> list[str]:
    """Validate `element` as a detached document, as the server does with a Body child."""
    doc = etree.fromstring(etree.tostring(element))
    if xsd.validate(doc):
        return []
    return [f"{e.line}: {e.message}" for e in xsd.error_log]


def _one(doc: etree._Element, path: str) -> etree._Element:
    found = doc.xpath(path, namespaces=NSMAP)
    assert isinstance(found, list)
    assert len(found) == 1, path
    node = found[0]
    assert isinstance(node, etree._Element)
    return node


def _setting(path: str, value: str) -> Mutation:
    def mutate(doc: etree._Element) -> None:
        _one(doc, path).text = value

    return mutate


def _removing(path: str) -> Mutation:
    def mutate(doc: etree._Element) -> None:
        node = _one(doc, path)
        parent = node.getparent()
        assert parent is not None
        parent.remove(node)

    return mutate


def _emptying(path: str, keep: int = 0) -> Mutation:
    """Remove the children of `path` after the first `keep`."""

    def mutate(doc: etree._Element) -> None:
        node = _one(doc, path)
        for child in list(node)[keep:]:
            node.remove(child)

    return mutate


def _renamespacing(new_ns: str) -> Mutation:
    def mutate(doc: etree._Element) -> None:
        for el in doc.iter():
            el.tag = f"{{{new_ns}}}{etree.QName(el).localname}"

    return mutate


def _appending(*makers: Sample) -> Mutation:
    def mutate(doc: etree._Element) -> None:
        doc.extend([make() for make in makers])

    return mutate


def _inserting(index: int, make: Sample) -> Mutation:
    def mutate(doc: etree._Element) -> None:
        doc.insert(index, make())

    return mutate


# --------------------------------------------------------------------------- the XSD itself


def test_xsd_declares_exactly_the_contract_elements(xsd: etree.XMLSchema) -> None:
    tree = etree.parse(str(schemas.xsd_path()))
    root = tree.getroot()
    assert root.get("targetNamespace") == NS
    assert root.get("elementFormDefault") == "qualified"
    declared = {el.get("name") for el in root.findall("{http://www.w3.org/2001/XMLSchema}element")}
    assert declared == set(ALL_SAMPLES)


@pytest.mark.parametrize("name", list(ALL_SAMPLES))
def test_realistic_sample_is_valid(xsd: etree.XMLSchema, name: str) -> None:
    assert _errors(xsd, ALL_SAMPLES[name]()) == []


@pytest.mark.parametrize("name", list(ALL_SAMPLES))
def test_sample_with_enveloped_signature_at_the_end_is_valid(xsd: etree.XMLSchema, name: str) -> None:
    doc = ALL_SAMPLES[name]()
    doc.append(_signature())
    assert _errors(xsd, doc) == []


def test_petition_message_carries_two_attachments_and_every_optional_field(xsd: etree.XMLSchema) -> None:
    doc = petition_message()
    assert len(doc.xpath("p:Petition/p:Attachments/p:Attachment", namespaces=NSMAP)) == 2
    for optional in (
        "p:Header/p:CorrelationId",
        "p:Petition/p:DueAt",
        "p:Petition/p:Sender/p:Address/p:WardCode",
    ):
        _one(doc, optional)
    assert "Nguyễn Thị Hồng Nhung" in etree.tostring(doc, encoding="unicode")


HDR, PET, SND = "p:Header/p:", "p:Petition/p:", "p:Petition/p:Sender/p:"
ATT = "p:Petition/p:Attachments/p:Attachment[1]/p:"

REFUSED = [
    pytest.param(petition_message, _renamespacing("urn:pakn:exchange:2"), id="wrong namespace"),
    pytest.param(petition_message, _setting(PET + "PetitionId", "X" * 41), id="PetitionId of 41 chars"),
    pytest.param(petition_message, _setting(PET + "PetitionId", "   "), id="PetitionId whitespace only"),
    pytest.param(petition_message, _setting(PET + "PetitionId", ""), id="PetitionId empty"),
    pytest.param(petition_message, _setting(PET + "PetitionId", " PAKN-1"), id="PetitionId leading space"),
    pytest.param(petition_message, _setting(PET + "PetitionId", "PAKN\n1"), id="PetitionId line break"),
    pytest.param(petition_message, _setting(PET + "Priority", "5"), id="Priority 5"),
    pytest.param(petition_message, _setting(PET + "Priority", "-1"), id="Priority -1"),
    pytest.param(petition_message, _setting(PET + "Kind", "KHIEU_NAI"), id="unknown Kind"),
    pytest.param(petition_message, _setting(PET + "Kind", "kien_nghi"), id="lower-case Kind"),
    pytest.param(petition_message, _setting(SND + "Type", "CONG_DAN"), id="unknown Sender Type"),
    pytest.param(petition_message, _setting(PET + "Channel", "FAX"), id="unknown Channel"),
    pytest.param(
        petition_message, _setting(HDR + "SentAt", "2025-03-04T09:15:27"), id="SentAt without offset"
    ),
    pytest.param(
        petition_message, _setting(PET + "ReceivedAt", "2025-03-04T08:02:11"), id="ReceivedAt naive"
    ),
    pytest.param(petition_message, _setting(PET + "DueAt", "2025-03-18+07:00"), id="DueAt a date only"),
    pytest.param(petition_message, _setting(HDR + "MessageId", UUID.hex), id="MessageId without dashes"),
    pytest.param(petition_message, _setting(HDR + "From", "G07"), id="From not a ma dinh danh"),
    pytest.param(petition_message, _setting(HDR + "To", "000.00.00.g07"), id="To with lower-case letter"),
    pytest.param(petition_message, _setting(SND + "IdNumber", "00119001234"), id="IdNumber of 11 digits"),
    pytest.param(petition_message, _setting(SND + "IdNumber", "0011900123456"), id="IdNumber of 13 digits"),
    pytest.param(petition_message, _setting(SND + "IdNumber", "٠٠١١٩٠٠١٢٣٤٥"), id="IdNumber Arabic-Indic"),
    pytest.param(petition_message, _setting(SND + "TaxCode", "01012345670"), id="TaxCode of 11 digits"),
    pytest.param(petition_message, _setting(ATT + "Sha256", "g" * 64), id="Sha256 not hex"),
    pytest.param(petition_message, _setting(ATT + "Sha256", "a" * 63), id="Sha256 of 63 chars"),
    pytest.param(petition_message, _setting(ATT + "Size", "-1"), id="negative Size"),
    pytest.param(petition_message, _setting(ATT + "Data", "QUJ"), id="Data of bad length"),
    pytest.param(petition_message, _setting(ATT + "Data", "QU=D"), id="Data with misplaced padding"),
    pytest.param(petition_message, _setting(ATT + "FileName", "a" * 256), id="FileName of 256 chars"),
    pytest.param(petition_message, _removing(PET + "Title"), id="missing Title"),
    pytest.param(petition_message, _removing("p:Header"), id="missing Header"),
    pytest.param(petition_message, _removing(PET + "PublishConsent"), id="missing PublishConsent"),
    pytest.param(petition_message, _setting(PET + "Title", "Đ" * 501), id="Title of 501 chars"),
    pytest.param(petition_message, _setting(PET + "Content", "ư" * 100_001), id="Content over 100000"),
    pytest.param(petition_message, _appending(lambda: etree.Element("{urn:x}Extra")), id="foreign element"),
    pytest.param(petition_message, _appending(_signature, _signature), id="two signatures"),
    pytest.param(petition_message, _inserting(1, _signature), id="signature before the payload"),
    pytest.param(
        petition_update_message, _setting("p:PetitionUpdate/p:Action", "CANCEL"), id="unknown Action"
    ),
    pytest.param(feedback_message, _setting("p:Feedback/p:Rating", "6"), id="Rating 6"),
    pytest.param(feedback_message, _setting("p:Feedback/p:Rating", "0"), id="Rating 0"),
    pytest.param(status_message, _setting("p:Status/p:StatusCode", "09"), id="unknown StatusCode"),
    pytest.param(status_message, _setting("p:Status/p:StatusCode", "4"), id="StatusCode without 0"),
    pytest.param(status_message, _setting("p:Status/p:Seq", "0"), id="Seq 0"),
    pytest.param(status_report, _setting("p:StatusCode", "00"), id="unknown StatusCode in a report"),
    pytest.param(
        answer_message, _setting("p:Answer/p:Document/p:ContentType", "text/plain"), id="letter not PDF"
    ),
    pytest.param(answer_message, _removing("p:Answer/p:Signer"), id="answer without Signer"),
    pytest.param(
        transfer_message, _setting("p:Transfer/p:SuggestedOrganId", "Bộ Y tế"), id="bad SuggestedOrganId"
    ),
    pytest.param(list_query, _setting("p:Limit", "0"), id="Limit 0"),
    pytest.param(receipt, _removing("p:Duplicate"), id="Receipt without Duplicate"),
    pytest.param(status_query, _removing("p:PetitionId"), id="StatusQuery without PetitionId"),
]


@pytest.mark.parametrize(("make", "mutate"), REFUSED)
def test_invalid_variant_is_refused(xsd: etree.XMLSchema, make: Sample, mutate: Mutation) -> None:
    doc = make()
    assert _errors(xsd, doc) == [], "the unmutated sample must be valid, or this test proves nothing"
    mutate(doc)
    assert _errors(xsd, doc) != []


# --------------------------------------------------------------------------- the WSDLs, through zeep

# DESIGN.md §2, written out here so that neither the WSDLs nor `schemas.*_OPERATIONS` can drift from it.
DESIGN_OPERATIONS = {
    "MinistryExchange": {
        "SubmitPetition": ("PetitionMessage", "Receipt"),
        "SubmitPetitionUpdate": ("PetitionUpdateMessage", "Receipt"),
        "SubmitFeedback": ("FeedbackMessage", "Receipt"),
        "GetPetitionStatus": ("StatusQuery", "StatusReport"),
    },
    "NationalExchange": {
        "ReceiveAnswer": ("AnswerMessage", "Receipt"),
        "ReceiveStatus": ("StatusMessage", "Receipt"),
        "RequestTransfer": ("TransferMessage", "Receipt"),
        "ListPetitions": ("ListQuery", "PetitionList"),
    },
}
SERVICES = {
    "MinistryExchange": (
        schemas.ministry_wsdl_path,
        schemas.MINISTRY_OPERATIONS,
        "http://localhost:8080/soap/pakn",
    ),
    "NationalExchange": (
        schemas.national_wsdl_path,
        schemas.NATIONAL_OPERATIONS,
        "http://localhost:8090/soap/national",
    ),
}


@pytest.fixture(scope="module")
def clients() -> dict[str, zeep.Client]:
    settings = zeep.Settings(strict=True)
    return {name: zeep.Client(str(path()), settings=settings) for name, (path, _, _) in SERVICES.items()}


@pytest.mark.parametrize("service", list(SERVICES))
def test_python_operation_table_matches_the_design(service: str) -> None:
    _, operations, _ = SERVICES[service]
    assert {op.name: (op.request, op.response) for op in operations} == DESIGN_OPERATIONS[service]


@pytest.mark.parametrize("service", list(SERVICES))
def test_wsdl_has_exactly_the_contract_operations(clients: dict[str, zeep.Client], service: str) -> None:
    _, _, address = SERVICES[service]
    wsdl = clients[service].wsdl
    assert list(wsdl.services) == [service]
    ports = wsdl.services[service].ports
    assert list(ports) == [f"{service}Port"]
    port = ports[f"{service}Port"]
    assert port.binding_options["address"] == address
    binding = port.binding
    assert binding.name.localname == f"{service}Binding"
    assert binding.port_type.name.localname == f"{service}PortType"
    found = {
        name: (zop.input.body.qname, zop.output.body.qname, zop.soapaction, zop.style)
        for name, zop in binding.all().items()
    }
    assert found == {
        name: (etree.QName(NS, request), etree.QName(NS, response), f"urn:pakn:exchange:1#{name}", "document")
        for name, (request, response) in DESIGN_OPERATIONS[service].items()
    }


@pytest.mark.parametrize("path", [schemas.ministry_wsdl_path, schemas.national_wsdl_path])
def test_wsdl_imports_the_xsd_by_the_exact_relative_location(path: Callable[[], Any]) -> None:
    # The server rewrites this attribute to an absolute URL by plain substitution.
    text = path().read_text(encoding="utf-8")
    assert text.count('schemaLocation="pakn-exchange-1.xsd"') == 1
    assert '<xsd:import namespace="urn:pakn:exchange:1" schemaLocation="pakn-exchange-1.xsd"/>' in text


def _zeep_header() -> dict[str, Any]:
    return {
        "MessageId": str(uuid.uuid4()),
        "From": GOV_OFFICE,
        "To": MOLISA,
        "SentAt": datetime(2025, 3, 4, 9, 15, 27, tzinfo=VN),
        "CorrelationId": str(uuid.uuid4()),
    }


def _zeep_attachment(name: str, content_type: str, data: bytes) -> dict[str, Any]:
    return {
        "FileName": name,
        "ContentType": content_type,
        "Size": len(data),
        "Sha256": _sha(data),
        "Data": data,
    }


def _zeep_petition() -> dict[str, Any]:
    return {
        "PetitionId": "PAKN-2025-000777",
        "Kind": "HOI_DAP",
        "Sender": {
            "Type": "DOANH_NGHIEP",
            "FullName": "Trần Quốc Bảo",
            "TaxCode": "0312345678",
            "OrganizationName": "Công ty TNHH Dệt may Sài Gòn",
            "Email": "bao.tran@detmay.vn",
            "Address": {"Line": "45 Nguyễn Huệ, phường Bến Nghé", "ProvinceCode": "79"},
        },
        "Title": "Hỏi về mức đóng bảo hiểm xã hội bắt buộc năm 2025",
        "Content": "Doanh nghiệp chúng tôi xin hỏi mức lương làm căn cứ đóng BHXH tối thiểu…",
        "FieldCode": "BAO_HIEM_XA_HOI",
        "Channel": "APP",
        "ReceivedAt": datetime(2025, 3, 4, 8, 0, tzinfo=VN),
        "DueAt": datetime(2025, 3, 20, 17, 0, tzinfo=VN),
        "Priority": 0,
        "PublishConsent": False,
        "Attachments": {
            "Attachment": [
                _zeep_attachment("bảng lương.pdf", "application/pdf", PDF_BYTES),
                _zeep_attachment("hợp đồng.jpg", "image/jpeg", JPG_BYTES),
            ]
        },
    }


def _zeep_status(seq: int, code: str) -> dict[str, Any]:
    return {
        "PetitionId": "PAKN-2025-000777",
        "StatusCode": code,
        "Description": "Đang xử lý tại Vụ Bảo hiểm xã hội",
        "UnitCode": "VBHXH",
        "ChangedAt": datetime(2025, 3, 5, 9, 0, tzinfo=VN),
        "Seq": seq,
    }


ZEEP_PAYLOADS: dict[str, Callable[[], dict[str, Any]]] = {
    "SubmitPetition": lambda: {"Petition": _zeep_petition()},
    "SubmitPetitionUpdate": lambda: {
        "PetitionUpdate": {
            "PetitionId": "PAKN-2025-000777",
            "Action": "WITHDRAW",
            "Content": "Tôi xin rút lại câu hỏi vì đã được giải đáp.",
            "At": datetime(2025, 3, 6, 10, 0, tzinfo=VN),
        }
    },
    "SubmitFeedback": lambda: {
        "Feedback": {
            "PetitionId": "PAKN-2025-000777",
            "AnswerId": "TL-1",
            "Rating": 5,
            "At": datetime.now(UTC),
        }
    },
    "GetPetitionStatus": lambda: {"PetitionId": "PAKN-2025-000777"},
    "ReceiveAnswer": lambda: {
        "Answer": {
            "PetitionId": "PAKN-2025-000777",
            "AnswerId": "TL-2025-0001",
            "UnitCode": "VBHXH",
            "Content": "Vụ Bảo hiểm xã hội trả lời: mức lương tối thiểu vùng làm căn cứ đóng BHXH…",
            "AnsweredAt": datetime(2025, 3, 15, 16, 30, tzinfo=VN),
            "Signer": {"FullName": "Phạm Thị Lan", "Position": "Vụ trưởng Vụ Bảo hiểm xã hội"},
            "Document": {
                "FileName": "công văn trả lời.pdf",
                "ContentType": "application/pdf",
                "Sha256": _sha(PDF_BYTES),
                "Data": PDF_BYTES,
            },
            "Publish": True,
        }
    },
    "ReceiveStatus": lambda: {"Status": _zeep_status(3, "05")},
    "RequestTransfer": lambda: {
        "Transfer": {
            "PetitionId": "PAKN-2025-000777",
            "Reason": "Thuộc thẩm quyền Bộ Nội vụ sau sắp xếp năm 2025.",
            "SuggestedOrganId": "000.00.00.G09",
        }
    },
    "ListPetitions": lambda: {
        "OrganId": MOLISA,
        "Since": datetime(2025, 3, 1, tzinfo=UTC),
        "Cursor": "page-2",
        "Limit": 50,
    },
}

ALL_OPERATIONS = [(service, op) for service, (_, ops, _) in SERVICES.items() for op in ops]


def _body_child(envelope: etree._Element) -> etree._Element:
    body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert body is not None
    assert len(body) == 1, "the SOAP Body holds exactly one request element"
    return body[0]


@pytest.mark.parametrize(("service", "op"), ALL_OPERATIONS, ids=[op.name for _, op in ALL_OPERATIONS])
def test_zeep_builds_a_request_the_xsd_accepts(
    clients: dict[str, zeep.Client], xsd: etree.XMLSchema, service: str, op: schemas.Operation
) -> None:
    client = clients[service]
    envelope = client.create_message(
        client.service, op.name, Header=_zeep_header(), **ZEEP_PAYLOADS[op.name]()
    )
    request = _body_child(envelope)
    assert etree.QName(request) == etree.QName(NS, op.request)
    assert _errors(xsd, request) == []
    signed = etree.fromstring(etree.tostring(request))
    signed.append(_signature())  # what the signer does after zeep built the element
    assert _errors(xsd, signed) == []
