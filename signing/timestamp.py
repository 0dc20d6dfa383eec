"""RFC 3161 timestamps over arbitrary bytes (the message log's checkpoint signatures).

A token proves that the bytes existed at the authority's ``genTime``, independently of the gateway's
clock and of its key. pyHanko already talks to timestamp authorities for PAdES B-T; this module
reuses its client (POST ``application/timestamp-query``, nonce checked) and its token validation,
offline: the authority's certificate must chain to the given trust store, nothing is fetched.
Both functions are asynchronous because pyHanko's are.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import aiohttp
from asn1crypto import cms, tsp  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from signing.errors import CertificateUntrusted, SignatureInvalid, TimestampError
from signing.keys import TrustStore

__all__ = ["request_timestamp", "verify_timestamp"]

_DIGEST = "sha256"
DEFAULT_TIMEOUT = 15.0  # seconds for one request to the authority


async def request_timestamp(data: bytes, tsa_url: str, *, wait_seconds: float = DEFAULT_TIMEOUT) -> bytes:
    """A DER timestamp token (CMS ContentInfo) from ``tsa_url`` over SHA-256 of ``data``."""
    stamper = HTTPTimeStamper(tsa_url, timeout=max(1, round(wait_seconds)))
    try:
        token = await stamper.async_timestamp(hashlib.sha256(data).digest(), _DIGEST)
    except (OSError, TimeoutError, aiohttp.ClientError, ValueError) as exc:  # OSError: TimestampRequestError
        raise TimestampError(f"timestamp authority {tsa_url} gave no token: {exc}") from exc
    der: bytes = token.dump()
    return der


async def verify_timestamp(token: bytes, data: bytes, trust: TrustStore) -> datetime:
    """Check that ``token`` stamps SHA-256 of ``data`` and is signed by an authority ``trust`` reaches;
    return the authority's time. The chain is checked at that time, so old tokens stay verifiable."""
    try:
        content = cms.ContentInfo.load(token)
        signed_data = content["content"]
        tst_info = signed_data["encap_content_info"]["content"].parsed
        if content["content_type"].native != "signed_data" or not isinstance(tst_info, tsp.TSTInfo):
            raise ValueError("not a signed TSTInfo")
        gen_time: datetime = tst_info["gen_time"].native
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SignatureInvalid(f"not a readable timestamp token: {exc}") from exc
    context = ValidationContext(
        trust_roots=[_asn1(cert) for cert in trust.certificates],
        allow_fetching=False,
        revocation_mode="soft-fail",
        moment=gen_time,
    )
    expected = hashlib.sha256(data).digest()
    try:
        kwargs = await validate_tst_signed_data(
            signed_data, context, lambda algorithm: expected if algorithm == _DIGEST else b""
        )
    except (SignatureValidationError, ValueError, KeyError, TypeError) as exc:
        raise SignatureInvalid(f"the timestamp token does not verify: {exc}") from exc
    status = TimestampSignatureStatus(**kwargs)
    if not status.intact:
        raise SignatureInvalid("the timestamp token does not cover these bytes")
    if not status.valid:
        raise SignatureInvalid("the timestamp token's signature is not valid")
    if not status.trusted:
        raise CertificateUntrusted("the timestamp authority does not chain to the trust store")
    return gen_time


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
