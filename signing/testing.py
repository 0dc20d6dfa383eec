"""Throw-away certificate authorities for tests: in memory, no files (in the spirit of ``trustme``).

Not part of the runtime API; tests of this component and of its users import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509

from signing.keys import PrivateKey, SigningKey, TrustStore
from signing.pki import KeyType, create_ca, issue_certificate

__all__ = ["EphemeralCa"]


@dataclass(frozen=True)
class EphemeralCa:
    """A CA that lives as long as the test run; it issues organisation certificates on demand."""

    key: PrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(cls, name: str = "PAKN Test CA", *, key_type: KeyType = "rsa") -> EphemeralCa:
        now = datetime.now(UTC)
        key, cert = create_ca(
            name=name,
            key_type=key_type,
            not_before=now - timedelta(days=2),
            not_after=now + timedelta(days=365),
        )
        return cls(key, cert)

    def trust_store(self) -> TrustStore:
        return TrustStore((self.certificate,))

    def issue(
        self,
        organisation_id: str,
        name: str,
        *,
        key_type: KeyType = "rsa",
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> SigningKey:
        """A signing key for the organisation; by default valid from yesterday for 30 days."""
        now = datetime.now(UTC)
        key, cert = issue_certificate(
            self.certificate,
            self.key,
            organisation_id=organisation_id,
            name=name,
            key_type=key_type,
            not_before=not_before if not_before is not None else now - timedelta(days=1),
            not_after=not_after if not_after is not None else now + timedelta(days=30),
        )
        return SigningKey(private_key=key, certificate=cert)
