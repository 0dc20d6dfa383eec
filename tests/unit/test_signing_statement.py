"""Detached statement signatures: valid ones verify, and each way of being wrong has its error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import signing
from signing.pki import KeyType
from signing.testing import EphemeralCa

STATEMENT = b'{"entry_count":3,"head_hash":"ab","ministry_id":"000.00.00.G07"}'


@pytest.fixture(scope="module")
def ca() -> EphemeralCa:
    return EphemeralCa.create()


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
def test_a_signature_verifies_against_the_trust_store(ca: EphemeralCa, key_type: KeyType) -> None:
    key = ca.issue("000.00.00.G07", "Bộ Lao động - Thương binh và Xã hội", key_type=key_type)
    signature = signing.sign_statement(STATEMENT, key)
    signing.verify_statement(STATEMENT, signature, key.certificate, ca.trust_store())


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
def test_a_changed_statement_is_refused(ca: EphemeralCa, key_type: KeyType) -> None:
    key = ca.issue("000.00.00.G07", "Bộ", key_type=key_type)
    signature = signing.sign_statement(STATEMENT, key)
    with pytest.raises(signing.SignatureInvalid):
        signing.verify_statement(STATEMENT.replace(b"3", b"2"), signature, key.certificate, ca.trust_store())


def test_a_signature_with_another_certificate_is_refused(ca: EphemeralCa) -> None:
    key, other = ca.issue("000.00.00.G07", "Bộ"), ca.issue("000.00.00.G07", "Bộ")
    signature = signing.sign_statement(STATEMENT, key)
    with pytest.raises(signing.SignatureInvalid):
        signing.verify_statement(STATEMENT, signature, other.certificate, ca.trust_store())


def test_a_key_from_another_ca_is_untrusted(ca: EphemeralCa) -> None:
    stranger = EphemeralCa.create("Not our CA").issue("000.00.00.G07", "Bộ giả")
    signature = signing.sign_statement(STATEMENT, stranger)
    with pytest.raises(signing.CertificateUntrusted) as caught:
        signing.verify_statement(STATEMENT, signature, stranger.certificate, ca.trust_store())
    assert caught.value.code == "CertificateUntrusted"


def test_validity_is_checked_at_the_given_time(ca: EphemeralCa) -> None:
    now = datetime.now(UTC)
    key = ca.issue(
        "000.00.00.G07", "Bộ", not_before=now - timedelta(days=3), not_after=now + timedelta(days=1)
    )
    signature = signing.sign_statement(STATEMENT, key)
    with pytest.raises(signing.CertificateExpired):
        signing.verify_statement(
            STATEMENT, signature, key.certificate, ca.trust_store(), now=now + timedelta(days=2)
        )
    # An old checkpoint stays verifiable after its certificate expired: checked at its own time.
    signing.verify_statement(STATEMENT, signature, key.certificate, ca.trust_store(), now=now)
