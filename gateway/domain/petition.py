"""What the national portal sends: petitions, their updates and citizens' feedback (DESIGN §2)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from gateway.domain.text import nfc, nfc_opt


class Kind(StrEnum):
    PHAN_ANH = "PHAN_ANH"  # phản ánh
    KIEN_NGHI = "KIEN_NGHI"  # kiến nghị
    HOI_DAP = "HOI_DAP"  # hỏi đáp chính sách
    CU_TRI = "CU_TRI"  # kiến nghị cử tri
    DBQH = "DBQH"  # kiến nghị đại biểu Quốc hội


class SenderType(StrEnum):
    CA_NHAN = "CA_NHAN"
    DOANH_NGHIEP = "DOANH_NGHIEP"
    TO_CHUC = "TO_CHUC"
    CU_TRI = "CU_TRI"
    DAI_BIEU = "DAI_BIEU"


class Channel(StrEnum):
    WEB = "WEB"
    APP = "APP"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    POST = "POST"
    DIRECT = "DIRECT"


class UpdateAction(StrEnum):
    SUPPLEMENT = "SUPPLEMENT"
    WITHDRAW = "WITHDRAW"


@dataclass(frozen=True)
class Header:
    message_id: str
    sender: str  # `From`: mã định danh of the sending organisation
    recipient: str  # `To`
    sent_at: datetime
    correlation_id: str | None = None


@dataclass(frozen=True)
class Address:
    line: str
    ward_code: str | None = None
    province_code: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "line", nfc(self.line))


@dataclass(frozen=True)
class Sender:
    type: SenderType
    full_name: str
    id_number: str | None = None
    tax_code: str | None = None
    organization_name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: Address | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "full_name", nfc(self.full_name))
        object.__setattr__(self, "organization_name", nfc_opt(self.organization_name))


@dataclass(frozen=True)
class Attachment:
    file_name: str
    content_type: str
    size: int
    sha256: str
    data: bytes = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "file_name", nfc(self.file_name))
        object.__setattr__(self, "sha256", self.sha256.lower())

    def integrity_problem(self) -> str | None:
        """Why the bytes do not match what was declared, or None when they do."""
        if len(self.data) != self.size:
            return f"{self.file_name}: Size={self.size} but {len(self.data)} bytes received"
        actual = hashlib.sha256(self.data).hexdigest()
        if actual != self.sha256:
            return f"{self.file_name}: Sha256 mismatch (declared {self.sha256}, actual {actual})"
        return None


@dataclass(frozen=True)
class Petition:
    petition_id: str
    kind: Kind
    sender: Sender
    title: str
    content: str
    channel: Channel
    received_at: datetime
    priority: int
    publish_consent: bool
    field_code: str | None = None
    procedure_code: str | None = None
    due_at: datetime | None = None
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", nfc(self.title))
        object.__setattr__(self, "content", nfc(self.content))

    def fingerprint(self) -> str:
        """A stable digest of the content, to tell a resend of the same petition from a different one."""
        doc = self.to_json_dict(include_data=False)
        doc["attachments"] = [(a.file_name, a.sha256, a.size) for a in self.attachments]
        raw = json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def to_json_dict(self, *, include_data: bool) -> dict[str, Any]:
        """What `dataclasses.asdict` gives, key for key and in the same order (the fingerprint and
        the stored petition are made from it), without its recursive deep copy: that was about a
        tenth of an intake's CPU, for three calls per petition (bench/store_paths.py)."""
        doc = _fields_of(self)
        sender = _fields_of(self.sender)
        if self.sender.address is not None:
            sender["address"] = _fields_of(self.sender.address)
        doc["sender"] = sender
        doc["received_at"] = self.received_at.isoformat()
        doc["due_at"] = self.due_at.isoformat() if self.due_at else None
        doc["attachments"] = attachments_json(self.attachments, include_data=include_data)
        return doc


@dataclass(frozen=True)
class PetitionUpdate:
    petition_id: str
    action: UpdateAction
    content: str
    at: datetime
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "content", nfc(self.content))


@dataclass(frozen=True)
class Feedback:
    petition_id: str
    answer_id: str
    rating: int
    at: datetime
    comment: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "comment", nfc_opt(self.comment))


def _fields_of(value: Petition | Sender | Address) -> dict[str, Any]:
    """The dataclass's fields as a dict, in their order, values as they are (one level)."""
    return {name: getattr(value, name) for name in _FIELD_NAMES[type(value)]}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(kind)) for kind in (Petition, Sender, Address)
}


def attachments_json(attachments: tuple[Attachment, ...], *, include_data: bool) -> list[dict[str, Any]]:
    return [
        {
            "file_name": a.file_name,
            "content_type": a.content_type,
            "size": a.size,
            "sha256": a.sha256,
            **({"data_base64": base64.b64encode(a.data).decode("ascii")} if include_data else {}),
        }
        for a in attachments
    ]
