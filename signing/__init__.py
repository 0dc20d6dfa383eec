"""Signing: XML-DSig for the national contract, PAdES for answer PDFs, detached statement signatures
and RFC 3161 timestamps (message-log checkpoints), keys, trust stores, a dev PKI.

A component of its own with a narrow API; it imports nothing from ``gateway`` or ``connectors``.
Errors are documented in :mod:`signing.errors`.
"""

from signing.errors import (
    CertificateExpired,
    CertificateUntrusted,
    KeyLoadError,
    PdfSigningError,
    SignatureInvalid,
    SignatureMissing,
    SigningError,
    TimestampError,
)
from signing.font_files import font_path
from signing.keys import (
    SigningKey,
    TrustStore,
    certificate_days_left,
    load_pem_key,
    load_pkcs12,
    organisation_id,
)
from signing.pdf_sign import async_sign_pdf, iso_vietnam, sign_pdf
from signing.pdf_verify import PdfSignatureReport, PdfVerdict, async_verify_pdf, verify_pdf
from signing.pki import init_dev_pki
from signing.statement import sign_statement, verify_statement
from signing.timestamp import request_timestamp, verify_timestamp
from signing.xml_dsig import VerifiedXml, sign_xml, verify_xml

__all__ = [
    "CertificateExpired",
    "CertificateUntrusted",
    "KeyLoadError",
    "PdfSignatureReport",
    "PdfSigningError",
    "PdfVerdict",
    "SignatureInvalid",
    "SignatureMissing",
    "SigningError",
    "SigningKey",
    "TimestampError",
    "TrustStore",
    "VerifiedXml",
    "async_sign_pdf",
    "async_verify_pdf",
    "certificate_days_left",
    "font_path",
    "init_dev_pki",
    "iso_vietnam",
    "load_pem_key",
    "load_pkcs12",
    "organisation_id",
    "request_timestamp",
    "sign_pdf",
    "sign_statement",
    "sign_xml",
    "verify_pdf",
    "verify_statement",
    "verify_timestamp",
    "verify_xml",
]
