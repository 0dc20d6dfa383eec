"""A development PKI: one CA, a certificate for the national portal and one for the ministry.

Dev and test only (keys are written unencrypted). The certificates carry real extensions —
BasicConstraints, KeyUsage, key identifiers — because signxml checks chains with cryptography's strict
verifier and rejects bare certificates; the subject carries the organisation's mã định danh in
organizationIdentifier (2.5.4.97), which :func:`signing.keys.organisation_id` reads back.
"""

from __future__ import annotations

import os
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from signing.errors import SigningError
from signing.keys import PrivateKey, TrustStore, load_pem_key

__all__ = ["DevPki", "KeyType", "create_ca", "init_dev_pki", "issue_certificate"]

KeyType = Literal["rsa", "ec"]

_CA_NAME = "PAKN Gateway Development CA"
_BACKDATE = timedelta(minutes=5)  # tolerate small clock differences between dev machines
_MIN_DAYS_LEFT = 1.0  # a set about to expire is replaced rather than kept


@dataclass(frozen=True)
class DevPki:
    """Where :func:`init_dev_pki` put (or found) the development certificates and keys."""

    directory: Path
    ca_cert: Path
    ca_key: Path
    national_cert: Path
    national_key: Path
    ministry_cert: Path
    ministry_key: Path

    def trust_store(self) -> TrustStore:
        return TrustStore.from_pem_files(self.ca_cert)


def init_dev_pki(
    directory: Path,
    *,
    ministry_id: str = "000.00.00.G07",
    ministry_name: str = "Bộ Lao động - Thương binh và Xã hội",
    national_id: str = "000.00.00.G22",
    national_name: str = "Văn phòng Chính phủ",
    days: int = 825,
    force: bool = False,
) -> DevPki:
    """Create ``ca.pem``/``ca.key``, ``national.pem``/``.key`` and ``ministry.pem``/``.key`` in ``directory``.

    Idempotent: a complete, valid set for the same organisations is left untouched unless ``force``;
    anything less (a missing file, a mismatched key, an expired or foreign certificate, other
    organisation ids) is replaced as a whole, since a new CA invalidates the old leaves anyway.
    """
    directory = Path(directory)
    pki = DevPki(
        directory=directory,
        ca_cert=directory / "ca.pem",
        ca_key=directory / "ca.key",
        national_cert=directory / "national.pem",
        national_key=directory / "national.key",
        ministry_cert=directory / "ministry.pem",
        ministry_key=directory / "ministry.key",
    )
    leaves = (
        (pki.national_cert, pki.national_key, national_id, national_name),
        (pki.ministry_cert, pki.ministry_key, ministry_id, ministry_name),
    )
    if not force and _existing_set_is_valid(pki, leaves):
        return pki

    directory.mkdir(parents=True, exist_ok=True)
    not_before = datetime.now(UTC) - _BACKDATE
    not_after = not_before + timedelta(days=days)
    ca_key, ca_cert = create_ca(name=_CA_NAME, not_before=not_before, not_after=not_after)
    _write_private(pki.ca_key, _key_pem(ca_key))
    _write_public(pki.ca_cert, _cert_pem(ca_cert))
    for cert_path, key_path, org_id, name in leaves:
        key, cert = issue_certificate(
            ca_cert, ca_key, organisation_id=org_id, name=name, not_before=not_before, not_after=not_after
        )
        _write_private(key_path, _key_pem(key))
        _write_public(cert_path, _cert_pem(cert))
    return pki


def create_ca(
    *,
    name: str,
    organisation_id: str | None = None,
    key_type: KeyType = "rsa",
    not_before: datetime,
    not_after: datetime,
) -> tuple[PrivateKey, x509.Certificate]:
    """A new key and its self-signed CA certificate (keyCertSign, cRLSign)."""
    key = _new_key(key_type)
    subject = _subject(name, organisation_id)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_certificate(
    ca_cert: x509.Certificate,
    ca_key: PrivateKey,
    *,
    organisation_id: str,
    name: str,
    key_type: KeyType = "rsa",
    not_before: datetime,
    not_after: datetime,
) -> tuple[PrivateKey, x509.Certificate]:
    """A new key and an organisation's signing certificate (digitalSignature, nonRepudiation) from the CA."""
    key = _new_key(key_type)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_subject(name, organisation_id))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _existing_set_is_valid(pki: DevPki, leaves: tuple[tuple[Path, Path, str, str], ...]) -> bool:
    """True when every file is there, each key matches its certificate and each leaf chains to ca.pem."""
    files = (pki.ca_cert, pki.ca_key, *(path for leaf in leaves for path in leaf[:2]))
    if not all(path.is_file() for path in files):
        return False
    try:
        ca = load_pem_key(pki.ca_cert, pki.ca_key)
        trust = pki.trust_store()
        now = datetime.now(UTC)
        for cert_path, key_path, org_id, name in leaves:
            leaf = load_pem_key(cert_path, key_path)
            if leaf.certificate.subject != _subject(name, org_id):
                return False
            verifier = (
                x509.verification.PolicyBuilder()
                .store(trust.store())
                .time(now + timedelta(days=_MIN_DAYS_LEFT))
                .extension_policies(
                    ee_policy=x509.verification.ExtensionPolicy.permit_all(),
                    ca_policy=x509.verification.ExtensionPolicy.webpki_defaults_ca(),
                )
                .build_client_verifier()
            )
            verifier.verify(leaf.certificate, [])
        return ca.certificate in trust.certificates
    except (SigningError, x509.verification.VerificationError):
        return False


def _new_key(key_type: KeyType) -> PrivateKey:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unknown key type {key_type!r}")


def _subject(name: str, organisation_id: str | None) -> x509.Name:
    name = unicodedata.normalize("NFC", name)
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
    ]
    if organisation_id is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, organisation_id))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, name))
    return x509.Name(attributes)


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,  # nonRepudiation
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_private(path: Path, data: bytes) -> None:
    """Write a key readable by its owner only (0600), replacing any older file atomically."""
    _write_atomically(path, data, mode=0o600)


def _write_public(path: Path, data: bytes) -> None:
    _write_atomically(path, data, mode=0o644)


def _write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        tmp.chmod(mode)  # os.open's mode is filtered by the umask
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
