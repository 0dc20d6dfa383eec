"""The gateway's signing key at start: PEM or PKCS#12, password from the environment or a file,
refused when expired or mismatched, a warning 30 days before expiry."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

import signing
from gateway.bootstrap import load_signer
from gateway.settings import Settings
from gateway.startup_errors import StartupError

pytestmark = pytest.mark.integration


@pytest.fixture
def pki(tmp_path: Path) -> signing.pki.DevPki:
    return signing.init_dev_pki(tmp_path / "pki")


def p12(pki: signing.pki.DevPki, path: Path, password: bytes) -> Path:
    key = signing.load_pem_key(pki.ministry_cert, pki.ministry_key)
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"ministry", key.private_key, key.certificate, None, BestAvailableEncryption(password)
        )
    )
    return path


def test_pem_pair_loads(pki: signing.pki.DevPki) -> None:
    key = load_signer(Settings(pki_dir=pki.directory))
    assert signing.organisation_id(key.certificate) == "000.00.00.G07"


def test_pkcs12_with_password_from_a_file(pki: signing.pki.DevPki, tmp_path: Path) -> None:
    bundle = p12(pki, tmp_path / "ministry.p12", b"mat-khau-bi-mat")
    secret = tmp_path / "password"
    secret.write_bytes(b"mat-khau-bi-mat\n")
    key = load_signer(Settings(signing_pkcs12=bundle, signing_key_password_file=secret))
    assert signing.organisation_id(key.certificate) == "000.00.00.G07"


def test_pkcs12_with_password_from_the_environment(
    pki: signing.pki.DevPki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = p12(pki, tmp_path / "ministry.p12", b"env-secret")
    monkeypatch.setenv("PAKN_SIGNING_PKCS12", str(bundle))
    monkeypatch.setenv("PAKN_SIGNING_KEY_PASSWORD", "env-secret")
    assert load_signer(Settings()).certificate.subject


def test_wrong_password_is_refused(pki: signing.pki.DevPki, tmp_path: Path) -> None:
    bundle = p12(pki, tmp_path / "ministry.p12", b"right")
    with pytest.raises(StartupError, match="signing key"):
        load_signer(Settings(signing_pkcs12=bundle, signing_key_password="wrong"))  # type: ignore[arg-type]


def test_a_key_that_does_not_match_the_certificate_is_refused(pki: signing.pki.DevPki) -> None:
    settings = Settings(signing_cert=pki.ministry_cert, signing_key=pki.national_key)
    with pytest.raises(StartupError):
        load_signer(settings)


def test_expired_certificate_is_refused(pki: signing.pki.DevPki) -> None:
    cert = signing.load_pem_key(pki.ministry_cert, pki.ministry_key).certificate
    with pytest.raises(StartupError, match="expired"):
        load_signer(Settings(pki_dir=pki.directory), now=cert.not_valid_after_utc + timedelta(days=1))


def test_warns_thirty_days_before_expiry(pki: signing.pki.DevPki, caplog: pytest.LogCaptureFixture) -> None:
    cert = signing.load_pem_key(pki.ministry_cert, pki.ministry_key).certificate
    with caplog.at_level(logging.WARNING):
        load_signer(Settings(pki_dir=pki.directory), now=cert.not_valid_after_utc - timedelta(days=10))
    assert "expires in 10 days" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        load_signer(Settings(pki_dir=pki.directory), now=cert.not_valid_after_utc - timedelta(days=40))
    assert "expires" not in caplog.text
