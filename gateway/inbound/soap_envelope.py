"""SOAP 1.1 envelopes: take the one request element out, put a response or a fault in."""

from __future__ import annotations

from lxml import etree

from gateway.inbound.faults import SoapFault

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PAKN_NS = "urn:pakn:exchange:1"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"


def q(name: str) -> str:
    return f"{{{PAKN_NS}}}{name}"


def request_element(envelope: etree._Element) -> etree._Element:
    """The single element of the Body; anything else is refused (DESIGN §2)."""
    if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapFault("Client.NotSoap", f"root is {envelope.tag}, expected a SOAP 1.1 Envelope")
    bodies = [c for c in envelope if c.tag == f"{{{SOAP_ENV}}}Body"]
    if len(bodies) != 1:
        raise SoapFault("Client.NotSoap", "envelope must hold exactly one Body")
    children = [c for c in bodies[0] if isinstance(c.tag, str)]
    if len(children) != 1:
        raise SoapFault("Client.NotSoap", f"Body must hold exactly one element, found {len(children)}")
    element = children[0]
    if etree.QName(element).namespace != PAKN_NS:
        raise SoapFault("Client.WrongNamespace", f"got {element.tag}")
    return element


def detach(element: etree._Element) -> bytes:
    """The request element as a document of its own: what was signed (DESIGN §2)."""
    return etree.tostring(element, encoding="utf-8")


def envelope_bytes(payload: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    body.append(payload)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def fault_bytes(fault: SoapFault) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    el = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    # faultcode is a QName: the soap: prefix qualifies the standard Client/Server class.
    etree.SubElement(el, "faultcode").text = f"soap:{fault.code}"
    etree.SubElement(el, "faultstring").text = fault.faultstring
    detail = etree.SubElement(el, "detail")
    code = etree.SubElement(detail, q("ErrorCode"), nsmap={"p": PAKN_NS})
    code.text = fault.code
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")
