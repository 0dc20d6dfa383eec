"""Signing keys and trust stores, loaded once at start.

signxml re-parses a PEM key on every call if given bytes (about 40 times slower), so the gateway loads
a :class:`SigningKey` once and passes the objects around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from signing.errors import KeyLoadError

__all__ = [
    "PrivateKey",
    "SigningKey",
    "TrustStore",
    "certificate_days_left",
    "load_pem_key",
    "load_pkcs12",
    "organisation_id",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
"""The key types XML-DSig signing supports here: RSA (RSA-SHA256) and EC (ECDSA-SHA256)."""

_MIN_RSA_BITS = 2048
_EC_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)


@dataclass(frozen=True)
class SigningKey:
    """A private key with its certificate and the intermediates to send along (leaf first, no root needed)."""

    private_key: PrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        _check_key_type(self.private_key)
        if not _same_public_key(self.private_key, self.certificate):
            raise KeyLoadError("the private key does not match the certificate's public key")


@dataclass(frozen=True)
class TrustStore:
    """The CA certificates a signer's chain must reach; nothing else is trusted (never the web CAs)."""

    certificates: tuple[x509.Certificate, ...]
    _store: x509.verification.Store = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.certificates:
            raise KeyLoadError("a trust store needs at least one CA certificate")
        object.__setattr__(self, "_store", x509.verification.Store(list(self.certificates)))

    @classmethod
    def from_pem_files(cls, *paths: str | Path) -> TrustStore:
        """Read every certificate from the given PEM files (each may hold several)."""
        certificates: list[x509.Certificate] = []
        for path in paths:
            certificates.extend(_read_pem_certificates(Path(path)))
        return cls(tuple(certificates))

    def pem(self) -> bytes:
        """The trusted certificates as one PEM bundle (for tools such as ``xmlsec1 --trusted-pem``)."""
        return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in self.certificates)

    def store(self) -> x509.verification.Store:
        """The cryptography verification store, built once."""
        return self._store


def load_pem_key(cert_path: str | Path, key_path: str | Path, password: bytes | None = None) -> SigningKey:
    """Load a PEM certificate file (leaf first, then intermediates) and its PEM private key."""
    certificates = _read_pem_certificates(Path(cert_path))
    try:
        key_data = Path(key_path).read_bytes()
    except OSError as exc:
        raise KeyLoadError(f"cannot read private key {key_path}: {exc.strerror}") from exc
    try:
        private_key = serialization.load_pem_private_key(key_data, password=password)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyLoadError(f"cannot load private key {key_path} (bad file or wrong password)") from exc
    return _signing_key(private_key, certificates[0], tuple(certificates[1:]), source=str(cert_path))


def load_pkcs12(path: str | Path, password: bytes | None) -> SigningKey:
    """Load a PKCS#12 (.p12/.pfx) bundle: key, certificate and any additional (chain) certificates."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyLoadError(f"cannot read PKCS#12 file {path}: {exc.strerror}") from exc
    try:
        private_key, certificate, additional = pkcs12.load_key_and_certificates(data, password)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyLoadError(f"cannot load PKCS#12 file {path} (bad file or wrong password)") from exc
    if private_key is None or certificate is None:
        raise KeyLoadError(f"PKCS#12 file {path} must hold both a private key and its certificate")
    return _signing_key(private_key, certificate, tuple(additional), source=str(path))


def certificate_days_left(cert: x509.Certificate, now: datetime | None = None) -> float:
    """Days until ``cert`` expires (negative once it has)."""
    moment = _utc(now)
    return (cert.not_valid_after_utc - moment).total_seconds() / 86400.0


def organisation_id(cert: x509.Certificate) -> str | None:
    """The organisation's mã định danh, read from the subject's organizationIdentifier (OID 2.5.4.97)."""
    attributes = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    if not attributes:
        return None
    value = attributes[0].value
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _signing_key(
    private_key: object, certificate: x509.Certificate, chain: tuple[x509.Certificate, ...], *, source: str
) -> SigningKey:
    if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyLoadError(f"{source}: only RSA and EC keys can sign XML here")
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise KeyLoadError(
            f"{source}: certificate is not valid now (valid {certificate.not_valid_before_utc.isoformat()}"
            f" to {certificate.not_valid_after_utc.isoformat()})"
        )
    return SigningKey(private_key=private_key, certificate=certificate, chain=chain)


def _check_key_type(private_key: object) -> None:
    if isinstance(private_key, rsa.RSAPrivateKey):
        if private_key.key_size < _MIN_RSA_BITS:
            raise KeyLoadError(f"RSA keys need at least {_MIN_RSA_BITS} bits, got {private_key.key_size}")
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        if not isinstance(private_key.curve, _EC_CURVES):
            raise KeyLoadError(f"EC curve {private_key.curve.name} is not supported (P-256, P-384, P-521)")
    else:
        raise KeyLoadError(f"unsupported private key type {type(private_key).__name__}")


def _same_public_key(private_key: PrivateKey, certificate: x509.Certificate) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    try:
        certificate_key = certificate.public_key().public_bytes(der, spki)
    except (ValueError, UnsupportedAlgorithm):
        return False
    return private_key.public_key().public_bytes(der, spki) == certificate_key


def _read_pem_certificates(path: Path) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyLoadError(f"cannot read certificate file {path}: {exc.strerror}") from exc
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise KeyLoadError(f"{path} holds no readable PEM certificate") from exc
    return certificates


def _utc(moment: datetime | None) -> datetime:
    """``moment`` as an aware UTC datetime; ``None`` is now, a naive datetime is taken to be UTC."""
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
