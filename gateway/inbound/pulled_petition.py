"""A petition pulled with `ListPetitions`, decoded exactly as a pushed one: limits, XSD, `petition_xml`.

The national client has checked the page's signature and hands over each signed `Petition` element
on its own. Each is held to the same rules as a `SubmitPetition` (hostile-XML limits, the XSD, strict
base64 and the attachments' Size and Sha256), one by one, so a broken petition is refused alone, with
the fault code a push of it would get, and the rest of the page still comes in. The XSD's only
global element holding a `Petition` is `PetitionList`: each is validated as a list of one.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from gateway.domain.errors import DomainError
from gateway.domain.petition import Petition
from gateway.inbound import petition_xml
from gateway.inbound.faults import SoapFault
from gateway.inbound.soap_envelope import q
from gateway.inbound.xml_guard import parse_untrusted

__all__ = ["PulledPetitionDecoder", "petition_id_of"]


class PulledPetitionDecoder:
    """`decoder(raw)` → the domain Petition, or a `SoapFault`. One per user: lxml schemas keep state."""

    def __init__(self, schema: etree.XMLSchema, *, max_bytes: int, max_depth: int) -> None:
        self._schema = schema
        self._max_bytes = max_bytes
        self._max_depth = max_depth

    def __call__(self, raw: bytes) -> Petition:
        element = parse_untrusted(raw, max_bytes=self._max_bytes, max_depth=self._max_depth)
        if element.tag != q("Petition"):
            raise SoapFault("Client.SchemaInvalid", f"expected a Petition, not {element.tag}")
        holder = etree.Element(q("PetitionList"))
        holder.append(element)
        try:
            valid = self._schema.validate(holder)
        except etree.XMLSchemaValidateError as exc:  # libxml2 gives up on some huge values
            raise SoapFault("Client.SchemaInvalid", str(exc)[:400]) from exc
        if not valid:
            # lxml-stubs do not type the error log; its entries carry line and message
            first: Any = next(iter(self._schema.error_log), None)  # type: ignore[call-overload]
            raise SoapFault("Client.SchemaInvalid", (first.message if first else "schema violation")[:400])
        try:
            return petition_xml.petition(holder)
        except (ValueError, DomainError) as exc:  # an enum or number the XSD let through
            raise SoapFault("Client.InvalidPetition", str(exc)[:400]) from exc


def petition_id_of(raw: bytes) -> str:
    """The PetitionId a listed petition claims, for the report of one that could not be decoded."""
    try:
        peek = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
        element = etree.fromstring(raw, parser=peek)
    except etree.XMLSyntaxError:
        return "?"
    found = element.findtext(q("PetitionId"))
    return found.strip() if found and found.strip() else "?"
