"""Verification of the PDF signatures of a document (pyHanko), against our trust store only.

Each signature is reported separately: integrity (the signed byte range hashes to the signed digest),
cryptographic validity, trust (the chain reaches the trust store, key usage nonRepudiation), the
timestamp if any, how much of the file it covers and whether what was appended after it is only
what later signatures may add. No network: revocation is not fetched (soft-fail).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext

from signing.errors import SignatureInvalid
from signing.keys import TrustStore, organisation_id

__all__ = ["PdfSignatureReport", "PdfVerdict", "async_verify_pdf", "verify_pdf"]


@dataclass(frozen=True)
class PdfSignatureReport:
    """One signature of the document, as pyHanko judged it."""

    field_name: str
    signer: str
    """The signer organisation's mã định danh (organizationIdentifier), else the subject CN."""
    common_name: str | None
    intact: bool
    valid: bool
    trusted: bool
    signing_time: datetime | None
    """The timestamp token's time when there is one, else the time the signer claims (/M)."""
    has_timestamp: bool
    timestamp_trusted: bool
    coverage: str
    """pyHanko's SignatureCoverageLevel name: ENTIRE_FILE, ENTIRE_REVISION, CONTIGUOUS_BLOCK_FROM_START…"""
    modifications_ok: bool
    """Whatever was appended after this signature is allowed (later signatures, form filling)."""
    error: str | None = None
    """Why pyHanko could not evaluate the signature at all (malformed signature object)."""

    @property
    def ok(self) -> bool:
        timestamp_ok = self.timestamp_trusted or not self.has_timestamp
        return self.intact and self.valid and self.trusted and timestamp_ok and self.modifications_ok


@dataclass(frozen=True)
class PdfVerdict:
    signatures: tuple[PdfSignatureReport, ...]

    @property
    def all_valid(self) -> bool:
        """A signature at least; every one intact, valid and trusted; the last one covers the whole file."""
        return (
            bool(self.signatures)
            and all(signature.ok for signature in self.signatures)
            and self.signatures[-1].coverage == "ENTIRE_FILE"
        )


def verify_pdf(pdf: bytes, trust: TrustStore) -> PdfVerdict:
    """Verify every signature of ``pdf``. Raises :class:`SignatureInvalid` only for an unreadable PDF."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(async_verify_pdf(pdf, trust))
    raise RuntimeError(
        "verify_pdf was called inside a running event loop: "
        "use asyncio.to_thread(verify_pdf, …) or await async_verify_pdf"
    )


async def async_verify_pdf(pdf: bytes, trust: TrustStore) -> PdfVerdict:
    """:func:`verify_pdf` for callers inside an event loop."""
    try:
        reader = PdfFileReader(BytesIO(pdf))
        embedded = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise SignatureInvalid(f"not a readable PDF: {exc}") from exc
    roots = [_asn1(cert) for cert in trust.certificates]
    reports = []
    for signature in embedded:
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        reports.append(await _report(signature, context))
    return PdfVerdict(signatures=tuple(reports))


async def _report(signature: EmbeddedPdfSignature, context: ValidationContext) -> PdfSignatureReport:
    field_name = str(signature.field_name)
    try:
        status = await async_validate_pdf_signature(signature, signer_validation_context=context)
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        return PdfSignatureReport(
            field_name=field_name,
            signer="",
            common_name=None,
            intact=False,
            valid=False,
            trusted=False,
            signing_time=None,
            has_timestamp=False,
            timestamp_trusted=False,
            coverage="UNCLEAR",
            modifications_ok=False,
            error=f"{type(exc).__name__}: {exc}",
        )
    certificate = x509.load_der_x509_certificate(status.signing_cert.dump())
    common_name = _common_name(certificate)
    timestamp = status.timestamp_validity
    return PdfSignatureReport(
        field_name=field_name,
        signer=organisation_id(certificate) or common_name or "",
        common_name=common_name,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        signing_time=timestamp.timestamp if timestamp is not None else status.signer_reported_dt,
        has_timestamp=timestamp is not None,
        timestamp_trusted=timestamp is not None and timestamp.trusted,
        coverage=status.coverage.name if status.coverage is not None else "UNCLEAR",
        modifications_ok=status.docmdp_ok is True,
    )


def _common_name(certificate: x509.Certificate) -> str | None:
    attributes = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not attributes:
        return None
    value = attributes[0].value
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
