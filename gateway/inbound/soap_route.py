"""`MinistryExchange` at POST /soap/pakn (WSDL at GET /soap/pakn?wsdl): the inbound edge.

Order matters: size → hardened parse → envelope → XSD → signature → sender checks → service.
The CPU-bound checks run in a worker thread so one 20 MiB message does not stall the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, Request, Response
from lxml import etree

import signing
from gateway.domain.errors import DomainError
from gateway.domain.exchange import Receipt
from gateway.domain.petition import Feedback, Header, Petition, PetitionUpdate
from gateway.inbound import petition_xml
from gateway.inbound.errors import IntakeError
from gateway.inbound.faults import CATALOGUE, SoapFault
from gateway.inbound.intake import Intake
from gateway.inbound.message_log_hook import MessageLogHook
from gateway.inbound.signature_check import CheckedRequest, SignatureCheck
from gateway.inbound.soap_envelope import detach, envelope_bytes, fault_bytes, request_element
from gateway.inbound.wsdl import ServedContract
from gateway.inbound.xml_guard import hardened_parser, parse_untrusted
from gateway.observability.json_logging import correlation
from gateway.ports import StoreConflict, StoreError

log = logging.getLogger(__name__)

SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
LOGGED_PREFIX_OF_REFUSED_OVERSIZE = 4096

OPERATIONS = {
    "PetitionMessage": "SubmitPetition",
    "PetitionUpdateMessage": "SubmitPetitionUpdate",
    "FeedbackMessage": "SubmitFeedback",
    "StatusQuery": "GetPetitionStatus",
}


@dataclass(frozen=True)
class EndpointPolicy:
    ministry_id: str
    national_id: str
    max_body_bytes: int
    max_depth: int


Reply = tuple[etree._Element, str]  # the response element, and the outcome for the message log
P = TypeVar("P")


@dataclass(frozen=True)
class Route(Generic[P]):
    """One operation: how its payload is decoded (in the checking thread) and who handles it."""

    decode: Callable[[etree._Element], P]
    handle: Callable[[Header, P], Awaitable[Reply]]

    def bind(self, header: Header, element: etree._Element) -> tuple[Callable[[], Awaitable[Reply]], str]:
        """The handler call, and the PetitionId the payload is about (for the message log)."""
        payload = self.decode(element)
        petition_id = payload if isinstance(payload, str) else getattr(payload, "petition_id", "")
        return (lambda: self.handle(header, payload)), petition_id


@dataclass(frozen=True)
class Checked:
    operation: str
    request: CheckedRequest
    header: Header
    run: Callable[[], Awaitable[Reply]]
    petition_id: str | None = None


class MinistryEndpoint:
    def __init__(
        self,
        *,
        policy: EndpointPolicy,
        intake: Intake,
        check: SignatureCheck,
        schema: etree.XMLSchema,
        message_log: MessageLogHook,
        signer: signing.SigningKey | None,
        on_signed: Callable[[float], None] | None = None,  # seconds one receipt's signature took
    ) -> None:
        self._on_signed = on_signed
        self._policy = policy
        self._intake = intake
        self._check_signature = check
        self._schema = schema
        self._log = message_log
        self._signer = signer
        self._routes: dict[str, Route[Any]] = {
            "SubmitPetition": Route(petition_xml.petition, self._submit_petition),
            "SubmitPetitionUpdate": Route(petition_xml.petition_update, self._submit_update),
            "SubmitFeedback": Route(petition_xml.feedback, self._submit_feedback),
            "GetPetitionStatus": Route(petition_xml.status_query_petition_id, self._status),
        }

    async def handle(self, raw: bytes, peer: str, *, oversized: bool = False) -> tuple[int, bytes]:
        """`oversized`: the body passed the limit and `raw` holds only its beginning."""
        try:
            if oversized:
                raise SoapFault("Client.TooLarge", f"body > limit {self._policy.max_body_bytes} bytes")
            checked = await asyncio.to_thread(self._check, raw)
        except SoapFault as fault:
            signature_problem = "Signature" in fault.code or "Certificate" in fault.code
            await self._log.record(
                direction="in",
                peer=peer,
                operation="unknown",
                raw=raw,
                verdict=f"invalid:{fault.code}" if signature_problem else "not-checked",
                outcome=fault.code,
            )
            return await self._reply_fault(fault, peer, "unknown", None)
        with correlation(petition_id=checked.petition_id, message_id=checked.header.message_id):
            return await self._answer(checked, raw, peer)

    async def _answer(self, checked: Checked, raw: bytes, peer: str) -> tuple[int, bytes]:
        """After the checks: log it received, run the operation, answer signed (or with a fault)."""
        request, header = checked.request, checked.header
        await self._log.record(
            direction="in",
            peer=peer,
            operation=checked.operation,
            raw=raw,
            verdict=request.verdict,
            message_id=header.message_id,
            signer=request.signer,
            outcome="received",
            petition_id=checked.petition_id,
        )
        about = checked.petition_id
        try:
            element, outcome = await checked.run()
        except SoapFault as fault:
            return await self._reply_fault(fault, peer, checked.operation, header.message_id, about)
        except (IntakeError, DomainError) as exc:
            code = f"Client.{exc.code}"
            refusal = SoapFault(code if code in CATALOGUE else "Client.InvalidTransition", exc.message)
            return await self._reply_fault(refusal, peer, checked.operation, header.message_id, about)
        except StoreConflict:
            return await self._reply_fault(
                SoapFault("Server.Conflict"), peer, checked.operation, header.message_id, about
            )
        except StoreError as exc:
            log.error("store unavailable for %s: %s", header.message_id, exc)
            unavailable = SoapFault("Server.StoreUnavailable")
            return await self._reply_fault(unavailable, peer, checked.operation, header.message_id, about)
        body = envelope_bytes(self._sign(element))
        await self._log.record(
            direction="out",
            peer=peer,
            operation=checked.operation,
            raw=body,
            verdict="signed" if self._signer else "unsigned",
            message_id=header.message_id,
            outcome=outcome,
            petition_id=about,
        )
        log.info("%s from %s: %s", checked.operation, peer, outcome)  # with its ids (correlation)
        return 200, body

    def _check(self, raw: bytes) -> Checked:
        policy = self._policy
        envelope = parse_untrusted(raw, max_bytes=policy.max_body_bytes, max_depth=policy.max_depth)
        element = request_element(envelope)
        operation = OPERATIONS.get(etree.QName(element).localname)
        if operation is None:
            raise SoapFault("Client.UnknownOperation", etree.QName(element).localname)
        detached = detach(element)
        standalone = etree.fromstring(detached, parser=hardened_parser())
        try:
            valid = self._schema.validate(standalone)
        except etree.XMLSchemaValidateError as exc:  # libxml2 gives up on some huge values
            raise SoapFault("Client.SchemaInvalid", str(exc)[:400]) from exc
        if not valid:
            # lxml-stubs do not type the error log; its entries carry line and message
            first: Any = next(iter(self._schema.error_log), None)  # type: ignore[call-overload]
            where = f"line {first.line}: {first.message}" if first else "schema violation"
            raise SoapFault("Client.SchemaInvalid", where[:400])
        request = self._check_signature(detached)
        header = petition_xml.header(request.element)
        if header.recipient != policy.ministry_id:
            raise SoapFault(
                "Client.WrongRecipient", f"To={header.recipient}, this ministry is {policy.ministry_id}"
            )
        if header.sender != policy.national_id:
            raise SoapFault("Client.SenderMismatch", f"From={header.sender} is not the national portal")
        if request.verdict == "valid" and request.signer != header.sender:
            raise SoapFault(
                "Client.SenderMismatch", f"From={header.sender} but the certificate names {request.signer}"
            )
        # Decoding checks attachments (strict base64, Size, Sha256): a refusal, before 'received'.
        run, petition_id = self._routes[operation].bind(header, request.element)
        return Checked(operation, request, header, run, petition_id or None)

    async def _submit_petition(self, header: Header, petition: Petition) -> Reply:
        return _receipt_reply(await self._intake.submit_petition(header, petition))

    async def _submit_update(self, header: Header, update: PetitionUpdate) -> Reply:
        return _receipt_reply(await self._intake.submit_update(header, update))

    async def _submit_feedback(self, header: Header, feedback: Feedback) -> Reply:
        return _receipt_reply(await self._intake.submit_feedback(header, feedback))

    async def _status(self, header: Header, petition_id: str) -> Reply:
        case = await self._intake.status(petition_id)
        return petition_xml.status_report_element(case), "answered"

    def _sign(self, element: etree._Element) -> etree._Element:
        # Receipts are signed too: the portal (and an auditor) can prove what the ministry confirmed.
        if self._signer is None:
            return element
        started = time.perf_counter()
        signed = signing.sign_xml(element, self._signer)
        if self._on_signed is not None:
            self._on_signed(time.perf_counter() - started)
        return signed

    async def _reply_fault(
        self,
        fault: SoapFault,
        peer: str,
        operation: str,
        message_id: str | None,
        petition_id: str | None = None,
    ) -> tuple[int, bytes]:
        body = fault_bytes(fault)
        await self._log.record(
            direction="out",
            peer=peer,
            operation=operation,
            raw=body,
            verdict="unsigned",
            message_id=message_id,
            outcome=fault.code,
            petition_id=petition_id,
        )
        log.info("%s from %s: fault %s", operation, peer, fault.code)
        return 500, body


def _receipt_reply(receipt: Receipt) -> Reply:
    return petition_xml.receipt_element(receipt), "duplicate" if receipt.duplicate else "accepted"


def soap_router(endpoint: MinistryEndpoint, contract: ServedContract, max_body_bytes: int) -> APIRouter:
    router = APIRouter()

    @router.get("/soap/pakn", include_in_schema=False)
    async def describe(request: Request) -> Response:
        params = request.query_params
        if "wsdl" in params:
            return Response(contract.wsdl(str(request.base_url)), media_type=SOAP_CONTENT_TYPE)
        xsd = params.get("xsd")
        if xsd is not None:
            doc = contract.xsd(xsd)
            if doc is not None:
                return Response(doc, media_type=SOAP_CONTENT_TYPE)
        return Response("use ?wsdl", status_code=404, media_type="text/plain; charset=utf-8")

    @router.post("/soap/pakn", include_in_schema=False)
    async def exchange(request: Request) -> Response:
        peer = request.client.host if request.client else "unknown"
        raw, oversized = await _read_capped(request, max_body_bytes)
        status, body = await endpoint.handle(raw, peer, oversized=oversized)
        return Response(body, status_code=status, media_type=SOAP_CONTENT_TYPE)

    return router


async def _read_capped(request: Request, limit: int) -> tuple[bytes, bool]:
    """Read at most `limit` bytes. Past it, keep only a prefix for the log and say it was oversized:
    the parser never sees an oversized body and memory stays bounded."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return b"", True
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:LOGGED_PREFIX_OF_REFUSED_OVERSIZE], True
        chunks.append(chunk)
    return b"".join(chunks), False
