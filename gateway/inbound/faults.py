"""SOAP faults the gateway returns: a stable `faultcode` and a Vietnamese-and-English `faultstring`.

SoapFault is the one exception the SOAP edge turns into a response; every other error is mapped
to one of these codes before it reaches the peer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaultText:
    vi: str
    en: str


CATALOGUE: dict[str, FaultText] = {
    "Client.TooLarge": FaultText("Thông điệp vượt quá kích thước cho phép", "Message exceeds the size limit"),
    "Client.MalformedXml": FaultText("Thông điệp không phải XML hợp lệ", "Message is not well-formed XML"),
    "Client.ForbiddenDtd": FaultText(
        "Không chấp nhận DTD, thực thể hoặc tham chiếu ngoài",
        "DTDs, entities and external references are refused",
    ),
    "Client.TooDeep": FaultText("Cấu trúc XML lồng quá sâu", "XML nesting is too deep"),
    "Client.NotSoap": FaultText("Không phải phong bì SOAP 1.1 hợp lệ", "Not a valid SOAP 1.1 envelope"),
    "Client.WrongNamespace": FaultText(
        "Phần tử yêu cầu không thuộc không gian tên urn:pakn:exchange:1",
        "Request element is not in namespace urn:pakn:exchange:1",
    ),
    "Client.UnknownOperation": FaultText("Thao tác không được hỗ trợ", "Operation is not supported"),
    "Client.SchemaInvalid": FaultText("Thông điệp không đúng lược đồ XSD", "Message violates the XML schema"),
    "Client.SignatureMissing": FaultText("Thông điệp chưa được ký số", "Message carries no signature"),
    "Client.SignatureInvalid": FaultText("Chữ ký số không hợp lệ", "Signature is invalid"),
    "Client.CertificateUntrusted": FaultText(
        "Chứng thư số không được tin cậy", "Signing certificate is not trusted"
    ),
    "Client.CertificateExpired": FaultText(
        "Chứng thư số đã hết hạn hoặc chưa có hiệu lực", "Signing certificate is expired or not yet valid"
    ),
    "Client.SenderMismatch": FaultText(
        "Đơn vị gửi không khớp với chứng thư số hoặc không được phép",
        "Sender does not match the signing certificate or is not allowed",
    ),
    "Client.WrongRecipient": FaultText(
        "Thông điệp không gửi cho Bộ này", "Message is not addressed to this ministry"
    ),
    "Client.AttachmentMismatch": FaultText(
        "Tệp đính kèm không khớp kích thước hoặc mã băm khai báo",
        "Attachment does not match its declared Size or Sha256",
    ),
    "Client.PetitionExists": FaultText(
        "Mã phản ánh kiến nghị đã tồn tại với nội dung khác; hãy gửi SubmitPetitionUpdate",
        "PetitionId already exists with different content; send SubmitPetitionUpdate",
    ),
    "Client.UnknownPetition": FaultText("Không tìm thấy phản ánh kiến nghị", "Petition not found"),
    "Client.UnknownAnswer": FaultText("Không tìm thấy văn bản trả lời", "Answer not found"),
    "Client.InvalidTransition": FaultText(
        "Thao tác không phù hợp với trạng thái hiện tại của hồ sơ",
        "Action does not fit the case's current status",
    ),
    "Client.InvalidPetition": FaultText(
        "Nội dung phản ánh kiến nghị không hợp lệ", "Petition content is invalid"
    ),
    "Server.StoreUnavailable": FaultText(
        "Không lưu được thông điệp, vui lòng gửi lại sau", "Message could not be stored; retry later"
    ),
    "Server.Conflict": FaultText(
        "Xung đột ghi đồng thời, vui lòng gửi lại", "Concurrent write conflict; retry"
    ),
    "Server.Internal": FaultText("Lỗi hệ thống của cổng kết nối", "Gateway internal error"),
}


class SoapFault(Exception):
    """A refusal the peer can act on. `detail` is English, specific, and safe to show the peer."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        if code not in CATALOGUE:
            raise KeyError(f"fault code {code!r} is not in the catalogue")
        self.code = code
        self.detail = detail
        super().__init__(self.faultstring)

    @property
    def faultstring(self) -> str:
        text = CATALOGUE[self.code]
        base = f"{text.vi} / {text.en}"
        return f"{base}: {self.detail}" if self.detail else base

    @property
    def is_client(self) -> bool:
        return self.code.startswith("Client.")
