"""Key loading, trust stores, certificate helpers and the error codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from signing import (
    CertificateExpired,
    CertificateUntrusted,
    KeyLoadError,
    SignatureInvalid,
    SignatureMissing,
    SigningError,
    SigningKey,
    TrustStore,
    certificate_days_left,
    load_pem_key,
    organisation_id,
    sign_xml,
    verify_xml,
)
from signing.testing import EphemeralCa

pytestmark = pytest.mark.unit

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def ca() -> EphemeralCa:
    return EphemeralCa.create()


@pytest.fixture(scope="module")
def trust(ca: EphemeralCa) -> TrustStore:
    return ca.trust_store()


@pytest.fixture(scope="module")
def national(ca: EphemeralCa) -> SigningKey:
    return ca.issue("000.00.00.G22", "Văn phòng Chính phủ")


def signed_bytes(key: SigningKey) -> bytes:
    message = etree.fromstring(
        b'<StatusQuery xmlns="urn:pakn:exchange:1"><PetitionId>P-1</PetitionId></StatusQuery>'
    )
    return etree.tostring(sign_xml(message, key))


def _write_pem(tmp_path: Path, key: SigningKey, password: bytes | None = None) -> tuple[Path, Path]:
    cert_path, key_path = tmp_path / "org.pem", tmp_path / "org.key"
    cert_path.write_bytes(key.certificate.public_bytes(serialization.Encoding.PEM))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    key_path.write_bytes(
        key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )
    return cert_path, key_path


def test_load_pem_key_signs_and_verifies(tmp_path: Path, national: SigningKey, trust: TrustStore) -> None:
    cert_path, key_path = _write_pem(tmp_path, national, password=b"mat-khau")

    loaded = load_pem_key(cert_path, key_path, password=b"mat-khau")

    assert loaded.certificate == national.certificate
    assert verify_xml(signed_bytes(loaded), trust).organisation_id == "000.00.00.G22"
    with pytest.raises(KeyLoadError):
        load_pem_key(cert_path, key_path, password=b"wrong")
    with pytest.raises(KeyLoadError):
        load_pem_key(cert_path, key_path)


def test_expired_certificate_is_refused_at_load(tmp_path: Path, ca: EphemeralCa) -> None:
    expired = ca.issue(
        "000.00.00.G22",
        "Văn phòng Chính phủ",
        not_before=NOW - timedelta(days=10),
        not_after=NOW - timedelta(days=1),
    )
    cert_path, key_path = _write_pem(tmp_path, expired)
    with pytest.raises(KeyLoadError):
        load_pem_key(cert_path, key_path)


def test_trust_store_from_pem_files_round_trips(tmp_path: Path, ca: EphemeralCa) -> None:
    other = EphemeralCa.create("Second CA")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (ca.certificate, other.certificate))
    )

    store = TrustStore.from_pem_files(bundle)

    assert store.certificates == (ca.certificate, other.certificate)
    (tmp_path / "again.pem").write_bytes(store.pem())
    assert TrustStore.from_pem_files(tmp_path / "again.pem") == store
    with pytest.raises(KeyLoadError):
        TrustStore(())
    with pytest.raises(KeyLoadError):
        TrustStore.from_pem_files(tmp_path / "missing.pem")


def test_organisation_id_and_days_left(national: SigningKey, ca: EphemeralCa) -> None:
    assert organisation_id(national.certificate) == "000.00.00.G22"
    assert organisation_id(ca.certificate) is None
    # the certificate is made when the fixture runs, NOW when the module was imported (minutes
    # earlier in a long run): compare with its own end of validity, and that end with ~30 days
    not_after = national.certificate.not_valid_after_utc
    expected = (not_after - NOW).total_seconds() / 86400
    assert abs(certificate_days_left(national.certificate, NOW) - expected) < 1e-6
    assert 29.9 < (not_after - datetime.now(UTC)).total_seconds() / 86400 <= 30.0
    assert certificate_days_left(national.certificate, NOW + timedelta(days=31)) < 0


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (SigningError, "SigningError"),
        (KeyLoadError, "KeyLoadError"),
        (SignatureMissing, "SignatureMissing"),
        (SignatureInvalid, "SignatureInvalid"),
        (CertificateUntrusted, "CertificateUntrusted"),
        (CertificateExpired, "CertificateExpired"),
    ],
)
def test_error_codes_are_stable(error: type[SigningError], code: str) -> None:
    assert issubclass(error, SigningError)
    assert error("x").code == code
