"""Signing: XML-DSig for the national contract, key loading, trust stores and a development PKI.

A component of its own with a narrow API; it imports nothing from ``gateway`` or ``connectors``.
Errors are documented in :mod:`signing.errors`.
"""

from signing.errors import (
    CertificateExpired,
    CertificateUntrusted,
    KeyLoadError,
    SignatureInvalid,
    SignatureMissing,
    SigningError,
)
from signing.keys import (
    SigningKey,
    TrustStore,
    certificate_days_left,
    load_pem_key,
    load_pkcs12,
    organisation_id,
)
from signing.pki import init_dev_pki
from signing.xml_dsig import VerifiedXml, sign_xml, verify_xml

__all__ = [
    "CertificateExpired",
    "CertificateUntrusted",
    "KeyLoadError",
    "SignatureInvalid",
    "SignatureMissing",
    "SigningError",
    "SigningKey",
    "TrustStore",
    "VerifiedXml",
    "certificate_days_left",
    "init_dev_pki",
    "load_pem_key",
    "load_pkcs12",
    "organisation_id",
    "sign_xml",
    "verify_xml",
]
