"""Who signed the request, and exactly what they signed: the rest of the gateway only ever sees
the element the verifier returns, so content slipped in beside the signature is never used."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

import signing
from gateway.inbound.faults import CATALOGUE, SoapFault
from gateway.inbound.soap_envelope import DSIG_NS
from gateway.inbound.xml_guard import hardened_parser


@dataclass(frozen=True)
class CheckedRequest:
    element: etree._Element
    verdict: str  # "valid" | "not-checked"
    signer: str | None  # organisation id (mã định danh) from the certificate


class SignatureCheck:
    def __init__(self, trust: signing.TrustStore | None, *, enabled: bool) -> None:
        if enabled and trust is None:
            raise ValueError("signature verification needs a trust store")
        self._trust = trust
        self._enabled = enabled

    def __call__(self, detached: bytes) -> CheckedRequest:
        if not self._enabled or self._trust is None:
            element = etree.fromstring(detached, parser=hardened_parser())
            for sig in element.findall(f"{{{DSIG_NS}}}Signature"):
                element.remove(sig)
            return CheckedRequest(element, "not-checked", None)
        try:
            verified = signing.verify_xml(detached, self._trust)
        except signing.SigningError as exc:
            code = f"Client.{exc.code}"
            raise SoapFault(code if code in CATALOGUE else "Client.SignatureInvalid", str(exc)[:300]) from exc
        return CheckedRequest(verified.element, "valid", verified.organisation_id)
