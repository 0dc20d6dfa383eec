"""Detached signatures over short canonical statements (the message log's checkpoints).

A few bytes need no XML envelope: RSA PKCS#1 v1.5 or ECDSA (DER), both with SHA-256, by the same
keys XML-DSig uses, and the signer's certificate checked against the trust store with the same
policies as :func:`signing.verify_xml`, so one trust decision covers both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from signing.errors import SignatureInvalid, SigningError
from signing.keys import SigningKey, TrustStore, _utc
from signing.xml_dsig import _certificate_failure, _TrustStoreChainVerifier

__all__ = ["sign_statement", "verify_statement"]


def sign_statement(statement: bytes, key: SigningKey) -> bytes:
    """A detached signature of ``statement`` by ``key`` (RSA-SHA256 PKCS#1 v1.5, or ECDSA-SHA256 DER)."""
    try:
        if isinstance(key.private_key, rsa.RSAPrivateKey):
            return key.private_key.sign(statement, padding.PKCS1v15(), hashes.SHA256())
        return key.private_key.sign(statement, ec.ECDSA(hashes.SHA256()))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningError(f"signing the statement failed: {exc}") from exc


def verify_statement(
    statement: bytes,
    signature: bytes,
    certificate: x509.Certificate,
    trust: TrustStore,
    *,
    chain: Sequence[x509.Certificate] = (),
    now: datetime | None = None,
) -> None:
    """Check ``signature`` over ``statement`` by ``certificate``, which must chain to ``trust`` at ``now``.

    ``now`` (default: the current time) is when the certificate must have been valid: pass the
    statement's own signing time to verify an old checkpoint after its certificate expired.
    Raises SignatureInvalid, CertificateUntrusted or CertificateExpired.
    """
    moment = _utc(now)
    public_key = certificate.public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, statement, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, statement, ec.ECDSA(hashes.SHA256()))
        else:
            raise SignatureInvalid(f"unsupported signer key type {type(public_key).__name__}")
    except InvalidSignature as exc:
        raise SignatureInvalid("the signature does not match the statement and the certificate") from exc
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SignatureInvalid(f"unreadable signature: {exc}") from exc
    # The leaf is fixed (signxml's verify() would also try the chain reversed, i.e. trust another
    # certificate than the one whose key just verified the signature).
    verifier = _TrustStoreChainVerifier(trust, moment).verifier
    try:
        verifier.verify(leaf=certificate, intermediates=list(chain))
    except x509.verification.VerificationError as exc:
        raise _certificate_failure([certificate, *chain], trust, moment, exc) from exc
