"""`ZeepNationalClient`: the gateway's signed calls to the national portal's `NationalExchange`.

Built once at start from the LOCAL `schemas/national-exchange.wsdl`, bound to the endpoint from
settings (`connectors.soap_signing.build_signed_client`): every request element is XML-DSig-signed
with the gateway's key, and the portal's Receipt is judged against the trust store when one is given.

One `send()`:
- turns the outbox payload (the contract's element names, `gateway.domain.national`) into the zeep
  call, with a `Header` whose `MessageId` is the message's own — fixed at creation, so a resend after
  a lost receipt is recognised by the portal and answered `Duplicate=true`;
- runs the blocking zeep call in a worker thread, bounded by `timeout` (the transport's connect and
  read timeouts) and by an overall deadline;
- retries a transient failure (`NationalUnavailable`) a few times at once, with exponential backoff
  and jitter (tenacity); the outbox sender's own backoff takes over after that;
- returns the domain `Receipt` only if it really confirms the message; every other outcome is one of
  the port errors, classified in `connectors.national.classify`.

zeep clients are not thread-safe (nor is the signing plugin's last request/response): each call
takes a client of its own from a small pool, which grows to the number of calls in flight (at most
`concurrency`, plus any abandoned at the deadline and still running in their thread) and never
shrinks, so every client is built once. The calls run on worker threads of the client's own, never
on the event loop's default executor: a slow portal holding every thread there would stall the
gateway's other threaded work (inbound signature checks, letter signing) for the length of a timeout.

Every attempt that reached the wire is handed to `observer` (a `WireRecord`: the signed request as
sent, the response as parsed, its verdict, the outcome), on the event loop, after the attempt: the
message log is a hook here as on the inbound side. A call abandoned at its deadline is not observed.
`on_attempt` (metrics) is told every attempt, that one too: operation, outcome code ("accepted",
"duplicate", "listed" or the port error's code) and seconds from taking a slot to the outcome.

Receipts: with a trust store, a receipt whose signature does not verify is never a delivery; an
unsigned receipt (verdict "absent") is accepted, as DESIGN §2 leaves receipts' signatures optional.

One `list_petitions()` (`gateway.ports.NationalListing`): one signed `ListQuery`, on the same pool,
threads, retries and observer; the page is used only if its signature verifies (`listing.py`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

import schemas
import signing
from connectors.national import listing
from connectors.national.classify import INVALID_MESSAGE, classify, outcome_code
from connectors.national.client_pool import ClientPool, SoapConnection
from connectors.soap_signing import ResponseRecord, SigningPlugin, build_signed_client
from gateway.domain.exchange import NationalMessage, PetitionPage, Receipt
from gateway.ports import NationalError, NationalRefused, NationalUnavailable

log = logging.getLogger(__name__)

__all__ = [
    "PAYLOAD_ELEMENTS", "VIETNAM", "AttemptObserver", "WireObserver", "WireRecord", "ZeepNationalClient",
]

VIETNAM = timezone(timedelta(hours=7), "ICT")
SERVICE, PORT = "NationalExchange", "NationalExchangePort"
PAYLOAD_ELEMENTS = {"ReceiveStatus": "Status", "ReceiveAnswer": "Answer", "RequestTransfer": "Transfer"}
"""Operation → the payload element of its request (after `Header`)."""
DEADLINE_GRACE = 1.0
"""Seconds on top of `timeout` before a call is abandoned even if the transport still waits (a peer
dripping bytes slower than the read timeout would otherwise hold it for ever)."""
T = TypeVar("T")


@dataclass(frozen=True)
class WireRecord:
    """One attempt on the wire: what was sent and what came back (None where nothing did)."""

    operation: str
    message_id: str
    petition_id: str
    request: bytes | None
    response: ResponseRecord | None
    outcome: str
    """"accepted", "duplicate", or the port error's code (e.g. "Client.UnknownPetition", "HTTP.503")."""


WireObserver = Callable[[WireRecord], Awaitable[None]]
AttemptObserver = Callable[[str, str, float], None]
"""(operation, outcome code, seconds) of one attempt on the wire, abandoned ones included."""


class ZeepNationalClient:
    """`gateway.ports.NationalPort` over SOAP: signed requests, verified receipts, classified errors.

    - `address`: the portal's endpoint (settings `national_url`); the WSDL's own address is ignored.
    - `key`: the gateway's signing key; `trust`: the CAs the portal's receipt signature must chain to
      (None: receipts are not judged — development only).
    - `ministry_id` / `national_id`: `Header.From` / `Header.To`; a validly signed receipt must come
      from a certificate naming `national_id` when its certificate names an organisation at all.
    - `timeout`: seconds, connect and read timeout of one HTTP call (plus `DEADLINE_GRACE` overall).
    - `concurrency`: calls in flight at once (each on its own zeep client and worker thread).
    - `attempts`: tries per `send()` while the portal is unavailable, `retry_initial`/`retry_max`
      seconds the exponential backoff (with as much jitter as `retry_initial`) between them.
    - `wsdl`: the local WSDL file; the packaged `national-exchange.wsdl` by default.

    The first zeep client is built here, so a bad WSDL, address or key fails at start.
    """

    def __init__(
        self,
        *,
        address: str,
        key: signing.SigningKey,
        trust: signing.TrustStore | None,
        ministry_id: str,
        national_id: str,
        timeout: float = 30.0,
        concurrency: int = 8,
        attempts: int = 3,
        retry_initial: float = 0.5,
        retry_max: float = 5.0,
        wsdl: str | Path | None = None,
        observer: WireObserver | None = None,
        on_attempt: AttemptObserver | None = None,
        on_signed: Callable[[float], None] | None = None,  # seconds each request's XML-DSig took
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if retry_initial < 0 or retry_max < 0:
            raise ValueError("retry_initial and retry_max must not be negative")
        self._address = address
        self._key = key
        self._trust = trust
        self._ministry_id = ministry_id
        self._national_id = national_id
        self._timeout = timeout
        self._attempts = attempts
        self._wait = _jittered_backoff(retry_initial, retry_max)
        self._wsdl = wsdl if wsdl is not None else schemas.national_wsdl_path()
        self._observer = observer
        self._on_attempt = on_attempt
        self._on_signed = on_signed
        self._pool = ClientPool(self._connect)
        self._pool.give_back(self._pool.take())
        self._slots = asyncio.Semaphore(concurrency)
        # twice the slots: a call abandoned at its deadline may still hold its thread for a while
        self._threads = ThreadPoolExecutor(max_workers=2 * concurrency, thread_name_prefix="national-soap")

    @property
    def address(self) -> str:
        return self._address

    @property
    def clients_built(self) -> int:
        """How many zeep clients exist (one per call that was ever in flight at the same time)."""
        return self._pool.size

    def close(self) -> None:
        """Close the HTTP sessions of every client. Calls already running finish on their own."""
        self._threads.shutdown(wait=False, cancel_futures=True)
        self._pool.close()

    async def send(self, message: NationalMessage) -> Receipt:
        """Deliver one message; the portal's Receipt (Accepted, maybe Duplicate) or a `NationalError`."""
        element = PAYLOAD_ELEMENTS.get(message.operation)
        if element is None:
            raise NationalRefused(
                INVALID_MESSAGE, f"no such NationalExchange operation {message.operation!r}"
            )
        payload = _zeep_payload(message)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception_type(NationalUnavailable),
            reraise=True,
        )
        receipt: Receipt = await retrying(self._attempt, message, element, payload)
        return receipt

    async def list_petitions(
        self, *, organ_id: str, since: datetime | None, cursor: str | None, limit: int
    ) -> PetitionPage:
        """One page of `ListPetitions` (a signed ListQuery), verified; or a `NationalError`."""
        query = listing.query(organ_id=organ_id, since=since, cursor=cursor, limit=limit)
        message_id = str(uuid.uuid4())  # one per page: a quick retry asks the same question again
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception_type(NationalUnavailable),
            reraise=True,
        )
        page: PetitionPage = await retrying(self._list_attempt, message_id, query)
        return page

    async def _attempt(self, message: NationalMessage, element: str, payload: dict[str, Any]) -> Receipt:
        outcome, wire = await self._in_thread(message.operation, self._call, message, element, payload)
        await self._observe(wire)
        if isinstance(outcome, Receipt):
            return outcome
        raise outcome

    async def _list_attempt(self, message_id: str, query: dict[str, Any]) -> PetitionPage:
        outcome, wire = await self._in_thread(listing.OPERATION, self._list_call, message_id, query)
        await self._observe(wire)
        if isinstance(outcome, PetitionPage):
            return outcome
        raise outcome

    async def _in_thread(
        self, operation: str, call: Callable[..., tuple[T, WireRecord | None]], *args: Any
    ) -> tuple[T, WireRecord | None]:
        """`call(*args)` on a worker thread of the client's own, within a slot and the deadline;
        the attempt told to `on_attempt` under `operation`."""
        async with self._slots:
            loop = asyncio.get_running_loop()
            started = time.perf_counter()
            running = loop.run_in_executor(self._threads, call, *args)
            try:
                result = await asyncio.wait_for(running, self._timeout + DEADLINE_GRACE)
            except TimeoutError as exc:
                self._tell(operation, "Network.Timeout", started)
                raise NationalUnavailable(
                    "Network.Timeout", f"no answer within {self._timeout + DEADLINE_GRACE:g} s"
                ) from exc
            self._tell(operation, outcome_code(result[0]), started)
            return result

    def _tell(self, operation: str, outcome: str, started: float) -> None:
        if self._on_attempt is not None:
            self._on_attempt(operation, outcome, time.perf_counter() - started)

    async def _observe(self, wire: WireRecord | None) -> None:
        if wire is None or self._observer is None:
            return
        try:
            await self._observer(wire)
        except Exception:  # the log failing must not turn a delivery into a resend
            log.exception("national %s %s: the wire record was not kept", wire.operation, wire.message_id)

    def _call(
        self, message: NationalMessage, element: str, payload: dict[str, Any]
    ) -> tuple[Receipt | NationalError, WireRecord | None]:
        """In a worker thread: one signed call on a client of this thread's own, classified."""
        try:
            connection = self._pool.take()
        except Exception as exc:  # the first client was built at start, so this is rare: retry later
            return NationalUnavailable("Gateway.ClientUnavailable", f"no SOAP client: {exc}"), None
        try:
            connection.plugin.reset()
            operation = getattr(connection.service, message.operation)
            outcome: Receipt | NationalError
            try:
                result = operation(Header=self._header(message), **{element: payload})
                # A result means zeep parsed this very response, so the plugin's record is this call's.
                outcome = self._receipt(message, result, connection.plugin.last_response)
            except NationalError as exc:
                outcome = exc
            except Exception as exc:
                outcome = classify(exc)
            return outcome, self._wire(message, connection.plugin, outcome)
        finally:
            self._pool.give_back(connection)

    def _list_call(
        self, message_id: str, query: dict[str, Any]
    ) -> tuple[PetitionPage | NationalError, WireRecord | None]:
        """In a worker thread: one signed ListQuery; the page is read from the verified response."""
        try:
            connection = self._pool.take()
        except Exception as exc:
            return NationalUnavailable("Gateway.ClientUnavailable", f"no SOAP client: {exc}"), None
        try:
            connection.plugin.reset()
            outcome: PetitionPage | NationalError
            header = {"MessageId": message_id, "From": self._ministry_id, "To": self._national_id}
            try:
                # zeep's parsed result is not used: only what the page's signature covers is read.
                connection.service.ListPetitions(Header=header | {"SentAt": _now()}, **query)
                outcome = listing.verified_page(
                    connection.plugin.last_response,
                    trust=self._trust,
                    national_id=self._national_id,
                    message_id=message_id,
                )
            except NationalError as exc:
                outcome = exc
            except Exception as exc:
                outcome = classify(exc)
            result = f"listed:{len(outcome.petitions)}" if isinstance(outcome, PetitionPage) else outcome.code
            return outcome, _wire_record(listing.OPERATION, message_id, "", connection.plugin, result)
        finally:
            self._pool.give_back(connection)

    @staticmethod
    def _wire(
        message: NationalMessage, plugin: SigningPlugin, outcome: Receipt | NationalError
    ) -> WireRecord | None:
        if isinstance(outcome, Receipt):
            result = "duplicate" if outcome.duplicate else "accepted"
        else:
            result = outcome.code
        return _wire_record(message.operation, message.message_id, message.petition_id, plugin, result)

    def _header(self, message: NationalMessage) -> dict[str, Any]:
        header: dict[str, Any] = {
            "MessageId": message.message_id,
            "From": self._ministry_id,
            "To": self._national_id,
            "SentAt": _now(),
        }
        if message.petition_id and not any(ch.isspace() for ch in message.petition_id):
            header["CorrelationId"] = message.petition_id  # CorrelationIdType allows no whitespace
        return header

    def _receipt(self, message: NationalMessage, value: Any, response: ResponseRecord | None) -> Receipt:
        """The domain Receipt, only if it verifies and confirms *this* message (else a port error)."""
        verdict = response.verdict if response is not None else "absent"
        if verdict.startswith("invalid"):
            raise NationalUnavailable("Server.ReceiptUnverified", f"the receipt's signature is {verdict}")
        signer = response.signer if response is not None else None
        if verdict == "valid" and signer is not None and signer != self._national_id:
            raise NationalUnavailable(
                "Server.ReceiptSignerMismatch", f"the receipt is signed by {signer}, not {self._national_id}"
            )
        try:
            receipt = Receipt(
                message_id=str(value.MessageId),
                receipt_id=str(value.ReceiptId),
                accepted=bool(value.Accepted),
                duplicate=bool(value.Duplicate),
                error_code=value.ErrorCode,
                error_text=value.ErrorText,
            )
        except AttributeError as exc:
            raise NationalUnavailable("Server.BadReceipt", "the response is not a Receipt") from exc
        if receipt.message_id != message.message_id:
            raise NationalUnavailable(
                "Server.ReceiptMismatch", f"the receipt is for {receipt.message_id}, not {message.message_id}"
            )
        if not receipt.accepted:
            code = receipt.error_code or "Client.NotAccepted"
            text = receipt.error_text or "the portal did not accept the message"
            if code.startswith("Server."):
                raise NationalUnavailable(code, text)
            raise NationalRefused(code, text)
        return receipt

    def _connect(self) -> SoapConnection:
        client, service, plugin = build_signed_client(
            self._wsdl,
            key=self._key,
            trust=self._trust,
            address=self._address,
            service=SERVICE,
            port=PORT,
            timeout=self._timeout,
            on_signed=self._on_signed,
        )
        return SoapConnection(service=service, plugin=plugin, close=client.transport.session.close)


def _wire_record(
    operation: str, message_id: str, petition_id: str, plugin: SigningPlugin, outcome: str
) -> WireRecord | None:
    request = plugin.last_request
    if request is None:  # never left: zeep or the signer refused to build it
        return None
    return WireRecord(
        operation=operation,
        message_id=message_id,
        petition_id=petition_id,
        request=request,
        response=plugin.last_response,
        outcome=outcome,
    )


def _jittered_backoff(first: float, longest: float) -> wait_exponential_jitter:
    """first · 2^n + uniform(0, first) seconds, at most `longest`."""
    try:
        return wait_exponential_jitter(multiplier=first, max=longest, jitter=first)
    except TypeError:  # tenacity before 9.2 calls the multiplier `initial`
        return wait_exponential_jitter(initial=first, max=longest, jitter=first)


def _zeep_payload(message: NationalMessage) -> dict[str, Any]:
    """The payload as zeep takes it: a copy, with an answer letter's base64 text decoded to bytes."""
    payload = copy.deepcopy(message.payload)
    document = payload.get("Document") if message.operation == "ReceiveAnswer" else None
    if isinstance(document, dict) and isinstance(document.get("Data"), str):
        try:
            document["Data"] = base64.b64decode(document["Data"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NationalRefused(INVALID_MESSAGE, "Answer Document.Data is not base64") from exc
    return payload


def _now() -> datetime:
    """Now at +07:00, to the millisecond (SentAt)."""
    moment = datetime.now(VIETNAM)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
