"""A zeep plugin that puts the contract's enveloped XML-DSig on every request and checks responses.

zeep builds the request element without a signature (the XSD ends each request with an optional
`xs:any` in the ds namespace, which zeep exposes as `_value_1` and leaves empty); `egress` then
replaces the Body's one child with `signing.sign_xml(child, key)`, which appends `ds:Signature`
as the last child, signed as if the element were the root (DESIGN §2). zeep serialises the
envelope after the plugins run and exclusive C14N ignores the envelope's namespaces, so the
signature survives the trip.

`ingress` keeps the last response (re-serialised from what zeep parsed) and a verdict on its
signature. Responses may or may not be signed, so nothing fails here: callers and tests read
`last_response.verdict`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import zeep
from lxml import etree

import schemas
import signing

__all__ = ["SOAP_ENV", "ResponseRecord", "SigningPlugin"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_BODY = f"{{{SOAP_ENV}}}Body"
_FAULT = f"{{{SOAP_ENV}}}Fault"
_SIGNATURE = f"{{{schemas.DSIG_NAMESPACE}}}Signature"


@dataclass(frozen=True)
class ResponseRecord:
    """One response as the client saw it."""

    raw: bytes
    """The envelope, serialised again from zeep's parsed tree (comments are dropped by zeep)."""
    operation: str | None
    fault: bool
    verdict: str
    """"valid", "invalid:<SigningError code>", "absent" (no ds:Signature), or "unchecked" (no trust store)."""
    signer: str | None
    """The organisation id (mã định danh) of a valid signature's certificate."""


class SigningPlugin(zeep.Plugin):
    """Sign requests with `key` (None: send them unsigned, for refusal tests); judge responses with `trust`.

    One plugin per client, and one client per thread: `last_request`/`last_response` are per client.
    """

    def __init__(self, key: signing.SigningKey | None, trust: signing.TrustStore | None = None) -> None:
        self._key = key
        self._trust = trust
        self._lock = threading.Lock()
        self._last_request: bytes | None = None
        self._last_response: ResponseRecord | None = None

    @property
    def last_request(self) -> bytes | None:
        """The last envelope sent, as bytes, after signing."""
        with self._lock:
            return self._last_request

    @property
    def last_response(self) -> ResponseRecord | None:
        with self._lock:
            return self._last_response

    def egress(
        self, envelope: etree._Element, http_headers: dict[str, str], operation: Any, binding_options: Any
    ) -> tuple[etree._Element, dict[str, str]]:
        body = envelope.find(_BODY)
        children = [child for child in body if isinstance(child.tag, str)] if body is not None else []
        if body is None or len(children) != 1:
            raise signing.SigningError("the SOAP Body must hold exactly one request element to sign")
        if self._key is not None:
            body.replace(children[0], signing.sign_xml(children[0], self._key))
        with self._lock:
            self._last_request = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        return envelope, http_headers

    def ingress(
        self, envelope: etree._Element, http_headers: dict[str, str], operation: Any
    ) -> tuple[etree._Element, dict[str, str]]:
        body = envelope.find(_BODY)
        children = [child for child in body if isinstance(child.tag, str)] if body is not None else []
        element = children[0] if len(children) == 1 else None
        fault = element is not None and element.tag == _FAULT
        verdict, signer = self._judge(element)
        record = ResponseRecord(
            raw=etree.tostring(envelope, xml_declaration=True, encoding="utf-8"),
            operation=getattr(operation, "name", None),
            fault=fault,
            verdict=verdict,
            signer=signer,
        )
        with self._lock:
            self._last_response = record
        return envelope, http_headers

    def _judge(self, element: etree._Element | None) -> tuple[str, str | None]:
        if element is None or element.find(_SIGNATURE) is None:
            return "absent", None
        if self._trust is None:
            return "unchecked", None
        try:
            verified = signing.verify_xml(element, self._trust)
        except signing.SigningError as exc:
            return f"invalid:{exc.code}", None
        return "valid", verified.organisation_id
