"""The national portal's client of `MinistryExchange`: what pushes petitions into the gateway.

Built once from the WSDL the gateway serves (`http://HOST:PORT/soap/pakn?wsdl`), so a test also
proves the gateway's served contract is usable. Every request carries a fresh `Header` (MessageId
uuid4, From national, To ministry, SentAt now at +07:00) unless the caller fixes the MessageId to
test idempotency. SOAP faults propagate as `zeep.exceptions.Fault`; the caller reads `.code` (e.g.
"soap:Client.SchemaInvalid") and `.message`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import signing
from connectors.national_sim.vn_time import now
from connectors.soap_signing import ResponseRecord, SigningPlugin, build_client

__all__ = ["GOVERNMENT_OFFICE", "MOLISA", "MinistryClient", "Receipt", "message_header"]

GOVERNMENT_OFFICE = "000.00.00.G22"
"""Văn phòng Chính phủ: the organisation that runs the national portal."""
SERVICE = "MinistryExchange"
MOLISA = "000.00.00.G07"
"""Bộ Lao động - Thương binh và Xã hội: the ministry of the default configuration."""


@dataclass(frozen=True)
class Receipt:
    """The gateway's `Receipt`, with the contract's field names, and what the client made of its signature."""

    MessageId: str
    ReceiptId: str
    Accepted: bool
    Duplicate: bool
    ErrorCode: str | None
    ErrorText: str | None
    signature_verdict: str
    """See `ResponseRecord.verdict`: valid, invalid:<code>, absent or unchecked."""

    @classmethod
    def from_zeep(cls, value: Any, response: ResponseRecord | None) -> Receipt:
        return cls(
            MessageId=str(value.MessageId),
            ReceiptId=str(value.ReceiptId),
            Accepted=bool(value.Accepted),
            Duplicate=bool(value.Duplicate),
            ErrorCode=value.ErrorCode,
            ErrorText=value.ErrorText,
            signature_verdict=response.verdict if response else "absent",
        )


def message_header(
    sender: str, recipient: str, *, message_id: str | None = None, correlation_id: str | None = None
) -> dict[str, Any]:
    """A contract `Header` as a zeep dict; SentAt is now, to the millisecond, at +07:00."""
    header: dict[str, Any] = {
        "MessageId": message_id or str(uuid.uuid4()),
        "From": sender,
        "To": recipient,
        "SentAt": now(),
    }
    if correlation_id is not None:
        header["CorrelationId"] = correlation_id
    return header


class MinistryClient:
    """Signed calls to the gateway's `MinistryExchange`. Not thread-safe: one per thread."""

    def __init__(
        self,
        wsdl_url: str,
        key: signing.SigningKey | None,
        *,
        national_id: str = GOVERNMENT_OFFICE,
        ministry_id: str = MOLISA,
        timeout: float = 30.0,
        trust: signing.TrustStore | None = None,
    ) -> None:
        self.national_id = national_id
        self.ministry_id = ministry_id
        self.plugin = SigningPlugin(key, trust)
        self.client = build_client(wsdl_url, plugins=[self.plugin], timeout=timeout)
        services = list(self.client.wsdl.services)
        if services != [SERVICE]:
            raise ValueError(f"{wsdl_url} describes {services}, not the gateway's {SERVICE}")
        self._service = self.client.bind(SERVICE, f"{SERVICE}Port")

    @property
    def last_response(self) -> ResponseRecord | None:
        return self.plugin.last_response

    def header(self, *, message_id: str | None = None, correlation_id: str | None = None) -> dict[str, Any]:
        return message_header(
            self.national_id, self.ministry_id, message_id=message_id, correlation_id=correlation_id
        )

    def submit_petition(
        self, petition: dict[str, Any], *, message_id: str | None = None, correlation_id: str | None = None
    ) -> Receipt:
        header = self.header(message_id=message_id, correlation_id=correlation_id)
        return self._receipt(self._service.SubmitPetition(Header=header, Petition=petition))

    def submit_update(
        self, update: dict[str, Any], *, message_id: str | None = None, correlation_id: str | None = None
    ) -> Receipt:
        """`update` is a `PetitionUpdate` dict: PetitionId, Action (SUPPLEMENT|WITHDRAW), Content, At…"""
        header = self.header(message_id=message_id, correlation_id=correlation_id)
        return self._receipt(self._service.SubmitPetitionUpdate(Header=header, PetitionUpdate=update))

    def submit_feedback(
        self, feedback: dict[str, Any], *, message_id: str | None = None, correlation_id: str | None = None
    ) -> Receipt:
        """`feedback` is a `Feedback` dict: PetitionId, AnswerId, Rating 1-5, optional Comment, At."""
        header = self.header(message_id=message_id, correlation_id=correlation_id)
        return self._receipt(self._service.SubmitFeedback(Header=header, Feedback=feedback))

    def petition_status(self, petition_id: str, *, message_id: str | None = None) -> Any:
        """The zeep `StatusReport`: PetitionId, StatusCode, History.Status (a list, possibly empty)."""
        return self._service.GetPetitionStatus(
            Header=self.header(message_id=message_id), PetitionId=petition_id
        )

    def _receipt(self, value: Any) -> Receipt:
        return Receipt.from_zeep(value, self.plugin.last_response)
