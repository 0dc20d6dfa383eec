"""What the national portal does with one message from a ministry, start to finish.

Order: size → hardened parse → one Body child → XSD on the detached element → signature (trust
store) → From/To and signer checks → a Fault injected by a failure mode (`failure_modes.SimFaults`)
→ the operation → record → Receipt (signed if the portal has a key). Only the element the verifier
returns is read, so content slipped beside the signature is never used. Every message is recorded,
refused ones too, with the verdict reached so far; the server records the calls its own failure
modes (`down`, `slow`) turn away through `record_refusal`.

Synchronous and thread-safe: the server runs it in a worker thread (signature checks are CPU-bound).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

import schemas
import signing
from connectors.national_sim import wire
from connectors.national_sim.contract import REQUESTS, NationalContract
from connectors.national_sim.failure_modes import SimFaults
from connectors.national_sim.faults import CATALOGUE, SimFault, fault_envelope
from connectors.national_sim.recorder import AnswerDocument, Received, SimRecorder
from connectors.national_sim.vn_time import VN_TZ

__all__ = ["NationalPortal", "PortalPolicy"]

log = logging.getLogger(__name__)

NS = schemas.NAMESPACE
_SIGNATURE = f"{{{schemas.DSIG_NAMESPACE}}}Signature"
DEFAULT_PAGE = 100
PETITION_ID_PATHS = {
    "ReceiveStatus": "p:Status/p:PetitionId",
    "ReceiveAnswer": "p:Answer/p:PetitionId",
    "RequestTransfer": "p:Transfer/p:PetitionId",
}
"""Where each operation's request names its petition (ListPetitions names none)."""


@dataclass(frozen=True)
class PortalPolicy:
    ministry_id: str
    national_id: str
    max_body_bytes: int
    max_depth: int


@dataclass
class _Trace:
    """What is known about the message so far, for the record even when it is refused."""

    operation: str = "unknown"
    message_id: str | None = None
    petition_id: str | None = None
    seq: int | None = None
    status_code: str | None = None
    sender: str | None = None
    verdict: str = "not-checked"
    injected: str | None = None


@dataclass(frozen=True)
class _Request:
    content: etree._Element
    message_id: str
    sender: str


class NationalPortal:
    def __init__(
        self,
        *,
        policy: PortalPolicy,
        contract: NationalContract,
        recorder: SimRecorder,
        trust: signing.TrustStore | None,
        signer: signing.SigningKey | None,
        faults: SimFaults | None = None,
    ) -> None:
        self._policy = policy
        self._faults = faults if faults is not None else SimFaults()
        self._contract = contract
        self._recorder = recorder
        self._trust = trust
        self._signer = signer
        self._operations: dict[str, Callable[[_Request, _Trace], tuple[etree._Element, str]]] = {
            "ReceiveStatus": self._receive_status,
            "ReceiveAnswer": self._receive_answer,
            "RequestTransfer": self._request_transfer,
            "ListPetitions": self._list_petitions,
        }

    def handle(self, raw: bytes, *, oversized: bool = False) -> tuple[int, bytes]:
        """(HTTP status, SOAP envelope): 200 with the response element, or 500 with a Fault."""
        at = datetime.now(VN_TZ)
        trace = _Trace()
        try:
            if oversized:
                raise SimFault("Client.TooLarge", f"body > limit {self._policy.max_body_bytes} bytes")
            request = self._check(raw, trace)
            _describe(request.content, trace)
            injected = self._faults.take_fault(trace.petition_id)
            if injected is not None:  # before the operation: nothing is stored
                trace.injected = injected.mode
                raise SimFault(injected.code)
            element, outcome = self._operations[trace.operation](request, trace)
            body = wire.envelope(signing.sign_xml(element, self._signer) if self._signer else element)
        except SimFault as fault:
            self._record(raw, trace, fault.code, at)
            return 500, fault_envelope(fault)
        except Exception:  # a simulator bug must still answer the peer with a Fault, and be visible
            log.exception("national simulator failed on a %s message", trace.operation)
            self._record(raw, trace, "Server.Internal", at)
            return 500, fault_envelope(SimFault("Server.Internal"))
        self._record(raw, trace, outcome, at)
        return 200, body

    def record_refusal(self, raw: bytes, *, outcome: str, oversized: bool = False) -> None:
        """Record a call a failure mode of the server turned away unhandled (`outcome` "down"/"slow").

        The message is not checked, only parsed with the usual limits to note what it claims to be
        (operation, MessageId, PetitionId, Seq) so that attempts can be counted per petition.
        """
        at = datetime.now(VN_TZ)
        trace = _Trace(injected=outcome)
        if not oversized:
            self._peek(raw, trace)
        self._record(raw, trace, outcome, at)

    def _peek(self, raw: bytes, trace: _Trace) -> None:
        policy = self._policy
        try:
            soap = wire.parse_untrusted(raw, max_bytes=policy.max_body_bytes, max_depth=policy.max_depth)
            element = wire.request_element(soap)
        except SimFault:
            return
        operation = REQUESTS.get(etree.QName(element).localname)
        if operation is None:
            return
        trace.operation = operation.name
        trace.message_id = _text(element, "p:Header/p:MessageId")
        trace.sender = _text(element, "p:Header/p:From")
        _describe(element, trace)

    # ------------------------------------------------------------------ checks shared by every operation

    def _check(self, raw: bytes, trace: _Trace) -> _Request:
        policy = self._policy
        soap = wire.parse_untrusted(raw, max_bytes=policy.max_body_bytes, max_depth=policy.max_depth)
        element = wire.request_element(soap)
        operation = REQUESTS.get(etree.QName(element).localname)
        if operation is None:
            raise SimFault("Client.UnknownOperation", etree.QName(element).localname)
        trace.operation = operation.name
        detached_bytes = etree.tostring(element, encoding="utf-8")
        detached = etree.fromstring(detached_bytes, parser=wire.hardened_parser())
        trace.message_id = _text(detached, "p:Header/p:MessageId")  # as claimed, until verified
        trace.sender = _text(detached, "p:Header/p:From")
        _describe(detached, trace)
        errors = self._contract.schema_errors(detached)
        if errors:
            raise SimFault("Client.SchemaInvalid", "; ".join(errors)[:400])
        content, signer_org = self._verify(detached_bytes, detached, trace)
        message_id = _required(content, "p:Header/p:MessageId")
        sender = _required(content, "p:Header/p:From")
        recipient = _required(content, "p:Header/p:To")
        trace.message_id, trace.sender = message_id, sender
        if recipient != policy.national_id:
            raise SimFault("Client.WrongRecipient", f"To={recipient}, the portal is {policy.national_id}")
        if sender != policy.ministry_id:
            raise SimFault("Client.SenderMismatch", f"From={sender} is not the ministry {policy.ministry_id}")
        if trace.verdict == "valid" and signer_org != sender:
            raise SimFault("Client.SenderMismatch", f"From={sender} but the certificate names {signer_org}")
        return _Request(content, message_id, sender)

    def _verify(
        self, detached_bytes: bytes, detached: etree._Element, trace: _Trace
    ) -> tuple[etree._Element, str | None]:
        signed = any(True for _ in detached.iter(_SIGNATURE))
        if self._trust is None:  # a simulator run without a trust store records, but cannot judge
            trace.verdict = "unverified" if signed else "absent"
            for signature in detached.findall(_SIGNATURE):
                detached.remove(signature)
            return detached, None
        if not signed:
            trace.verdict = "absent"
            raise SimFault("Client.SignatureMissing", "the request element carries no ds:Signature")
        try:
            verified = signing.verify_xml(detached_bytes, self._trust)
        except signing.SigningError as exc:
            trace.verdict = f"invalid:{exc.code}"
            code = f"Client.{exc.code}"
            raise SimFault(code if code in CATALOGUE else "Client.SignatureInvalid", str(exc)[:300]) from exc
        trace.verdict = "valid"
        return verified.element, verified.organisation_id

    # ------------------------------------------------------------------ operations

    def _receive_status(self, request: _Request, trace: _Trace) -> tuple[etree._Element, str]:
        status = request.content
        trace.petition_id = _required(status, "p:Status/p:PetitionId")
        trace.seq = int(_required(status, "p:Status/p:Seq"))
        trace.status_code = _required(status, "p:Status/p:StatusCode")
        receipt_id, replay = self._recorder.deliver_status(
            request.message_id, trace.petition_id, trace.seq, trace.status_code
        )
        return _receipt(
            request.message_id, receipt_id, duplicate=replay
        ), "duplicate" if replay else "accepted"

    def _receive_answer(self, request: _Request, trace: _Trace) -> tuple[etree._Element, str]:
        answer = request.content
        trace.petition_id = petition_id = _required(answer, "p:Answer/p:PetitionId")
        answer_id = _required(answer, "p:Answer/p:AnswerId")
        document = _answer_document(answer)
        if not document.sha256_ok:  # the citizen would get another letter than the one declared
            self._recorder.refuse_answer(
                request.message_id, petition_id, answer_id, document, verdict=trace.verdict
            )
            raise SimFault(
                "Client.DocumentMismatch",
                f"declared {document.declared_sha256}, the bytes hash to {document.sha256}",
            )
        receipt_id, replay = self._recorder.deliver_answer(
            request.message_id, petition_id, answer_id, document, verdict=trace.verdict
        )
        return _receipt(
            request.message_id, receipt_id, duplicate=replay
        ), "duplicate" if replay else "accepted"

    def _request_transfer(self, request: _Request, trace: _Trace) -> tuple[etree._Element, str]:
        transfer = request.content
        trace.petition_id = _required(transfer, "p:Transfer/p:PetitionId")
        receipt_id, replay = self._recorder.deliver_transfer(
            request.message_id, trace.petition_id, _required(transfer, "p:Transfer/p:Reason")
        )
        return _receipt(
            request.message_id, receipt_id, duplicate=replay
        ), "duplicate" if replay else "accepted"

    def _list_petitions(self, request: _Request, trace: _Trace) -> tuple[etree._Element, str]:
        query = request.content
        organ = _required(query, "p:OrganId")
        if organ != request.sender:
            raise SimFault(
                "Client.SenderMismatch", f"{request.sender} may list only its own petitions, not {organ}"
            )
        since_text = _text(query, "p:Since")
        since = datetime.fromisoformat(since_text.replace("Z", "+00:00")) if since_text else None
        offset = _cursor_offset(_text(query, "p:Cursor"))
        limit = int(_text(query, "p:Limit") or DEFAULT_PAGE)
        matching = [p for p in self._recorder.petitions() if since is None or _received_at(p) >= since]
        page = matching[offset : offset + limit]
        following = offset + len(page)
        next_cursor = str(following) if following < len(matching) else None
        return self._contract.petition_list(page, next_cursor), "listed"

    def _record(self, raw: bytes, trace: _Trace, outcome: str, at: datetime) -> None:
        self._recorder.record(
            Received(
                operation=trace.operation,
                message_id=trace.message_id,
                petition_id=trace.petition_id,
                seq=trace.seq,
                verdict=trace.verdict,
                raw=raw,
                at=at,
                outcome=outcome,
                sender=trace.sender,
                status_code=trace.status_code,
                injected=trace.injected,
            )
        )


def _receipt(message_id: str, receipt_id: str, *, duplicate: bool) -> etree._Element:
    receipt = etree.Element(f"{{{NS}}}Receipt", nsmap={"p": NS})
    values = (message_id, receipt_id, "true", "true" if duplicate else "false")
    for name, value in zip(("MessageId", "ReceiptId", "Accepted", "Duplicate"), values, strict=True):
        etree.SubElement(receipt, f"{{{NS}}}{name}").text = value
    return receipt


def _answer_document(answer: etree._Element) -> AnswerDocument:
    """The answer letter's bytes as decoded, with what it declares; `sha256_ok` tells if they agree."""
    declared = _required(answer, "p:Answer/p:Document/p:Sha256").lower()
    try:
        data = base64.b64decode(_text(answer, "p:Answer/p:Document/p:Data") or "", validate=False)
    except binascii.Error as exc:
        raise SimFault("Client.DocumentMismatch", "Data is not base64") from exc
    file_name = _text(answer, "p:Answer/p:Document/p:FileName") or ""
    return AnswerDocument(file_name=file_name, declared_sha256=declared, pdf=data)


def _describe(content: etree._Element, trace: _Trace) -> None:
    """Note which petition (and for a status, which Seq and code) a request element is about.

    Called on what a message claims before its signature is checked, then on what was verified; it
    never raises, since an unchecked message may hold anything.
    """
    path = PETITION_ID_PATHS.get(trace.operation)
    if path is None:
        return
    trace.petition_id = _text(content, path)
    if trace.operation == "ReceiveStatus":
        seq = _text(content, "p:Status/p:Seq")
        try:
            trace.seq = int(seq) if seq is not None else None
        except ValueError:
            trace.seq = None
        trace.status_code = _text(content, "p:Status/p:StatusCode")


def _cursor_offset(cursor: str | None) -> int:
    """Cursors are the offset of the next page as decimal text: opaque to the ministry, simple here."""
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise SimFault("Client.InvalidCursor", "use the NextCursor of the previous page")
    return int(cursor)


def _received_at(petition: dict[str, Any]) -> datetime:
    value = petition["ReceivedAt"]
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, namespaces={"p": NS})
    return found.text if found is not None else None


def _required(element: etree._Element, path: str) -> str:
    value = _text(element, path)
    if value is None:  # the XSD was checked first, so this is the simulator's mistake, not the peer's
        raise SimFault("Server.Internal", f"{path} missing after schema validation")
    return value
