"""Decode the national contract's request elements into domain objects, encode the responses.

Only called on elements that passed the XSD and the signature check, so structure is known.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from lxml import etree

from gateway.domain.case import Case
from gateway.domain.exchange import Receipt
from gateway.domain.petition import (
    Address,
    Attachment,
    Channel,
    Feedback,
    Header,
    Kind,
    Petition,
    PetitionUpdate,
    Sender,
    SenderType,
    UpdateAction,
)
from gateway.inbound.faults import SoapFault
from gateway.inbound.soap_envelope import PAKN_NS, q

NS = {"p": PAKN_NS}


def _child(el: etree._Element, name: str) -> etree._Element | None:
    return el.find(q(name))


def _text(el: etree._Element, name: str) -> str:
    child = _child(el, name)
    if child is None:
        raise SoapFault("Client.SchemaInvalid", f"missing {name}")
    return child.text or ""


def _opt(el: etree._Element, name: str) -> str | None:
    child = _child(el, name)
    return None if child is None else (child.text or "")


def _when(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise SoapFault("Client.SchemaInvalid", f"bad dateTime {value!r}") from exc
    if parsed.tzinfo is None:
        raise SoapFault("Client.SchemaInvalid", f"dateTime {value!r} has no offset")
    return parsed


def _bool(value: str) -> bool:
    return value.strip() in ("true", "1")


def header(el: etree._Element) -> Header:
    h = _child(el, "Header")
    if h is None:
        raise SoapFault("Client.SchemaInvalid", "missing Header")
    return Header(
        message_id=_text(h, "MessageId").strip().lower(),
        sender=_text(h, "From").strip(),
        recipient=_text(h, "To").strip(),
        sent_at=_when(_text(h, "SentAt")),
        correlation_id=_opt(h, "CorrelationId"),
    )


def _attachments(el: etree._Element) -> tuple[Attachment, ...]:
    wrapper = _child(el, "Attachments")
    if wrapper is None:
        return ()
    out = []
    for a in wrapper.findall(q("Attachment")):
        try:
            # libxml2's xs:base64Binary check lets stray characters through; decode strictly here.
            data = base64.b64decode("".join(_text(a, "Data").split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SoapFault("Client.AttachmentMismatch", f"{_text(a, 'FileName')}: bad base64") from exc
        att = Attachment(
            file_name=_text(a, "FileName"),
            content_type=_text(a, "ContentType").strip(),
            size=int(_text(a, "Size")),
            sha256=_text(a, "Sha256").strip(),
            data=data,
        )
        problem = att.integrity_problem()
        if problem:
            raise SoapFault("Client.AttachmentMismatch", problem)
        out.append(att)
    return tuple(out)


def petition(message: etree._Element) -> Petition:
    p = _child(message, "Petition")
    if p is None:
        raise SoapFault("Client.SchemaInvalid", "missing Petition")
    s = _child(p, "Sender")
    if s is None:
        raise SoapFault("Client.SchemaInvalid", "missing Sender")
    addr = _child(s, "Address")
    due = _opt(p, "DueAt")
    return Petition(
        petition_id=_text(p, "PetitionId").strip(),
        kind=Kind(_text(p, "Kind")),
        sender=Sender(
            type=SenderType(_text(s, "Type")),
            full_name=_text(s, "FullName"),
            id_number=_opt(s, "IdNumber"),
            tax_code=_opt(s, "TaxCode"),
            organization_name=_opt(s, "OrganizationName"),
            phone=_opt(s, "Phone"),
            email=_opt(s, "Email"),
            address=None
            if addr is None
            else Address(_text(addr, "Line"), _opt(addr, "WardCode"), _opt(addr, "ProvinceCode")),
        ),
        title=_text(p, "Title"),
        content=_text(p, "Content"),
        field_code=_opt(p, "FieldCode"),
        procedure_code=_opt(p, "ProcedureCode"),
        channel=Channel(_text(p, "Channel")),
        received_at=_when(_text(p, "ReceivedAt")),
        due_at=_when(due) if due else None,
        priority=int(_text(p, "Priority")),
        publish_consent=_bool(_text(p, "PublishConsent")),
        attachments=_attachments(p),
    )


def petition_update(message: etree._Element) -> PetitionUpdate:
    u = _child(message, "PetitionUpdate")
    if u is None:
        raise SoapFault("Client.SchemaInvalid", "missing PetitionUpdate")
    return PetitionUpdate(
        petition_id=_text(u, "PetitionId").strip(),
        action=UpdateAction(_text(u, "Action")),
        content=_text(u, "Content"),
        at=_when(_text(u, "At")),
        attachments=_attachments(u),
    )


def feedback(message: etree._Element) -> Feedback:
    f = _child(message, "Feedback")
    if f is None:
        raise SoapFault("Client.SchemaInvalid", "missing Feedback")
    return Feedback(
        petition_id=_text(f, "PetitionId").strip(),
        answer_id=_text(f, "AnswerId").strip(),
        rating=int(_text(f, "Rating")),
        comment=_opt(f, "Comment"),
        at=_when(_text(f, "At")),
    )


def status_query_petition_id(message: etree._Element) -> str:
    return _text(message, "PetitionId").strip()


def _sub(parent: etree._Element, name: str, text: str) -> etree._Element:
    el = etree.SubElement(parent, q(name))
    el.text = text
    return el


def receipt_element(receipt: Receipt) -> etree._Element:
    el = etree.Element(q("Receipt"), nsmap={"pakn": PAKN_NS})
    _sub(el, "MessageId", receipt.message_id)
    _sub(el, "ReceiptId", receipt.receipt_id)
    _sub(el, "Accepted", "true" if receipt.accepted else "false")
    _sub(el, "Duplicate", "true" if receipt.duplicate else "false")
    if receipt.error_code:
        _sub(el, "ErrorCode", receipt.error_code)
    if receipt.error_text:
        _sub(el, "ErrorText", receipt.error_text)
    return el


def status_report_element(case: Case) -> etree._Element:
    el = etree.Element(q("StatusReport"), nsmap={"pakn": PAKN_NS})
    _sub(el, "PetitionId", case.petition_id)
    _sub(el, "StatusCode", case.status.value)
    history = etree.SubElement(el, q("History"))
    for change in case.history:
        st = etree.SubElement(history, q("Status"))
        _sub(st, "PetitionId", case.petition_id)
        _sub(st, "StatusCode", change.status.value)
        _sub(st, "Description", change.description)
        _sub(st, "UnitCode", change.unit_code)
        _sub(st, "ChangedAt", change.changed_at.isoformat())
        _sub(st, "Seq", str(change.seq))
    return el
