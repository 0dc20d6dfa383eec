"""The development PKI: files, chains, organisation ids, key/cert pairs, idempotence."""

from __future__ import annotations

import stat
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree

from signing import certificate_days_left, load_pem_key, organisation_id, sign_xml, verify_xml
from signing.pki import DevPki, create_ca, init_dev_pki, issue_certificate

pytestmark = pytest.mark.unit

MINISTRY = "Bộ Lao động - Thương binh và Xã hội"
NATIONAL = "Văn phòng Chính phủ"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return init_dev_pki(tmp_path_factory.mktemp("pki"))


def _files(pki: DevPki) -> list[Path]:
    return [pki.ca_cert, pki.ca_key, pki.national_cert, pki.national_key, pki.ministry_cert, pki.ministry_key]


def _chains_to(leaf: x509.Certificate, ca_pem: Path) -> x509.Certificate:
    """Verify with cryptography's strict verifier, the one signxml uses; return the anchor."""
    store = x509.verification.Store(x509.load_pem_x509_certificates(ca_pem.read_bytes()))
    verifier = (
        x509.verification.PolicyBuilder()
        .store(store)
        .extension_policies(
            ee_policy=x509.verification.ExtensionPolicy.permit_all(),
            ca_policy=x509.verification.ExtensionPolicy.webpki_defaults_ca(),
        )
        .build_client_verifier()
    )
    return verifier.verify(leaf, []).chain[-1]


def test_writes_the_six_files_with_private_keys_0600(pki: DevPki) -> None:
    assert [path.name for path in _files(pki)] == [
        "ca.pem",
        "ca.key",
        "national.pem",
        "national.key",
        "ministry.pem",
        "ministry.key",
    ]
    for path in _files(pki):
        assert path.is_file()
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.suffix == ".key":
            assert mode == 0o600, path
        assert not mode & stat.S_IWOTH


@pytest.mark.parametrize(
    ("which", "org_id", "name"),
    [("ministry", "000.00.00.G07", MINISTRY), ("national", "000.00.00.G22", NATIONAL)],
)
def test_leaf_certificates(pki: DevPki, which: str, org_id: str, name: str) -> None:
    key = load_pem_key(getattr(pki, f"{which}_cert"), getattr(pki, f"{which}_key"))  # refuses a mismatch
    cert = key.certificate
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())

    assert _chains_to(cert, pki.ca_cert) == ca_cert
    assert organisation_id(cert) == org_id
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == name
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == name
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "VN"
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert basic.critical and not basic.value.ca
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert 820 < certificate_days_left(cert) <= 825


def test_ca_certificate(pki: DevPki) -> None:
    ca = load_pem_key(pki.ca_cert, pki.ca_key).certificate
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert ca.subject == ca.issuer
    assert basic.critical and basic.value.ca
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature


def test_dev_certificates_sign_and_verify(pki: DevPki) -> None:
    message = etree.fromstring(
        b'<StatusQuery xmlns="urn:pakn:exchange:1"><PetitionId>P-1</PetitionId></StatusQuery>'
    )
    signed = sign_xml(message, load_pem_key(pki.ministry_cert, pki.ministry_key))
    assert verify_xml(etree.tostring(signed), pki.trust_store()).organisation_id == "000.00.00.G07"


def test_rerun_leaves_a_valid_set_alone(pki: DevPki) -> None:
    before = {path: path.read_bytes() for path in _files(pki)}

    again = init_dev_pki(pki.directory)

    assert again == pki
    assert {path: path.read_bytes() for path in _files(pki)} == before


def test_force_replaces_the_set(tmp_path: Path) -> None:
    first = init_dev_pki(tmp_path)
    ca_before = first.ca_cert.read_bytes()

    init_dev_pki(tmp_path, force=True)

    assert first.ca_cert.read_bytes() != ca_before
    ministry = load_pem_key(first.ministry_cert, first.ministry_key).certificate
    _chains_to(ministry, first.ca_cert)


def test_a_damaged_or_different_set_is_replaced(tmp_path: Path) -> None:
    pki = init_dev_pki(tmp_path)
    pki.national_key.write_bytes(pki.ministry_key.read_bytes())  # mismatched key

    init_dev_pki(tmp_path)
    load_pem_key(pki.national_cert, pki.national_key)  # matches again

    ca_before = pki.ca_cert.read_bytes()
    init_dev_pki(tmp_path, ministry_id="000.00.00.H26", ministry_name="Bộ Nội vụ")
    assert pki.ca_cert.read_bytes() != ca_before
    assert organisation_id(load_pem_key(pki.ministry_cert, pki.ministry_key).certificate) == "000.00.00.H26"

    pki.ca_key.unlink()
    init_dev_pki(tmp_path, ministry_id="000.00.00.H26", ministry_name="Bộ Nội vụ")
    assert pki.ca_key.is_file()


def test_issue_certificate_ec_and_names_in_nfc() -> None:
    now = datetime.now(UTC)
    ca_key, ca_cert = create_ca(name="Test CA", not_before=now, not_after=now + timedelta(days=1))
    decomposed = unicodedata.normalize("NFD", "Bộ Y tế")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    key, cert = issue_certificate(
        ca_cert,
        ca_key,
        organisation_id="000.00.00.G12",
        name=decomposed,
        key_type="ec",
        not_before=now,
        not_after=now + timedelta(days=1),
    )

    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == unicodedata.normalize(
        "NFC", decomposed
    )
    assert organisation_id(cert) == "000.00.00.G12"
