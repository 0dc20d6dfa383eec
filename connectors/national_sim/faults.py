"""The simulator's SOAP 1.1 faults: stable `faultcode`s and Vietnamese-and-English `faultstring`s.

The codes are the contract's (DESIGN §2), the same the gateway uses, written out here again because
the simulator plays the other side of the wire and shares no code with the gateway.
`Client.*` faults are permanent (the same message will be refused again), `Server.*` ones transient.
Some codes are only ever sent by a failure mode (`failure_modes.SimFaults`): `Server.Unavailable`,
`Client.UnknownPetition` (the simulator keeps no petition register to check against).
"""

from __future__ import annotations

from lxml import etree

import schemas

__all__ = ["CATALOGUE", "SOAP_ENV", "SimFault", "fault_envelope"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

CATALOGUE: dict[str, tuple[str, str]] = {
    "Client.TooLarge": ("Thông điệp vượt quá kích thước cho phép", "Message exceeds the size limit"),
    "Client.MalformedXml": ("Thông điệp không phải XML hợp lệ", "Message is not well-formed XML"),
    "Client.ForbiddenDtd": (
        "Không chấp nhận DTD, thực thể hoặc tham chiếu ngoài",
        "DTDs, entities and external references are refused",
    ),
    "Client.TooDeep": ("Cấu trúc XML lồng quá sâu", "XML nesting is too deep"),
    "Client.NotSoap": ("Không phải phong bì SOAP 1.1 hợp lệ", "Not a valid SOAP 1.1 envelope"),
    "Client.WrongNamespace": (
        "Phần tử yêu cầu không thuộc không gian tên urn:pakn:exchange:1",
        "Request element is not in namespace urn:pakn:exchange:1",
    ),
    "Client.UnknownOperation": ("Thao tác không được hỗ trợ", "Operation is not supported"),
    "Client.SchemaInvalid": ("Thông điệp không đúng lược đồ XSD", "Message violates the XML schema"),
    "Client.SignatureMissing": ("Thông điệp chưa được ký số", "Message carries no signature"),
    "Client.SignatureInvalid": ("Chữ ký số không hợp lệ", "Signature is invalid"),
    "Client.CertificateUntrusted": ("Chứng thư số không được tin cậy", "Signing certificate is not trusted"),
    "Client.CertificateExpired": (
        "Chứng thư số đã hết hạn hoặc chưa có hiệu lực",
        "Signing certificate is expired or not yet valid",
    ),
    "Client.SenderMismatch": (
        "Đơn vị gửi không khớp với chứng thư số hoặc không được phép",
        "Sender does not match the signing certificate or is not allowed",
    ),
    "Client.WrongRecipient": (
        "Thông điệp không gửi cho Hệ thống thông tin phản ánh, kiến nghị quốc gia",
        "Message is not addressed to the national portal",
    ),
    "Client.DocumentMismatch": (
        "Văn bản trả lời không khớp mã băm khai báo",
        "Answer document does not match its declared Sha256",
    ),
    "Client.InvalidCursor": ("Con trỏ phân trang không hợp lệ", "Paging cursor is invalid"),
    "Client.UnknownPetition": (
        "Không tìm thấy phản ánh kiến nghị trên Cổng quốc gia",
        "Petition not found on the national portal",
    ),
    "Server.Unavailable": (
        "Cổng quốc gia tạm thời không phục vụ được, vui lòng gửi lại sau",
        "National portal temporarily unavailable; retry later",
    ),
    "Server.Internal": (
        "Lỗi hệ thống của Cổng quốc gia (mô phỏng)",
        "National portal (simulator) internal error",
    ),
}


class SimFault(Exception):
    """A refusal the sender can act on; `detail` is English, specific and safe to show the peer."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        if code not in CATALOGUE:
            raise KeyError(f"fault code {code!r} is not in the catalogue")
        self.code = code
        self.detail = detail
        super().__init__(self.faultstring)

    @property
    def faultstring(self) -> str:
        vi, en = CATALOGUE[self.code]
        text = f"{vi} / {en}"
        return f"{text}: {self.detail}" if self.detail else text


def fault_envelope(fault: SimFault) -> bytes:
    """`soap:Client.X` as faultcode (a QName in the envelope's namespace), the code again in `detail`."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    element = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(element, "faultcode").text = f"soap:{fault.code}"
    etree.SubElement(element, "faultstring").text = fault.faultstring
    detail = etree.SubElement(element, "detail")
    code = etree.SubElement(detail, f"{{{schemas.NAMESPACE}}}ErrorCode", nsmap={"p": schemas.NAMESPACE})
    code.text = fault.code
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
