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

PDF_BYTES = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
JPG_BYTES = bytes(range(256)) * 4


# --------------------------------------------------------------------------- sample documents


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _header() -> etree._Element:
    return E.Header(
        E.MessageId("0f8fad5b-d9cb-469f-a165-70867728950e"),
        E.From(GOV_OFFICE),
        E.To(MOLISA),
        E.SentAt("2025-03-04T09:15:27.125+07:00"),
        E.CorrelationId("7c9e6679-7425-40de-944b-e07fc1f90ae7"),
    )


def _attachment(name: str, content_type: str, data: bytes) -> etree._Element:
    return E.Attachment(
        E.FileName(name), E.ContentType(content_type), E.Size(str(len(data))), E.Sha256(_sha(data)),
        E.Data(_b64(data)),
    )  # fmt: skip


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
                E.FileName("CV-trả-lời-123.pdf"), E.ContentType("application/pdf"), E.Sha256(_sha(PDF_BYTES)),
                E.Data(_b64(PDF_BYTES)),
            ),  # fmt: skip
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
        _header(), E.OrganId(MOLISA), E.Since("2025-03-01T00:00:00Z"), E.Cursor("eyJvZmZzZXQiOjEwMH0="),
        E.Limit("100"),
    )  # fmt: skip


def receipt() -> etree._Element:
    return E.Receipt(
        E.MessageId("0f8fad5b-d9cb-469f-a165-70867728950e"),
        E.ReceiptId("RC-2025-000001"),
        E.Accepted("false"),
        E.Duplicate("false"),
        E.ErrorCode("UNKNOWN_PETITION"),
        E.ErrorText("Không tìm thấy hồ sơ / unknown petition"),
    )


def status_report() -> etree._Element:
    return E.StatusReport(
        E.PetitionId("PAKN-2025-000123"), E.StatusCode("05"),
        E.History(_status(1, "01"), _status(2, "03"), _status(3, "04"), _status(4, "05")),
    )  # fmt: skip


def petition_list() -> etree._Element:
    return E.PetitionList(_petition(), _petition(), E.NextCursor("eyJvZmZzZXQiOjIwMH0="))


ALL_SAMPLES: dict[str, Callable[[], etree._Element]] = {
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
                DSE.Transforms(DSE.Transform(Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature")),
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


def _setting(path: str, value: str) -> Callable[[etree._Element], None]:
    def mutate(doc: etree._Element) -> None:
        _one(doc, path).text = value

    return mutate


def _removing(path: str) -> Callable[[etree._Element], None]:
    def mutate(doc: etree._Element) -> None:
        node = _one(doc, path)
        parent = node.getparent()
        assert parent is not None
        parent.remove(node)

    return mutate


def _renamespacing(new_ns: str) -> Callable[[etree._Element], None]:
    def mutate(doc: etree._Element) -> None:
        for el in doc.iter():
            el.tag = f"{{{new_ns}}}{etree.QName(el).localname}"

    return mutate


def _appending(make: Callable[[], etree._Element], path: str = ".") -> Callable[[etree._Element], None]:
    def mutate(doc: etree._Element) -> None:
        _one(doc, path).append(make())

    return mutate


# --------------------------------------------------------------------------- the XSD itself


def test_xsd_declares_exactly_the_contract_elements(xsd: etree.XMLSchema) -> None:
    tree = etree.parse(str(schemas.xsd_path()))
    root = tree.getroot()
    assert root.get("targetNamespace") == NS
    assert root.get("elementFormDefault") == "qualified"
    declared = {el.get("name") for el in root.findall("{http://www.w3.org/2001/XMLSchema}element")}
    assert declared == set(ALL_SAMPLES)


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
    for optional in ("p:Header/p:CorrelationId", "p:Petition/p:DueAt", "p:Petition/p:Sender/p:Address/p:WardCode"):
        _one(doc, optional)
    assert "Nguyễn Thị Hồng Nhung" in etree.tostring(doc, encoding="unicode")


ACCEPTED_VARIANTS: list[tuple[str, Callable[[], etree._Element], Callable[[etree._Element], None]]] = [
    ("PetitionId of 40 chars", petition_message, _setting("p:Petition/p:PetitionId", "X" * 40)),
    ("From the ministry G07", petition_message, _setting("p:Header/p:From", MOLISA)),
    ("SentAt in UTC (Z)", petition_message, _setting("p:Header/p:SentAt", "2025-03-04T02:15:27Z")),
    ("SentAt negative offset", petition_message, _setting("p:Header/p:SentAt", "2025-03-04T02:15:27-05:00")),
    ("MessageId upper case", petition_message, _setting("p:Header/p:MessageId", "0F8FAD5B-D9CB-469F-A165-70867728950E")),
    ("Priority 0", petition_message, _setting("p:Petition/p:Priority", "0")),
    ("Priority 4", petition_message, _setting("p:Petition/p:Priority", "4")),
    ("TaxCode 10 digits", petition_message, _setting("p:Petition/p:Sender/p:TaxCode", "0101234567")),
    ("TaxCode 13 digits", petition_message, _setting("p:Petition/p:Sender/p:TaxCode", "0101234567001")),
    ("Sha256 upper case", petition_message, _setting("p:Petition/p:Attachments/p:Attachment[1]/p:Sha256", _sha(PDF_BYTES).upper())),
    ("no CorrelationId", petition_message, _removing("p:Header/p:CorrelationId")),
    ("no Attachments", petition_message, _removing("p:Petition/p:Attachments")),
    ("empty Attachments", petition_message, lambda d: [a.getparent().remove(a) for a in d.xpath("//p:Attachment", namespaces=NSMAP)]),  # type: ignore[union-attr]
    ("minimal Sender", petition_message, lambda d: [s.remove(c) for s in d.xpath("//p:Sender", namespaces=NSMAP) for c in list(s)[2:]]),  # type: ignore[union-attr]
    ("WITHDRAW", petition_update_message, _setting("p:PetitionUpdate/p:Action", "WITHDRAW")),
    ("Rating 1", feedback_message, _setting("p:Feedback/p:Rating", "1")),
    ("no Comment", feedback_message, _removing("p:Feedback/p:Comment")),
    ("StatusCode 08", status_message, _setting("p:Status/p:StatusCode", "08")),
    ("empty History", status_report, lambda d: [h.remove(s) for h in d.xpath("p:History", namespaces=NSMAP) for s in list(h)]),  # type: ignore[union-attr]
    ("ListQuery with OrganId only", list_query, lambda d: [d.remove(c) for c in list(d)[2:]]),
    ("empty PetitionList", petition_list, lambda d: [d.remove(c) for c in list(d)]),
    ("Transfer without suggestion", transfer_message, _removing("p:Transfer/p:SuggestedOrganId")),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "mutate"), ACCEPTED_VARIANTS, ids=[c[0] for c in ACCEPTED_VARIANTS])
def test_boundary_variant_is_accepted(
    xsd: etree.XMLSchema, case: str, make: Callable[[], etree._Element], mutate: Callable[[etree._Element], None]
) -> None:
    doc = make()
    mutate(doc)
    assert _errors(xsd, doc) == []


REFUSED_VARIANTS: list[tuple[str, Callable[[], etree._Element], Callable[[etree._Element], None]]] = [
    ("wrong namespace", petition_message, _renamespacing("urn:pakn:exchange:2")),
    ("PetitionId of 41 chars", petition_message, _setting("p:Petition/p:PetitionId", "X" * 41)),
    ("PetitionId whitespace only", petition_message, _setting("p:Petition/p:PetitionId", "   ")),
    ("PetitionId empty", petition_message, _setting("p:Petition/p:PetitionId", "")),
    ("Priority 5", petition_message, _setting("p:Petition/p:Priority", "5")),
    ("Priority -1", petition_message, _setting("p:Petition/p:Priority", "-1")),
    ("unknown Kind", petition_message, _setting("p:Petition/p:Kind", "KHIEU_NAI")),
    ("lower-case Kind", petition_message, _setting("p:Petition/p:Kind", "kien_nghi")),
    ("unknown Sender Type", petition_message, _setting("p:Petition/p:Sender/p:Type", "CONG_DAN")),
    ("unknown Channel", petition_message, _setting("p:Petition/p:Channel", "FAX")),
    ("SentAt without offset", petition_message, _setting("p:Header/p:SentAt", "2025-03-04T09:15:27")),
    ("ReceivedAt without offset", petition_message, _setting("p:Petition/p:ReceivedAt", "2025-03-04T08:02:11")),
    ("SentAt a date only", petition_message, _setting("p:Header/p:SentAt", "2025-03-04+07:00")),
    ("MessageId not a UUID", petition_message, _setting("p:Header/p:MessageId", "0f8fad5bd9cb469fa16570867728950e")),
    ("From not a mã định danh", petition_message, _setting("p:Header/p:From", "G07")),
    ("To with lower-case letter", petition_message, _setting("p:Header/p:To", "000.00.00.g07")),
    ("IdNumber of 11 digits", petition_message, _setting("p:Petition/p:Sender/p:IdNumber", "00119001234")),
    ("IdNumber of 13 digits", petition_message, _setting("p:Petition/p:Sender/p:IdNumber", "0011900123456")),
    ("IdNumber with Arabic-Indic digits", petition_message, _setting("p:Petition/p:Sender/p:IdNumber", "٠٠١١٩٠٠١٢٣٤٥")),
    ("TaxCode of 11 digits", petition_message, _setting("p:Petition/p:Sender/p:TaxCode", "01012345670")),
    ("bad Sha256 (non-hex)", petition_message, _setting("p:Petition/p:Attachments/p:Attachment[1]/p:Sha256", "g" * 64)),
    ("bad Sha256 (63 chars)", petition_message, _setting("p:Petition/p:Attachments/p:Attachment[1]/p:Sha256", "a" * 63)),
    ("negative Size", petition_message, _setting("p:Petition/p:Attachments/p:Attachment[1]/p:Size", "-1")),
    ("Data not base64", petition_message, _setting("p:Petition/p:Attachments/p:Attachment[1]/p:Data", "@@@")),
    ("FileName of 256 chars", petition_message, _setting("p:Petition/p:Attachments/p:Attachment[1]/p:FileName", "a" * 256)),
    ("missing Title", petition_message, _removing("p:Petition/p:Title")),
    ("missing Header", petition_message, _removing("p:Header")),
    ("missing PublishConsent", petition_message, _removing("p:Petition/p:PublishConsent")),
    ("Title of 501 chars", petition_message, _setting("p:Petition/p:Title", "Đ" * 501)),
    ("Content over 100000 chars", petition_message, _setting("p:Petition/p:Content", "ư" * 100_001)),
    ("foreign element at the end", petition_message, _appending(lambda: etree.Element("{urn:other}Extra"))),
    ("two signatures", petition_message, lambda d: d.extend([_signature(), _signature()])),
    ("signature before the payload", petition_message, lambda d: d.insert(1, _signature())),
    ("unknown Action", petition_update_message, _setting("p:PetitionUpdate/p:Action", "CANCEL")),
    ("Rating 6", feedback_message, _setting("p:Feedback/p:Rating", "6")),
    ("Rating 0", feedback_message, _setting("p:Feedback/p:Rating", "0")),
    ("unknown StatusCode", status_message, _setting("p:Status/p:StatusCode", "09")),
    ("StatusCode without leading zero", status_message, _setting("p:Status/p:StatusCode", "4")),
    ("Seq 0", status_message, _setting("p:Status/p:Seq", "0")),
    ("unknown StatusCode in a report", status_report, _setting("p:StatusCode", "00")),
    ("answer letter not a PDF", answer_message, _setting("p:Answer/p:Document/p:ContentType", "application/msword")),
    ("answer without Signer", answer_message, _removing("p:Answer/p:Signer")),
    ("SuggestedOrganId malformed", transfer_message, _setting("p:Transfer/p:SuggestedOrganId", "Bộ Y tế")),
    ("Limit 0", list_query, _setting("p:Limit", "0")),
    ("Receipt without Duplicate", receipt, _removing("p:Duplicate")),
    ("StatusQuery without PetitionId", status_query, _removing("p:PetitionId")),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "mutate"), REFUSED_VARIANTS, ids=[c[0] for c in REFUSED_VARIANTS])
def test_invalid_variant_is_refused(
    xsd: etree.XMLSchema, case: str, make: Callable[[], etree._Element], mutate: Callable[[etree._Element], None]
) -> None:
    doc = make()
    assert _errors(xsd, doc) == [], "the unmutated sample must be valid, or this test proves nothing"
    mutate(doc)
    assert _errors(xsd, doc) != []


# --------------------------------------------------------------------------- the WSDLs, through zeep

SERVICES = {
    "MinistryExchange": (schemas.ministry_wsdl_path, schemas.MINISTRY_OPERATIONS, "http://localhost:8080/soap/pakn"),
    "NationalExchange": (schemas.national_wsdl_path, schemas.NATIONAL_OPERATIONS, "http://localhost:8090/soap/national"),
}  # fmt: skip


@pytest.fixture(scope="module")
def clients() -> dict[str, zeep.Client]:
    settings = zeep.Settings(strict=True)
    return {name: zeep.Client(str(path()), settings=settings) for name, (path, _, _) in SERVICES.items()}


@pytest.mark.parametrize("service", list(SERVICES))
def test_wsdl_has_exactly_the_contract_operations(clients: dict[str, zeep.Client], service: str) -> None:
    _, operations, address = SERVICES[service]
    wsdl = clients[service].wsdl
    assert list(wsdl.services) == [service]
    ports = wsdl.services[service].ports
    assert list(ports) == [f"{service}Port"]
    port = ports[f"{service}Port"]
    assert port.binding_options["address"] == address
    binding = port.binding
    assert binding.name.localname == f"{service}Binding"
    assert binding.port_type.name.localname == f"{service}PortType"
    found = binding.all()
    assert sorted(found) == sorted(op.name for op in operations)
    for op in operations:
        zop = found[op.name]
        assert zop.soapaction == op.soap_action == f"urn:pakn:exchange:1#{op.name}"
        assert zop.style == "document"
        assert zop.input.body.qname == etree.QName(NS, op.request)
        assert zop.output.body.qname == etree.QName(NS, op.response)


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
    return {"FileName": name, "ContentType": content_type, "Size": len(data), "Sha256": _sha(data), "Data": data}


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
        "Feedback": {"PetitionId": "PAKN-2025-000777", "AnswerId": "TL-1", "Rating": 5, "At": datetime.now(UTC)}
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
    envelope = client.create_message(client.service, op.name, Header=_zeep_header(), **ZEEP_PAYLOADS[op.name]())
    request = _body_child(envelope)
    assert etree.QName(request) == etree.QName(NS, op.request)
    assert _errors(xsd, request) == []
    signed = etree.fromstring(etree.tostring(request))
    signed.append(_signature())  # what the signer does after zeep built the element
    assert _errors(xsd, signed) == []


def test_zeep_sends_two_attachments_inline_as_base64(clients: dict[str, zeep.Client]) -> None:
    client = clients["MinistryExchange"]
    envelope = client.create_message(client.service, "SubmitPetition", Header=_zeep_header(), **ZEEP_PAYLOADS["SubmitPetition"]())
    data = _body_child(envelope).xpath("p:Petition/p:Attachments/p:Attachment/p:Data/text()", namespaces=NSMAP)
    assert isinstance(data, list)
    assert [base64.b64decode(str(d)) for d in data] == [PDF_BYTES, JPG_BYTES]


def test_zeep_does_not_check_facets_so_a_naive_datetime_only_fails_at_the_xsd(
    clients: dict[str, zeep.Client], xsd: etree.XMLSchema
) -> None:
    client = clients["MinistryExchange"]
    header = _zeep_header() | {"SentAt": datetime(2025, 3, 4, 9, 15, 27)}  # no tzinfo
    envelope = client.create_message(client.service, "GetPetitionStatus", Header=header, PetitionId="P-1")
    request = _body_child(envelope)
    assert _one(request, "p:Header/p:SentAt").text == "2025-03-04T09:15:27"
    assert _errors(xsd, request) != []


def test_zeep_exposes_the_signature_wildcard_as_value_1(clients: dict[str, zeep.Client]) -> None:
    client = clients["NationalExchange"]
    element = client.get_element(f"{{{NS}}}Receipt")
    signed_receipt = receipt()
    signed_receipt.append(_signature())
    parsed = element.parse(etree.fromstring(etree.tostring(signed_receipt)), client.wsdl.types)
    assert parsed.ReceiptId == "RC-2025-000001"
    assert parsed.Accepted is False
    assert parsed.ErrorCode == "UNKNOWN_PETITION"
    assert etree.QName(parsed._value_1) == etree.QName(DS, "Signature")


def test_zeep_parses_a_petition_list_page(clients: dict[str, zeep.Client]) -> None:
    client = clients["NationalExchange"]
    parsed = client.get_element(f"{{{NS}}}PetitionList").parse(petition_list(), client.wsdl.types)
    assert len(parsed.Petition) == 2
    first = parsed.Petition[0]
    assert first.Sender.FullName == "Nguyễn Thị Hồng Nhung"
    assert first.ReceivedAt == datetime(2025, 3, 4, 8, 2, 11, tzinfo=VN)
    assert [a.Data for a in first.Attachments.Attachment] == [PDF_BYTES, JPG_BYTES]
    assert parsed.NextCursor == "eyJvZmZzZXQiOjIwMH0="
