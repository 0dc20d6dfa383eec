"""`ListPetitions` pages judged like receipts, but stricter: what they carry is inbound data.

A receipt may come unsigned (DESIGN §2 leaves that open); a page of petitions may not, since every
petition entering the ministry must be signed by the portal (DESIGN §5), pulled or pushed alike.
So, with a trust store, a page is used only if its signature verifies and its certificate names the
portal; and then only what the signature covers is read: the `PetitionList` element is verified
again from the envelope (`signing.verify_xml` returns the signed content alone, never what was
slipped beside it), and its `Petition` children are serialised one by one for the gateway's inbound
decoder (`PetitionPage`). Without a trust store (development, `PAKN_VERIFY_SIGNATURES=false`) the
element is read as received.

Codes (all `NationalUnavailable`: the portal may answer properly on the next run):
- `Server.ListUnsigned` — the page carries no ds:Signature while signatures are required;
- `Server.ListUnverified` — its signature does not verify (or chain to the trust store);
- `Server.ListSignerMismatch` — it is signed by a certificate that does not name the portal;
- `Server.BadList` — the response is not a `PetitionList`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from lxml import etree

import schemas
import signing
from connectors.soap_signing import SOAP_ENV, ResponseRecord
from gateway.domain.exchange import PetitionPage
from gateway.ports import NationalUnavailable

__all__ = ["OPERATION", "query", "verified_page"]

OPERATION = "ListPetitions"
_NS = schemas.NAMESPACE
_LIST = f"{{{_NS}}}PetitionList"
_PETITION = f"{{{_NS}}}Petition"
_NEXT = f"{{{_NS}}}NextCursor"
_SIGNATURE = f"{{{schemas.DSIG_NAMESPACE}}}Signature"
_VIETNAM = timezone(timedelta(hours=7), "ICT")


def query(*, organ_id: str, since: datetime | None, cursor: str | None, limit: int) -> dict[str, Any]:
    """The ListQuery payload (after `Header`) as zeep takes it; absent values are left out."""
    if since is not None and since.tzinfo is None:
        raise ValueError("Since must carry its offset (the contract's DateTimeWithOffset)")
    payload: dict[str, Any] = {"OrganId": organ_id, "Limit": limit}
    if since is not None:
        payload["Since"] = since.astimezone(_VIETNAM).replace(microsecond=0)
    if cursor is not None:
        payload["Cursor"] = cursor
    return payload


def verified_page(
    response: ResponseRecord | None,
    *,
    trust: signing.TrustStore | None,
    national_id: str,
    message_id: str,
) -> PetitionPage:
    """The page a ListPetitions response holds, if it may be used (see the module docstring)."""
    if response is None:
        raise NationalUnavailable("Server.BadList", "no response was recorded for the ListQuery")
    element = _body_element(response.raw)
    if element is None or element.tag != _LIST:
        raise NationalUnavailable("Server.BadList", "the response is not a PetitionList")
    content = _content(element, response.verdict, trust, national_id)
    petitions = tuple(etree.tostring(child, encoding="utf-8") for child in content.iterchildren(_PETITION))
    cursor = content.findtext(_NEXT)
    next_cursor = cursor.strip() if cursor else None
    return PetitionPage(petitions=petitions, next_cursor=next_cursor, message_id=message_id)


def _content(
    element: etree._Element, verdict: str, trust: signing.TrustStore | None, national_id: str
) -> etree._Element:
    if trust is None:  # nothing to judge with: read it as received, without the signature
        for signature in element.findall(_SIGNATURE):
            element.remove(signature)
        return element
    if verdict == "absent":
        raise NationalUnavailable("Server.ListUnsigned", "the PetitionList carries no signature")
    if verdict != "valid":
        raise NationalUnavailable("Server.ListUnverified", f"the PetitionList's signature is {verdict}")
    try:
        verified = signing.verify_xml(element, trust)
    except signing.SigningError as exc:  # the plugin's verdict was valid: this would be a bug, say so
        raise NationalUnavailable("Server.ListUnverified", f"{exc.code}: {exc}") from exc
    if verified.organisation_id != national_id:
        raise NationalUnavailable(
            "Server.ListSignerMismatch",
            f"the PetitionList is signed by {verified.organisation_id}, not {national_id}",
        )
    return verified.element


def _body_element(raw: bytes) -> etree._Element | None:
    """The Body's one element. `raw` is zeep's own re-serialisation of what its hardened parser read;
    it is parsed again with entities and the network off all the same."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, remove_blank_text=False
    )
    try:
        envelope = etree.fromstring(raw, parser=parser)
    except etree.XMLSyntaxError:
        return None
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    children = [child for child in body if isinstance(child.tag, str)] if body is not None else []
    return children[0] if len(children) == 1 else None
