"""What a failed or doubtful call to the national portal means: refused for good, or worth retrying.

Third-party errors (zeep, requests, signing) are mapped here, at the edge, to the two port errors
(`gateway.ports`): `NationalRefused` (permanent: dead-letter with the reason) and
`NationalUnavailable` (transient: retry with backoff). When in doubt a call is *unavailable*: a
message retried in vain costs a few calls, a message dead-lettered in error needs an operator.

Refused (permanent), with the code it gets:
- SOAP Fault `soap:Client.*` → `Client.*` (the "soap:" prefix dropped), faultstring as the message;
- HTTP 4xx without a SOAP Fault, except 408 and 429 → `HTTP.<status>`;
- the payload does not fit the contract (zeep refuses to build the request) → `Gateway.InvalidMessage`;
- a Receipt with `Accepted=false` → its `ErrorCode` or `Client.NotAccepted` (client.py).
Unavailable (transient):
- SOAP Fault `soap:Server.*`, any other faultcode → that code; no faultcode → `Server.UnknownFault`;
- HTTP 5xx, 408, 429, a 3xx (never followed), a 200 that is not XML → `HTTP.<status>`;
- timeouts (connect, read, the call's deadline) → `Network.Timeout`; refused or reset connections →
  `Network.ConnectionError`; other network errors → `Network.Error`;
- a response that is not a SOAP envelope, or hostile XML → `Server.BadResponse`;
- the request could not be signed (a key problem is the gateway's, not the message's) →
  `Gateway.SigningFailed`;
- and in client.py: a Receipt whose signature is `invalid:*` → `Server.ReceiptUnverified`, signed by
  another organisation → `Server.ReceiptSignerMismatch`, for another MessageId →
  `Server.ReceiptMismatch`, no Receipt at all → `Server.BadReceipt`, `Accepted=false` with a
  `Server.*` ErrorCode → that code.
"""

from __future__ import annotations

import requests
import zeep.exceptions

import signing
from gateway.domain.exchange import PetitionPage, Receipt
from gateway.ports import NationalError, NationalRefused, NationalUnavailable

__all__ = ["classify", "classify_fault", "classify_http_status", "outcome_code"]

RETRYABLE_HTTP = frozenset({408, 429})
INVALID_MESSAGE = "Gateway.InvalidMessage"


def classify(exc: BaseException) -> NationalError:
    """The port error a third-party exception raised by a zeep call stands for (see the table)."""
    if isinstance(exc, NationalError):
        return exc
    if isinstance(exc, zeep.exceptions.Fault):
        return classify_fault(exc.code, exc.message)
    if isinstance(exc, zeep.exceptions.TransportError):
        return classify_http_status(exc.status_code, str(exc))
    if isinstance(exc, zeep.exceptions.ValidationError | TypeError):
        # zeep refuses to build the request (missing element, wrong type, unknown name): the same
        # message will never fit, so it is dead-lettered for an operator to look at.
        return NationalRefused(INVALID_MESSAGE, _short(exc))
    if isinstance(exc, signing.SigningError):
        # A key or certificate problem is the gateway's, not the message's: keep the messages.
        return NationalUnavailable("Gateway.SigningFailed", f"{exc.code}: {_short(exc)}")
    if isinstance(exc, requests.exceptions.Timeout | TimeoutError):
        return NationalUnavailable("Network.Timeout", _short(exc) or "the portal did not answer in time")
    if isinstance(exc, requests.exceptions.ConnectionError | ConnectionError):
        return NationalUnavailable("Network.ConnectionError", _short(exc))
    if isinstance(exc, requests.exceptions.RequestException | OSError):
        return NationalUnavailable("Network.Error", _short(exc))
    if isinstance(exc, zeep.exceptions.Error):  # XMLSyntaxError, XMLParseError, DTDForbidden…
        return NationalUnavailable("Server.BadResponse", _short(exc))
    return NationalUnavailable("Gateway.UnexpectedError", f"{type(exc).__name__}: {_short(exc)}")


def classify_fault(faultcode: str | None, faultstring: str | None) -> NationalError:
    """`soap:Client.X` → refused (code `Client.X`); `soap:Server.X`, anything else, none → unavailable."""
    text = (faultstring or "").strip() or "SOAP Fault without faultstring"
    if not faultcode:
        return NationalUnavailable("Server.UnknownFault", text)
    code = faultcode.strip().rpartition(":")[2]  # "soap:Client.SchemaInvalid" → "Client.SchemaInvalid"
    if code == "Client" or code.startswith("Client."):
        return NationalRefused(code, text)
    return NationalUnavailable(code or "Server.UnknownFault", text)


def classify_http_status(status: int, detail: str) -> NationalError:
    """An HTTP answer without a SOAP Fault: 4xx (but 408, 429) refused, everything else retried."""
    code = f"HTTP.{status}"
    text = _short_text(detail) or f"HTTP {status}"
    if 400 <= status < 500 and status not in RETRYABLE_HTTP:
        return NationalRefused(code, text)
    return NationalUnavailable(code, text)


def _short(exc: BaseException) -> str:
    return _short_text(str(exc))


def _short_text(text: str, limit: int = 500) -> str:
    """One line, bounded: a 503 page or a zeep message quoting the whole response stays readable."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def outcome_code(outcome: object) -> str:
    """One attempt's outcome as a bounded label (metrics): "accepted", "duplicate", "listed", or
    the port error's code; never a count or an id."""
    if isinstance(outcome, Receipt):
        return "duplicate" if outcome.duplicate else "accepted"
    if isinstance(outcome, PetitionPage):
        return "listed"
    if isinstance(outcome, NationalError):
        return outcome.code
    return type(outcome).__name__
