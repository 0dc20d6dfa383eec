"""Enveloped XML-DSig over one contract element, as the national contract (DESIGN §2) describes.

The signed document is the request element on its own: ``Reference URI=""``, enveloped-signature
transform then exclusive C14N, SHA-256 digest, RSA-SHA256 or ECDSA-SHA256, the X.509 certificate in
``KeyInfo``, ``ds:Signature`` as the element's last child. Exclusive C14N is what lets the element be
embedded in a SOAP Body and detached again: namespaces inherited from the envelope are not signed.

Verification pins everything the contract allows and nothing more, then hands back only what
signxml says was signed (``VerifyResult.signed_xml``), so wrapped or injected content never reaches
the caller.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.exceptions import InvalidCertificate, InvalidSignature, SignXMLException
from signxml.signer import XMLSigner
from signxml.util import X509CertChainVerifier
from signxml.verifier import SignatureConfiguration, XMLVerifier

from signing.errors import (
    CertificateExpired,
    CertificateUntrusted,
    SignatureInvalid,
    SignatureMissing,
    SigningError,
)
from signing.keys import SigningKey, TrustStore, _utc, organisation_id

__all__ = ["VerifiedXml", "sign_xml", "verify_xml"]

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_SIGNATURE_TAG = f"{{{DS_NS}}}Signature"
_NS = {"ds": DS_NS}

_ALLOWED_SIGNATURE_METHODS = frozenset({SignatureMethod.RSA_SHA256, SignatureMethod.ECDSA_SHA256})
_ALLOWED_DIGESTS = frozenset({DigestAlgorithm.SHA256})
_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
_TRANSFORMS = (SignatureConstructionMethod.enveloped.value, _C14N.value)
_EXPECT = SignatureConfiguration(
    require_x509=True,
    location="./",  # the Signature is a direct child of the root, nowhere else
    expect_references=1,
    signature_methods=_ALLOWED_SIGNATURE_METHODS,
    digest_algorithms=_ALLOWED_DIGESTS,
)
_ID_ATTRIBUTES = ("Id", "ID")  # signxml turns these into Reference URI="#…" instead of URI=""


@dataclass(frozen=True)
class VerifiedXml:
    """What a verified document may be used for: only the signed content, and who signed it."""

    element: etree._Element
    """The signed element as signxml re-read it from the digested bytes, without the Signature."""
    certificate: x509.Certificate
    organisation_id: str | None
    algorithm: str
    """The SignatureMethod algorithm URI, e.g. ``http://www.w3.org/2001/04/xmldsig-more#rsa-sha256``."""


def sign_xml(element: etree._Element, key: SigningKey) -> etree._Element:
    """Sign ``element`` as if it were the root of its own document; return the new signed root.

    The input is not modified. Text and attribute values are normalised to Unicode NFC first, so that
    Vietnamese text signs the same whichever way it was composed.
    """
    _check_validity(key.certificate, _utc(None))
    if any(element.get(name) is not None for name in _ID_ATTRIBUTES):
        raise SigningError('the element to sign must carry no Id/ID attribute (the contract signs URI="")')
    document = _parse(etree.tostring(element, with_tail=False))
    if any(True for _ in document.iter(_SIGNATURE_TAG)):
        raise SigningError("the element already contains a ds:Signature")
    _normalise_nfc(document)
    method = (
        SignatureMethod.RSA_SHA256
        if isinstance(key.private_key, rsa.RSAPrivateKey)
        else SignatureMethod.ECDSA_SHA256
    )
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=method,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=_C14N,
    )
    signer._parser = _parser()  # type: ignore[assignment]  # signxml re-parses; see _parser()
    try:
        signed: etree._Element = signer.sign(
            document, key=key.private_key, cert=[key.certificate, *key.chain]
        )
    except (SignXMLException, ValueError, TypeError) as exc:
        raise SigningError(f"signing failed: {exc}") from exc
    references = signed.findall("ds:Signature/ds:SignedInfo/ds:Reference", _NS)
    if len(references) != 1 or references[0].get("URI") != "":
        raise SigningError('signxml did not produce a single Reference URI=""')
    return signed


def verify_xml(
    data: bytes | etree._Element, trust: TrustStore, *, now: datetime | None = None
) -> VerifiedXml:
    """Verify an enveloped signature by a certificate chaining to ``trust``; return only the signed content.

    ``now`` (default: the current time; a naive value is taken as UTC) is when certificates must be valid.
    """
    moment = _utc(now)
    root = (
        _parse(bytes(data))
        if isinstance(data, bytes | bytearray)
        else _parse(etree.tostring(data, with_tail=False))
    )
    signature = _the_signature(root)
    method = _check_signed_info(signature)
    certificates = _key_info_certificates(signature)

    verifier = _TrustStoreVerifier(trust)
    try:
        result = verifier.verify(
            root,
            parser=_parser(),
            expect_config=replace(_EXPECT, verification_time=moment),
        )
    except InvalidCertificate as exc:
        raise _certificate_failure(certificates, trust, moment, exc) from exc
    except (SignXMLException, InvalidSignature, etree.LxmlError, ValueError, TypeError) as exc:
        raise SignatureInvalid(f"signature verification failed: {exc}") from exc
    if isinstance(result, list) or result.signed_xml is None:
        raise SignatureInvalid("the signed content is not a single XML element")

    signer = _signer_certificate(certificates, result.signature_key)
    return VerifiedXml(
        element=result.signed_xml,
        certificate=signer,
        organisation_id=organisation_id(signer),
        algorithm=method,
    )


class _TrustStoreChainVerifier(X509CertChainVerifier):
    """signxml's chain verifier and policies, but with the trust store in memory instead of a PEM file."""

    def __init__(self, trust: TrustStore, verification_time: datetime, **policies: object) -> None:
        # os.devnull: should signxml ever read the file, it finds no CA and fails closed (never certifi).
        super().__init__(  # type: ignore[no-untyped-call]
            ca_pem_file=os.devnull, verification_time=verification_time, **policies
        )
        self._trust = trust

    @property
    def store(self) -> x509.verification.Store:
        return self._trust.store()


class _TrustStoreVerifier(XMLVerifier):
    """An XMLVerifier that can only trust the given trust store."""

    def __init__(self, trust: TrustStore) -> None:
        super().__init__()
        self._trust = trust
        # signxml re-parses the document with its own default parser, which refuses text nodes
        # over 10 MB (a large base64 attachment); ours is as strict on DTDs and entities.
        self._parser = _parser()  # type: ignore[assignment]  # signxml types it as None

    def get_cert_chain_verifier(
        self, ca_pem_file: object, ee_policy: object, ca_policy: object
    ) -> _TrustStoreChainVerifier:
        policies = {"ee_policy": ee_policy, "ca_policy": ca_policy}
        moment: datetime = self._get_cert_verification_time()  # type: ignore[no-untyped-call]
        return _TrustStoreChainVerifier(self._trust, moment, **policies)


_local = threading.local()


def _parser() -> etree.XMLParser:
    """A hardened parser (one per thread: lxml parsers must not be shared between threads)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            attribute_defaults=False,
            # libxml2 refuses text nodes over 10 MB without huge_tree, and a base64 attachment in a
            # 20 MiB message can be larger. The limits huge_tree lifts guard against entity
            # expansion, which this parser never performs (no DTD, entities unresolved and refused).
            huge_tree=True,
        )
        _local.parser = parser
    return parser


def _parse(data: bytes) -> etree._Element:
    """Parse untrusted bytes; DTDs and entity references are refused outright."""
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise SignatureInvalid(f"not well-formed XML: {exc}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:  # set for any DOCTYPE
        raise SignatureInvalid("a DTD is not allowed in a signed message")
    if any(True for _ in root.iter(etree.Entity)):
        raise SignatureInvalid("entity references are not allowed in a signed message")
    return root


def _the_signature(root: etree._Element) -> etree._Element:
    """The one ds:Signature, a direct child of the root with no element after it."""
    signatures = list(root.iter(_SIGNATURE_TAG))
    if not signatures:
        raise SignatureMissing("the message carries no ds:Signature")
    if len(signatures) > 1:
        raise SignatureInvalid(f"exactly one ds:Signature is allowed, found {len(signatures)}")
    signature = signatures[0]
    if signature.getparent() is not root:
        raise SignatureInvalid("ds:Signature must be a direct child of the root element")
    if any(isinstance(sibling.tag, str) for sibling in signature.itersiblings()):
        raise SignatureInvalid("ds:Signature must be the last element of the message")
    return signature


def _check_signed_info(signature: etree._Element) -> str:
    """Refuse anything but the contract's algorithms and one Reference URI=""; return the signature method."""
    signed_info = signature.find("ds:SignedInfo", _NS)
    if signed_info is None:
        raise SignatureInvalid("ds:SignedInfo is missing")
    c14n = signed_info.find("ds:CanonicalizationMethod", _NS)
    if c14n is None or c14n.get("Algorithm") != _C14N.value:
        raise SignatureInvalid(f"SignedInfo must be canonicalised with exclusive C14N ({_C14N.value})")
    method_node = signed_info.find("ds:SignatureMethod", _NS)
    method = method_node.get("Algorithm", "") if method_node is not None else ""
    if method not in {m.value for m in _ALLOWED_SIGNATURE_METHODS}:
        raise SignatureInvalid(f"signature method {method or '(none)'} is not allowed")
    references = signed_info.findall("ds:Reference", _NS)
    if len(references) != 1:
        raise SignatureInvalid(f"exactly one ds:Reference is allowed, found {len(references)}")
    reference = references[0]
    if reference.get("URI") != "":
        raise SignatureInvalid('the ds:Reference must be URI="" (the whole message)')
    transforms = tuple(t.get("Algorithm") for t in reference.findall("ds:Transforms/ds:Transform", _NS))
    if transforms != _TRANSFORMS:
        raise SignatureInvalid("the Reference transforms must be enveloped-signature then exclusive C14N")
    digest = reference.find("ds:DigestMethod", _NS)
    if digest is None or digest.get("Algorithm") not in {d.value for d in _ALLOWED_DIGESTS}:
        raise SignatureInvalid("the Reference digest must be SHA-256")
    return method


def _key_info_certificates(signature: etree._Element) -> list[x509.Certificate]:
    nodes = signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", _NS)
    if not nodes:
        raise SignatureInvalid("ds:KeyInfo must carry the signer's X509Certificate")
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(node.text or "")) for node in nodes]
    except (ValueError, binascii.Error) as exc:
        raise SignatureInvalid("an X509Certificate in KeyInfo cannot be read") from exc


def _signer_certificate(certificates: list[x509.Certificate], signature_key: bytes) -> x509.Certificate:
    """The KeyInfo certificate whose public key signxml used to check the signature."""
    for cert in certificates:
        pem = cert.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if pem == signature_key:
            return cert
    raise SignatureInvalid("no KeyInfo certificate holds the key that verified the signature")


def _certificate_failure(
    certificates: list[x509.Certificate], trust: TrustStore, moment: datetime, exc: Exception
) -> SigningError:
    """Tell an expired (or not yet valid) but otherwise trusted chain from an untrusted one."""
    if any(not _valid_at(cert, moment) for cert in certificates):
        for leaf in certificates:
            inside = leaf.not_valid_before_utc + (leaf.not_valid_after_utc - leaf.not_valid_before_utc) / 2
            others = [cert for cert in certificates if cert is not leaf]
            try:
                _TrustStoreChainVerifier(trust, inside).verify([leaf, *others])  # type: ignore[no-untyped-call]
            except InvalidCertificate:
                continue
            return CertificateExpired(
                f"the signer certificate is not valid at {moment.isoformat()} (valid "
                f"{leaf.not_valid_before_utc.isoformat()} to {leaf.not_valid_after_utc.isoformat()})"
            )
    return CertificateUntrusted(f"the signer certificate does not chain to the trust store: {exc}")


def _check_validity(cert: x509.Certificate, moment: datetime) -> None:
    if not _valid_at(cert, moment):
        raise CertificateExpired(
            f"the signing certificate is not valid now (valid {cert.not_valid_before_utc.isoformat()}"
            f" to {cert.not_valid_after_utc.isoformat()})"
        )


def _valid_at(cert: x509.Certificate, moment: datetime) -> bool:
    return cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc


def _normalise_nfc(root: etree._Element) -> None:
    for node in root.iter():
        if isinstance(node.tag, str):  # elements; comments and processing instructions are not signed
            node.text = _nfc(node.text)
            for name, value in node.attrib.items():
                text = str(value)
                if not unicodedata.is_normalized("NFC", text):
                    node.set(name, unicodedata.normalize("NFC", text))
        if node is not root:
            node.tail = _nfc(node.tail)


def _nfc(text: str | None) -> str | None:
    if text is None or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)
