"""Signed (or deliberately broken) SubmitPetition envelopes, built by zeep from the contract WSDL."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import zeep
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

import schemas
import signing
from connectors.national_sim.ministry_client import message_header

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PAKN = "urn:pakn:exchange:1"
NS = {"p": PAKN, "soap": SOAP_ENV, "ds": "http://www.w3.org/2000/09/xmldsig#"}


@functools.cache
def _client() -> Any:
    return zeep.Client(str(schemas.ministry_wsdl_path()))


def envelope(
    petition: dict[str, Any],
    *,
    key: signing.SigningKey | None,
    sender: str = "000.00.00.G22",
    recipient: str = "000.00.00.G07",
    after_signing: Callable[[etree._Element], None] | None = None,
    signer: Callable[[etree._Element], etree._Element] | None = None,
) -> bytes:
    client = _client()
    header = message_header(sender, recipient)
    env = client.create_message(client.service, "SubmitPetition", Header=header, Petition=petition)
    body = env.find("soap:Body", NS)
    request = body[0]
    sign = signer or (lambda el: signing.sign_xml(el, key) if key else el)
    signed = sign(request)
    body.replace(request, signed)
    if after_signing is not None:
        after_signing(signed)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def signed_with_expired_certificate(pki: signing.pki.DevPki) -> Callable[[etree._Element], etree._Element]:
    """signing.sign_xml refuses an expired certificate, so a peer with one is played by signxml itself."""
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    now = datetime.now(UTC)
    key, cert = signing.pki.issue_certificate(
        ca_cert,
        ca_key,  # type: ignore[arg-type]
        organisation_id="000.00.00.G22",
        name="Văn phòng Chính phủ",
        # expired a minute ago, issued while the CA was valid: expired, not untrusted
        not_before=ca_cert.not_valid_before_utc,
        not_after=now - timedelta(minutes=1),
    )

    def sign(element: etree._Element) -> etree._Element:
        standalone = etree.fromstring(etree.tostring(element))
        signer = XMLSigner(
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        pem = cert.public_bytes(serialization.Encoding.PEM)
        signed: etree._Element = signer.sign(standalone, key=key, cert=[pem])
        return signed

    return sign


def foreign_signer() -> signing.SigningKey:
    """A key for the national portal's organisation id, certified by a CA nobody trusts."""
    now = datetime.now(UTC)
    ca_key, ca_cert = signing.pki.create_ca(
        name="CA lạ", not_before=now - timedelta(days=1), not_after=now + timedelta(days=30)
    )
    key, cert = signing.pki.issue_certificate(
        ca_cert,
        ca_key,
        organisation_id="000.00.00.G22",
        name="Văn phòng Chính phủ",
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=30),
    )
    return signing.SigningKey(private_key=key, certificate=cert, chain=(ca_cert,))


def replace_text(path: str, value: str) -> Callable[[etree._Element], None]:
    def mutate(element: etree._Element) -> None:
        node = element.find(path, NS)
        assert node is not None, path
        node.text = value

    return mutate
