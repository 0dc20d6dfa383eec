"""PAdES signatures on answer PDFs (pyHanko): B-B, or B-T when a timestamp authority is configured.

Every signature is an *incremental update* in a *new* signature field, so a PDF a unit supplied with
its own signatures keeps them valid. The visible stamp is drawn with the shipped DejaVu Sans
(pyHanko's default Courier has no Vietnamese glyphs); its lines are broken here because pyHanko's
text box does not wrap. The signing time is pinned once and used for the signature dictionary (/M)
and the stamp text alike, in ISO 8601 with the +07:00 offset.

Hardware token (USB token / HSM): replace ``_simple_signer(key)`` by a
``pyhanko.sign.pkcs11.PKCS11Signer(session, cert_label=…, key_label=…)`` opened from
``pyhanko.sign.pkcs11.open_pkcs11_session(lib_location, slot_no=…, user_pin=…)`` (pyHanko's
``[pkcs11]`` extra, python-pkcs11); everything else — metadata, stamp, timestamping — stays as it is.
SoftHSM (``softhsm2``) stands in for a token in tests.

The synchronous :func:`sign_pdf` runs its own event loop (pyHanko's signing and its aiohttp timestamp
client are asynchronous), so it refuses to run inside one. From async code, either
``await asyncio.to_thread(sign_pdf, …)`` (keeps the loop free during the ~0.2 s of CPU work: hashing,
font subsetting, RSA) or ``await async_sign_pdf(…)`` (no thread, but the CPU part runs on the loop).
"""

from __future__ import annotations

import asyncio
import math
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from PIL import Image, UnidentifiedImageError
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.signers.pdf_signer import PdfSigningSession
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.errors import CertificateExpired, PdfSigningError
from signing.keys import SigningKey
from signing.stamp_font import StampFontFactory, text_width

__all__ = [
    "DEFAULT_REASON",
    "STAMP_SIZE",
    "VIETNAM_TZ",
    "async_sign_pdf",
    "iso_vietnam",
    "sign_pdf",
]

VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")
"""Vietnam has no daylight saving time: a fixed +07:00 offset, no tz database needed."""

DEFAULT_REASON = "Trả lời phản ánh, kiến nghị"
STAMP_SIZE = (220.0, 80.0)
"""Width and height (points) of the default stamp box, placed bottom-right of the page."""
STAMP_FONT = "DejaVuSans.ttf"
STAMP_FONT_SIZE = 9
_STAMP_TEXT_MARGIN = 12.0  # pyHanko's text box keeps 10 points each side; a little slack for the border
_PAGE_MARGIN_RIGHT = 15 * 72 / 25.4  # Decree 30/2020: right margin 15-20 mm, bottom 20-25 mm
_PAGE_MARGIN_BOTTOM = 20 * 72 / 25.4
_MIN_BOX = (60.0, 30.0)
_TSA_TIMEOUT = 15  # seconds for one timestamp request
_SEAL_OPACITY = 0.35
_STAMP_TEXT = "Ký bởi: %(signer_name)s\n%(organisation)s\nThời gian ký: %(signed_at)s"

Box = tuple[float, float, float, float]


def sign_pdf(
    pdf: bytes,
    key: SigningKey,
    *,
    signer_name: str,
    organisation: str,
    reason: str = DEFAULT_REASON,
    location: str = "Hà Nội",
    tsa_url: str | None = None,
    page: int = -1,
    box: Box | None = None,
    seal_image: Path | None = None,
    field_name: str | None = None,
    signing_time: datetime | None = None,
) -> bytes:
    """Sign ``pdf`` as PAdES (B-B; B-T with ``tsa_url``) in a new visible field; returns the new PDF.

    ``page`` is a page index (negative counts from the end; -1 is the last page), ``box`` the stamp's
    ``(x1, y1, x2, y2)`` in PDF points on that page (default: bottom-right, :data:`STAMP_SIZE`),
    ``seal_image`` an image file drawn faintly behind the stamp text. ``signing_time`` defaults to now;
    a naive value is taken as UTC. Raises :class:`CertificateExpired` when a certificate of ``key`` is
    not valid at the signing time, :class:`PdfSigningError` for anything else that prevents signing.
    """
    coroutine = async_sign_pdf(
        pdf,
        key,
        signer_name=signer_name,
        organisation=organisation,
        reason=reason,
        location=location,
        tsa_url=tsa_url,
        page=page,
        box=box,
        seal_image=seal_image,
        field_name=field_name,
        signing_time=signing_time,
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    coroutine.close()
    raise RuntimeError(
        "sign_pdf was called inside a running event loop: "
        "use asyncio.to_thread(sign_pdf, …) or await async_sign_pdf"
    )


async def async_sign_pdf(
    pdf: bytes,
    key: SigningKey,
    *,
    signer_name: str,
    organisation: str,
    reason: str = DEFAULT_REASON,
    location: str = "Hà Nội",
    tsa_url: str | None = None,
    page: int = -1,
    box: Box | None = None,
    seal_image: Path | None = None,
    field_name: str | None = None,
    signing_time: datetime | None = None,
) -> bytes:
    """:func:`sign_pdf` for callers inside an event loop (the gateway's answer path)."""
    moment = _vietnam_time(signing_time)
    _check_validity(key, moment)
    signer_name, organisation = _one_line(signer_name), _one_line(organisation)
    reason, location = _nfc(reason), _nfc(location)
    if not signer_name.strip() or not organisation.strip():
        raise PdfSigningError("a signature needs the signer's name and the organisation")

    writer = _open(pdf)
    page_index, field_box = _placement(writer, page, box)
    name = field_name or f"PAKN-{moment:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    if not name or "." in name:  # a dot separates the levels of a PDF form field's full name
        raise PdfSigningError(f"a signature field name must be non-empty and without dots, got {name!r}")
    if any(True for _ in fields.enumerate_sig_fields(writer, with_name=name)):
        raise PdfSigningError(f"the PDF already has a signature field named {name!r}")

    style = _stamp_style(seal_image)
    line_width = field_box[2] - field_box[0] - 2 * _STAMP_TEXT_MARGIN
    text_params = {
        "signer_name": _wrap(signer_name, line_width),
        "organisation": _wrap(f"Cơ quan: {organisation}", line_width),
        "signed_at": iso_vietnam(moment),
    }
    pdf_signer = _PinnedTimePdfSigner(
        PdfSignatureMetadata(
            field_name=name,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
            name=signer_name,
        ),
        signer=_simple_signer(key),
        timestamper=HTTPTimeStamper(tsa_url, timeout=_TSA_TIMEOUT) if tsa_url else None,
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(sig_field_name=name, on_page=page_index, box=field_box),
        system_time=moment,
    )
    try:
        output = await pdf_signer.async_sign_pdf(writer, appearance_text_params=text_params)
    except OSError as exc:  # includes pyHanko's TimestampRequestError
        raise PdfSigningError(f"signing failed: {exc}") from exc
    except (PdfError, ValueError, KeyError, TypeError) as exc:  # pyHanko's own errors are ValueErrors
        raise PdfSigningError(f"pyHanko could not sign the PDF: {exc}") from exc
    return bytes(output.getvalue())


def iso_vietnam(moment: datetime) -> str:
    """``moment`` in ISO 8601 at +07:00, whole seconds: ``2026-11-28T10:15:00+07:00``."""
    return _vietnam_time(moment).isoformat(timespec="seconds")


class _PinnedTimePdfSigner(PdfSigner):
    """A PdfSigner whose signing time is ours, so /M and the stamp's text show the same instant.

    pyHanko takes ``datetime.now(tzlocal)`` inside the signing session otherwise.
    """

    def __init__(self, *args: Any, system_time: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._system_time = system_time

    def init_signing_session(
        self, pdf_out: BasePdfFileWriter, existing_fields_only: bool = False
    ) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._system_time
        return session


@dataclass(frozen=True)
class _Media:
    x1: float
    y1: float
    x2: float
    y2: float


def _open(pdf: bytes) -> IncrementalPdfFileWriter:
    if not pdf.startswith(b"%PDF-"):
        raise PdfSigningError("the document is not a PDF (no %PDF- header)")
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        encrypted = bool(writer.prev.encrypted)
    except (PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise PdfSigningError(f"the PDF cannot be read: {exc}") from exc
    if encrypted:
        raise PdfSigningError("encrypted PDFs are not signed here; ask the unit for an unencrypted file")
    return writer


def _placement(
    writer: IncrementalPdfFileWriter, page: int, box: Box | None
) -> tuple[int, tuple[int, int, int, int]]:
    """The page index (0-based, non-negative) and the stamp box in whole points, checked against the page."""
    try:
        pages = int(writer.root["/Pages"]["/Count"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PdfSigningError("the PDF has no readable page tree") from exc
    index = page + pages if page < 0 else page
    if not 0 <= index < pages:
        raise PdfSigningError(f"page {page} is out of range: the PDF has {pages} page(s)")
    try:
        page_ref, _resources = writer.find_page_for_modification(index)  # type: ignore[no-untyped-call]
        media = _media_box(page_ref.get_object())
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise PdfSigningError(f"page {index} cannot be read: {exc}") from exc
    if box is None:
        width, height = STAMP_SIZE
        x2 = media.x2 - _PAGE_MARGIN_RIGHT
        y1 = media.y1 + _PAGE_MARGIN_BOTTOM
        box = (x2 - width, y1, x2, y1 + height)
    if len(box) != 4 or not all(math.isfinite(v) for v in box):
        raise PdfSigningError(f"the stamp box must be four finite numbers (x1, y1, x2, y2), got {box!r}")
    x1, y1, x2, y2 = round(box[0]), round(box[1]), round(box[2]), round(box[3])
    if x2 - x1 < _MIN_BOX[0] or y2 - y1 < _MIN_BOX[1]:
        raise PdfSigningError(f"the stamp box {box!r} is smaller than {_MIN_BOX[0]} x {_MIN_BOX[1]} points")
    if x1 < media.x1 - 1 or y1 < media.y1 - 1 or x2 > media.x2 + 1 or y2 > media.y2 + 1:
        raise PdfSigningError(f"the stamp box {box!r} is outside page {index}")
    return index, (x1, y1, x2, y2)


def _media_box(page: generic.PdfObject) -> _Media:
    """The page's /MediaBox, which may be inherited from a /Pages ancestor."""
    node: Any = page
    for _ in range(64):  # bounded: a hostile file could loop its /Parent chain
        if "/MediaBox" in node:
            x1, y1, x2, y2 = (float(v) for v in node["/MediaBox"])
            return _Media(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
        if "/Parent" not in node:
            break
        node = node["/Parent"]
    raise PdfSigningError("the page has no /MediaBox")


def _stamp_style(seal_image: Path | None) -> TextStampStyle:
    font = StampFontFactory(STAMP_FONT, font_size=STAMP_FONT_SIZE)  # never pyHanko's Courier: no "ệ"
    text_box = TextBoxStyle(font=font, font_size=STAMP_FONT_SIZE, leading=STAMP_FONT_SIZE + 3)
    return TextStampStyle(
        stamp_text=_STAMP_TEXT,
        text_box_style=text_box,
        border_width=1,
        border_color=(0.75, 0.1, 0.1),
        background=_seal(seal_image) if seal_image is not None else None,
        background_opacity=_SEAL_OPACITY,
    )


def _seal(path: Path) -> PdfImage:
    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened.copy()
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise PdfSigningError(f"the seal image {path} cannot be read: {exc}") from exc
    return PdfImage(image)


def _simple_signer(key: SigningKey) -> SimpleSigner:
    """pyHanko works on asn1crypto objects: convert the loaded cryptography objects once per signing."""
    certificate = _asn1_certificate(key.certificate)
    chain = [_asn1_certificate(cert) for cert in key.chain]
    private_key = asn1_keys.PrivateKeyInfo.load(
        key.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return _LoadedKeySigner(
        key.private_key,
        signing_cert=certificate,
        signing_key=private_key,
        cert_registry=SimpleCertificateStore.from_certs([certificate, *chain]),  # type: ignore[no-untyped-call]
    )


class _LoadedKeySigner(SimpleSigner):
    """pyHanko's SimpleSigner parses the private key from DER again for every signature, and signs
    for real on the dry run that only sizes the signature. Profiled in the soak (BENCHMARKS.md), the
    two were most of an answer's cost. The key object loaded once signs instead; an RSA dry run
    returns a placeholder of the exact size. Other mechanisms (e.g. PSS) go to pyHanko as before."""

    def __init__(self, loaded: PrivateKeyTypes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._loaded = loaded

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._loaded, rsa.RSAPrivateKey):
            if dry_run:
                return bytes(self._loaded.key_size // 8)  # PKCS#1 v1.5: always the modulus size
            return self._loaded.sign(data, padding.PKCS1v15(), _hash(digest_algorithm))
        if mechanism == "ecdsa" and isinstance(self._loaded, ec.EllipticCurvePrivateKey):
            return self._loaded.sign(data, ec.ECDSA(_hash(digest_algorithm)))  # cheap; sized for real
        return await super().async_sign_raw(data, digest_algorithm, dry_run)


def _hash(digest_algorithm: str) -> hashes.HashAlgorithm:
    known: dict[str, hashes.HashAlgorithm] = {
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
    }
    try:
        return known[digest_algorithm.lower()]
    except KeyError as exc:
        raise PdfSigningError(f"digest {digest_algorithm} is not one the gateway signs with") from exc


def _asn1_certificate(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _check_validity(key: SigningKey, moment: datetime) -> None:
    for cert in (key.certificate, *key.chain):
        if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
            subject = cert.subject.rfc4514_string()
            raise CertificateExpired(
                f"certificate {subject} is not valid at {iso_vietnam(moment)} (valid"
                f" {iso_vietnam(cert.not_valid_before_utc)} to {iso_vietnam(cert.not_valid_after_utc)})"
            )


def _vietnam_time(moment: datetime | None) -> datetime:
    if moment is None:
        moment = datetime.now(UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM_TZ).replace(microsecond=0)


def _wrap(text: str, width: float) -> str:
    """Break a stamp line by hand at word boundaries to ``width`` points (pyHanko's text box does not
    wrap; it shrinks the whole stamp to fit instead). Continuation lines are indented."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and text_width(STAMP_FONT, candidate, STAMP_FONT_SIZE) > width:
            lines.append(current)
            candidate = f"  {word}"
        current = candidate
    lines.append(current)
    return "\n".join(lines)


def _one_line(text: str) -> str:
    """NFC, with runs of whitespace (newlines included) collapsed: a name is one line of the stamp."""
    return " ".join(_nfc(text).split())


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
