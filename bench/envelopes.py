"""Signed `SubmitPetition` envelopes made before the clock starts, so that the load generator's own
signing does not eat the CPU the gateway is measured on.

Each envelope is what the simulator's `MinistryClient` sends: zeep builds the request from the
gateway's WSDL in `schemas/`, the national portal's key signs the `PetitionMessage` (enveloped
XML-DSig, as `connectors.soap_signing.SigningPlugin` does), with a fresh MessageId.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

import schemas
import signing
from connectors.national_sim.generator import generate_petitions
from connectors.national_sim.ministry_client import GOVERNMENT_OFFICE, MOLISA, message_header
from connectors.soap_signing import SOAP_ENV, build_signed_client

_BODY = f"{{{SOAP_ENV}}}Body"


@dataclass(frozen=True)
class Envelope:
    petition_id: str
    body: bytes
    attachments: int


def signed_envelopes(
    key: signing.SigningKey,
    count: int,
    *,
    seed: int = 7,
    attachment_ratio: float = 0.25,
    prefix: str = "BENCH",
) -> list[Envelope]:
    """`count` generated Vietnamese petitions, each in its own signed envelope."""
    client, proxy, _plugin = build_signed_client(
        schemas.ministry_wsdl_path(), key=None, trust=None, address="http://127.0.0.1:9/soap/pakn"
    )
    out = []
    for petition in generate_petitions(count, seed=seed, attachment_ratio=attachment_ratio, prefix=prefix):
        out.append(
            Envelope(petition["PetitionId"], sign_request(client, proxy, key, petition), _files(petition))
        )
    return out


def sign_request(client: Any, proxy: Any, key: signing.SigningKey, petition: dict[str, Any]) -> bytes:
    header = message_header(GOVERNMENT_OFFICE, MOLISA)
    envelope = client.create_message(proxy, "SubmitPetition", Header=header, Petition=petition)
    body = envelope.find(_BODY)
    request = body[0]
    body.replace(request, signing.sign_xml(request, key))
    data: bytes = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    return data


def _files(petition: dict[str, Any]) -> int:
    return len(petition.get("Attachments", {}).get("Attachment", []))
