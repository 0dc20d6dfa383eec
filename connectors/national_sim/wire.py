"""Untrusted bytes in, one request element out; response elements into an envelope.

Hostile input is the default case (DESIGN §5): size, DOCTYPE/ENTITY, network access and depth are
refused before the content is looked at; the Body must hold exactly one element of the contract.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from lxml import etree

import schemas
from connectors.national_sim.faults import SOAP_ENV, SimFault

__all__ = ["envelope", "hardened_parser", "parse_untrusted", "request_element"]

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_UTF8 = (b"utf-8", b"utf8", b"us-ascii")
_local = threading.local()


def hardened_parser() -> etree.XMLParser:
    """One parser per thread (lxml parsers are not shared between threads): no DTD, entities, network."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
        )
        _local.parser = parser
    return parser


def parse_untrusted(raw: bytes, *, max_bytes: int, max_depth: int) -> etree._Element:
    if len(raw) > max_bytes:
        raise SimFault("Client.TooLarge", f"{len(raw)} bytes > limit {max_bytes}")
    declared = _DECLARED_ENCODING.match(raw)
    # The DOCTYPE pre-scan only works on an ASCII-compatible encoding; the contract is UTF-8.
    if (declared and declared.group(1).lower().replace(b"_", b"-") not in _UTF8) or raw.startswith(
        (b"\xff\xfe", b"\xfe\xff")
    ):
        raise SimFault("Client.MalformedXml", "only UTF-8 is accepted")
    if _DOCTYPE.search(raw):
        raise SimFault("Client.ForbiddenDtd", "the document declares a DOCTYPE or ENTITY")
    try:
        root = etree.fromstring(raw, parser=hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise SimFault("Client.MalformedXml", str(exc)[:300]) from exc
    docinfo: Any = root.getroottree().docinfo  # lxml-stubs lack DocInfo.doctype
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SimFault("Client.ForbiddenDtd", "the document carries a DTD")
    _check_depth(root, max_depth)
    return root


def request_element(soap: etree._Element) -> etree._Element:
    """The single element of the Body, in the contract's namespace."""
    if soap.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SimFault("Client.NotSoap", f"the root is {soap.tag}, not a SOAP 1.1 Envelope")
    bodies = [child for child in soap if child.tag == f"{{{SOAP_ENV}}}Body"]
    if len(bodies) != 1:
        raise SimFault("Client.NotSoap", "the envelope must hold exactly one Body")
    children = [child for child in bodies[0] if isinstance(child.tag, str)]
    if len(children) != 1:
        raise SimFault("Client.NotSoap", f"the Body must hold exactly one element, found {len(children)}")
    element = children[0]
    if etree.QName(element).namespace != schemas.NAMESPACE:
        raise SimFault("Client.WrongNamespace", f"got {element.tag}")
    return element


def envelope(payload: etree._Element) -> bytes:
    soap = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(soap, f"{{{SOAP_ENV}}}Body")
    body.append(payload)
    return etree.tostring(soap, xml_declaration=True, encoding="utf-8")


def _check_depth(root: etree._Element, max_depth: int) -> None:
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > max_depth:
            raise SimFault("Client.TooDeep", f"depth > {max_depth}")
        for child in element:
            if isinstance(child, etree._Entity):
                raise SimFault("Client.ForbiddenDtd", "entity reference in content")
            if isinstance(child.tag, str):
                stack.append((child, depth + 1))
