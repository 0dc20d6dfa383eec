"""A local RFC 3161 timestamp authority over real HTTP, for PAdES B-T tests.

A Starlette app answers ``application/timestamp-query`` POSTs with pyHanko's ``DummyTimeStamper``,
signing as a TSA certificate issued here by the test's CA. The certificate carries what validators
demand of a TSA: extended key usage timeStamping, marked critical (RFC 3161 §2.3), and the usual
KeyUsage, BasicConstraints and key identifiers. ``with running_tsa(ca_cert, ca_key) as tsa:`` serves it
on 127.0.0.1 through ``serve_in_thread``; ``tsa.url`` goes to ``sign_pdf(tsa_url=…)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from signing.keys import PrivateKey
from tests.support.live_server import serve_in_thread

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_QUERY_BYTES = 64 * 1024


@dataclass
class LocalTsa:
    url: str
    certificate: x509.Certificate
    requests: list[bytes] = field(default_factory=list)
    """Every well-formed query received, in order (a test can prove the TSA was really asked)."""


def issue_tsa_certificate(
    ca_cert: x509.Certificate, ca_key: PrivateKey, *, name: str = "PAKN Test Timestamp Authority"
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """An RSA key and a TSA certificate from the CA (DummyTimeStamper signs with RSA PKCS#1 v1.5)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                    x509.NameAttribute(NameOID.COMMON_NAME, name),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, certificate


def tsa_app(stamper: DummyTimeStamper, received: list[bytes]) -> Starlette:
    async def timestamp(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != QUERY_TYPE:
            return PlainTextResponse(f"expected {QUERY_TYPE}", status_code=415)
        body = await request.body()
        if len(body) > MAX_QUERY_BYTES:
            return PlainTextResponse("query too large", status_code=413)
        try:
            query = tsp.TimeStampReq.load(body)
            query.native  # noqa: B018 - parse it all now: asn1crypto parses lazily
        except ValueError:
            return PlainTextResponse("not a DER TimeStampReq", status_code=400)
        received.append(body)
        reply = await stamper.async_request_tsa_response(query)
        return Response(reply.dump(), media_type=REPLY_TYPE)

    return Starlette(routes=[Route("/tsa", timestamp, methods=["POST"])])


@contextmanager
def running_tsa(ca_cert: x509.Certificate, ca_key: PrivateKey) -> Iterator[LocalTsa]:
    key, certificate = issue_tsa_certificate(ca_cert, ca_key)
    asn1_certificate = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    stamper = DummyTimeStamper(
        tsa_cert=asn1_certificate,
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        certs_to_embed=SimpleCertificateStore.from_certs([asn1_certificate]),
    )
    received: list[bytes] = []
    with serve_in_thread(tsa_app(stamper, received)) as base_url:
        yield LocalTsa(url=f"{base_url}/tsa", certificate=certificate, requests=received)
