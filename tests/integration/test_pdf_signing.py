"""Answer PDFs signed as PAdES, checked by pyHanko's validation and by an independent verifier,
poppler's ``pdfsig`` (NSS), with the dev CA as the only trust anchor; the letter's text read back
with poppler's ``pdftotext``.

``pdfsig`` exits 0 even on a digest mismatch, so its output is read line by line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from datetime import UTC, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.reader import PdfFileReader

from gateway.outbound.letter import Letter, RenderedLetter, render_letter
from signing import (
    CertificateExpired,
    PdfSigningError,
    SigningKey,
    TrustStore,
    async_sign_pdf,
    async_verify_pdf,
    iso_vietnam,
    load_pem_key,
    sign_pdf,
    verify_pdf,
)
from signing.pki import DevPki, init_dev_pki, issue_certificate
from signing.testing import EphemeralCa
from tests.support import verifiers
from tests.support.tsa import LocalTsa, running_tsa
from tests.support.verifiers import assert_pdfsig_accepts, pdfsig, pdftotext

pytestmark = pytest.mark.integration

MINISTRY = "Bộ Lao động - Thương binh và Xã hội"
MINISTRY_ID = "000.00.00.G07"
UNIT = "Cục Bảo trợ xã hội"
UNIT_ID = "000.13.01.G07"
SIGNER = "Trần Thị Hương"
SENTENCE = (
    "Bộ Lao động - Thương binh và Xã hội nhận được phản ánh, kiến nghị của ông Nguyễn Văn Ánh về việc "
    "giải quyết chế độ trợ cấp ưu đãi đối với người có công với cách mạng."
)
ISO_VN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00")


# --- tools ------------------------------------------------------------------------------------------


def flat(text: str) -> str:
    """Whitespace runs (line breaks of the layout) as single spaces."""
    return " ".join(text.split())


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return init_dev_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def trust(pki: DevPki) -> TrustStore:
    return pki.trust_store()


@pytest.fixture(scope="module")
def ca(pki: DevPki) -> SigningKey:
    return load_pem_key(pki.ca_cert, pki.ca_key)


@pytest.fixture(scope="module")
def ministry(pki: DevPki) -> SigningKey:
    return load_pem_key(pki.ministry_cert, pki.ministry_key)


@pytest.fixture(scope="module")
def unit_key(ca: SigningKey) -> SigningKey:
    now = dt.datetime.now(UTC)
    key, cert = issue_certificate(
        ca.certificate,
        ca.private_key,
        organisation_id=UNIT_ID,
        name=UNIT,
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=30),
    )
    return SigningKey(private_key=key, certificate=cert)


@pytest.fixture(scope="module")
def nss_db(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An NSS database trusting the dev CA only."""
    return verifiers.nss_db(tmp_path_factory.mktemp("nssdb"), pki.ca_cert)


@pytest.fixture(scope="module")
def letter() -> Letter:
    return Letter(
        agency=MINISTRY,
        number="123/LĐTBXH-PAKN",
        place="Hà Nội",
        date=dt.date(2026, 11, 28),
        subject="trả lời phản ánh, kiến nghị của ông Nguyễn Văn Ánh",
        recipient="Ông Nguyễn Văn Ánh",
        body=f"{SENTENCE}\n\nSố liệu: a < b & c > d; <b>không đậm</b>.\n\nTrân trọng./.",
        recipients=["Như trên;", "Bộ trưởng (để báo cáo);", "Lưu: VT, PAKN."],
        signer_name=SIGNER,
        signer_position="KT. BỘ TRƯỞNG\nTHỨ TRƯỞNG",
    )


@pytest.fixture(scope="module")
def rendered(letter: Letter) -> RenderedLetter:
    return render_letter(letter)


def sign_letter(rendered: RenderedLetter, key: SigningKey, **options: Any) -> bytes:
    return sign_pdf(
        rendered.pdf,
        key,
        signer_name=SIGNER,
        organisation=MINISTRY,
        page=rendered.signature_page,
        box=rendered.signature_box,
        **options,
    )


@pytest.fixture(scope="module")
def signed(rendered: RenderedLetter, ministry: SigningKey) -> bytes:
    return sign_letter(rendered, ministry)


# --- the letter's text ------------------------------------------------------------------------------


def test_the_rendered_letter_reads_back_with_its_diacritics(rendered: RenderedLetter, tmp_path: Path) -> None:
    text = flat(pdftotext(rendered.pdf, tmp_path))

    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 123/LĐTBXH-PAKN",
        "V/v trả lời phản ánh",
        "Hà Nội, ngày 28 tháng 11 năm 2026",
        "Kính gửi: Ông Nguyễn Văn Ánh",
        SENTENCE,
        "Số liệu: a < b & c > d; <b>không đậm</b>.",
        "Nơi nhận:",
        "KT. BỘ TRƯỞNG",
        SIGNER,
    ):
        assert expected in text, f"{expected!r} not in {text!r}"


# --- B-B --------------------------------------------------------------------------------------------


def test_b_b_signature_is_valid_for_pyhanko(signed: bytes, trust: TrustStore) -> None:
    verdict = verify_pdf(signed, trust)

    assert verdict.all_valid
    [signature] = verdict.signatures
    assert signature.signer == MINISTRY_ID
    assert signature.common_name == MINISTRY
    assert (signature.intact, signature.valid, signature.trusted) == (True, True, True)
    assert signature.coverage == "ENTIRE_FILE"
    assert not signature.has_timestamp
    assert signature.field_name.startswith("PAKN-")


def test_b_b_signature_is_valid_and_trusted_for_pdfsig(signed: bytes, nss_db: Path, tmp_path: Path) -> None:
    assert_pdfsig_accepts(pdfsig(signed, nss_db, tmp_path), count=1)


def test_signing_is_an_incremental_update(rendered: RenderedLetter, signed: bytes) -> None:
    assert signed.startswith(rendered.pdf)


def test_another_trust_store_does_not_trust_the_signature(signed: bytes) -> None:
    verdict = verify_pdf(signed, EphemeralCa.create("Some other CA").trust_store())

    [signature] = verdict.signatures
    assert signature.intact and signature.valid
    assert not signature.trusted
    assert not verdict.all_valid


def test_a_flipped_byte_in_the_signed_range_breaks_the_signature(
    signed: bytes, trust: TrustStore, nss_db: Path, tmp_path: Path
) -> None:
    # The letter's own bytes (the first revision) lie wholly inside the signed byte range; the
    # producer comment on line 2 can change without making the file unreadable.
    position = signed.index(b"ReportLab Generated PDF document")
    assert position < signed.index(b"/ByteRange")
    tampered = bytearray(signed)
    tampered[position] ^= 0x20  # "R" → "r"

    verdict = verify_pdf(bytes(tampered), trust)
    report = pdfsig(bytes(tampered), nss_db, tmp_path)

    [signature] = verdict.signatures
    assert not signature.intact
    assert not verdict.all_valid
    assert "Signature is Valid." not in report, report
    assert "Signature Validation:" in report, report  # pdfsig did examine it


def test_an_unsigned_pdf_is_not_valid(rendered: RenderedLetter, trust: TrustStore) -> None:
    verdict = verify_pdf(rendered.pdf, trust)

    assert verdict.signatures == ()
    assert not verdict.all_valid


# --- B-T --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tsa(ca: SigningKey) -> Any:
    with running_tsa(ca.certificate, ca.private_key) as local:
        yield local


def test_b_t_with_the_local_timestamp_authority(
    rendered: RenderedLetter,
    ministry: SigningKey,
    tsa: LocalTsa,
    trust: TrustStore,
    nss_db: Path,
    tmp_path: Path,
) -> None:
    asked_before = len(tsa.requests)

    signed_bt = sign_letter(rendered, ministry, tsa_url=tsa.url)

    assert len(tsa.requests) > asked_before, "the timestamp authority was never asked"
    verdict = verify_pdf(signed_bt, trust)
    assert verdict.all_valid
    [signature] = verdict.signatures
    assert signature.has_timestamp and signature.timestamp_trusted
    assert signature.signing_time is not None
    assert abs(signature.signing_time - dt.datetime.now(UTC)) < timedelta(minutes=5)
    assert_pdfsig_accepts(pdfsig(signed_bt, nss_db, tmp_path), count=1)


def test_an_unreachable_timestamp_authority_is_a_pdf_signing_error(
    rendered: RenderedLetter, ministry: SigningKey
) -> None:
    with pytest.raises(PdfSigningError):
        sign_letter(rendered, ministry, tsa_url="http://127.0.0.1:9/tsa")


# --- a supplied, already signed PDF -----------------------------------------------------------------


def test_a_supplied_signed_pdf_keeps_its_signature(
    rendered: RenderedLetter,
    unit_key: SigningKey,
    ministry: SigningKey,
    trust: TrustStore,
    nss_db: Path,
    tmp_path: Path,
) -> None:
    supplied = sign_pdf(
        rendered.pdf, unit_key, signer_name="Lê Văn Bình", organisation=UNIT, page=0, box=(90, 60, 300, 140)
    )

    both = sign_pdf(
        supplied,
        ministry,
        signer_name=SIGNER,
        organisation=MINISTRY,
        page=rendered.signature_page,
        box=rendered.signature_box,
    )

    assert both.startswith(supplied)
    verdict = verify_pdf(both, trust)
    assert verdict.all_valid
    assert [s.signer for s in verdict.signatures] == [UNIT_ID, MINISTRY_ID]
    assert [s.coverage for s in verdict.signatures] == ["ENTIRE_REVISION", "ENTIRE_FILE"]
    assert all(s.modifications_ok for s in verdict.signatures)
    assert_pdfsig_accepts(pdfsig(both, nss_db, tmp_path), count=2)


# --- the visible stamp ------------------------------------------------------------------------------


def test_the_stamp_shows_organisation_signer_and_time_at_plus_seven(
    rendered: RenderedLetter, ministry: SigningKey, trust: TrustStore, tmp_path: Path
) -> None:
    moment = dt.datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)

    signed_at = sign_letter(rendered, ministry, signing_time=moment)

    expected_time = moment.astimezone(dt.timezone(timedelta(hours=7))).isoformat()
    assert expected_time.endswith("+07:00")
    assert iso_vietnam(moment) == expected_time
    text = flat(pdftotext(signed_at, tmp_path))
    assert f"Ký bởi: {SIGNER}" in text
    assert f"Cơ quan: {MINISTRY}" in text
    assert f"Thời gian ký: {expected_time}" in text
    [signature] = verify_pdf(signed_at, trust).signatures
    assert signature.signing_time == moment  # /M is the instant the stamp shows


def test_the_stamp_text_stays_inside_its_box(signed: bytes, rendered: RenderedLetter, tmp_path: Path) -> None:
    """pyHanko sizes glyphs for 1000 units per em; DejaVu has 2048: unscaled, the text runs off the box."""
    page = str(rendered.signature_page + 1)
    html = pdftotext(signed, tmp_path, "-bbox", "-f", page, "-l", page)
    height = re.search(r'<page width="[\d.]+" height="([\d.]+)"', html)
    assert height is not None, html
    x1, y1, x2, y2 = rendered.signature_box
    stamp_lines = []  # pyHanko wraps each stamp line in /ActualText: pdftotext reports it as one "word"
    for match in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html
    ):
        left, top, right, bottom = (float(v) for v in match.groups()[:4])
        top, bottom = float(height.group(1)) - top, float(height.group(1)) - bottom  # to PDF's upward y
        if left >= x1 - 1 and bottom >= y1 - 1 and top <= y2 + 1:
            stamp_lines.append((left, right, match.group(5)))
    texts = [text for _, _, text in stamp_lines]
    assert any(text.startswith(f"Ký bởi: {SIGNER}") for text in texts), texts
    assert any(ISO_VN.search(text) for text in texts), texts
    for _left, right, text in stamp_lines:
        assert right <= x2 + 1, f"{text!r} runs to x={right}, past the stamp's right edge {x2}"


def seal_png(path: Path) -> Path:
    image = Image.new("RGBA", (160, 160), (255, 255, 255, 0))
    ImageDraw.Draw(image).ellipse((6, 6, 154, 154), outline=(200, 0, 0, 255), width=8)
    image.save(path, format="PNG")
    return path


def xobject_has_image(xobject: Any, depth: int = 0) -> bool:
    if xobject.get("/Subtype") == "/Image":
        return True
    resources = xobject.get("/Resources", {})
    children = resources.get("/XObject", {})
    return depth < 6 and any(xobject_has_image(children[name], depth + 1) for name in children)


def stamp_appearance(pdf: bytes, field_name: str) -> Any:
    reader = PdfFileReader(BytesIO(pdf))
    [field] = [f for f in reader.root["/AcroForm"]["/Fields"] if f.get_object()["/T"] == field_name]
    return field.get_object()["/AP"]["/N"]


def test_a_seal_image_sits_in_the_stamp(
    rendered: RenderedLetter,
    ministry: SigningKey,
    trust: TrustStore,
    nss_db: Path,
    tmp_path: Path,
) -> None:
    seal = seal_png(tmp_path / "seal.png")

    sealed = sign_letter(rendered, ministry, seal_image=seal, field_name="PAKN-seal")
    plain = sign_letter(rendered, ministry, field_name="PAKN-plain")

    assert verify_pdf(sealed, trust).all_valid
    assert_pdfsig_accepts(pdfsig(sealed, nss_db, tmp_path), count=1)
    assert xobject_has_image(stamp_appearance(sealed, "PAKN-seal"))
    assert not xobject_has_image(stamp_appearance(plain, "PAKN-plain"))


def test_an_unreadable_seal_image_is_a_pdf_signing_error(
    rendered: RenderedLetter, ministry: SigningKey, tmp_path: Path
) -> None:
    bogus = tmp_path / "seal.png"
    bogus.write_bytes(b"not an image")

    with pytest.raises(PdfSigningError, match="seal image"):
        sign_letter(rendered, ministry, seal_image=bogus)


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("not_before", "not_after"),
    [(timedelta(days=-60), timedelta(days=-1)), (timedelta(days=1), timedelta(days=30))],
    ids=["expired", "not-yet-valid"],
)
def test_a_certificate_not_valid_now_is_refused(
    rendered: RenderedLetter, ca: SigningKey, not_before: timedelta, not_after: timedelta
) -> None:
    now = dt.datetime.now(UTC)
    key, cert = issue_certificate(
        ca.certificate,
        ca.private_key,
        organisation_id=MINISTRY_ID,
        name=MINISTRY,
        not_before=now + not_before,
        not_after=now + not_after,
    )

    with pytest.raises(CertificateExpired) as raised:
        sign_letter(rendered, SigningKey(private_key=key, certificate=cert))
    assert raised.value.code == "CertificateExpired"


@pytest.mark.parametrize(
    ("pdf", "options", "message"),
    [
        (b"GIF89a not a pdf", {}, "not a PDF"),
        (b"%PDF-1.7\n garbage", {}, "cannot be read"),
        (None, {"page": 5}, "out of range"),
        (None, {"box": (0.0, 0.0, 10.0, 10.0)}, "smaller"),
        (None, {"box": (500.0, 800.0, 900.0, 900.0)}, "outside"),
    ],
    ids=["not-pdf", "garbage", "page", "tiny-box", "off-page"],
)
def test_bad_input_is_a_pdf_signing_error(
    rendered: RenderedLetter, ministry: SigningKey, pdf: bytes | None, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(PdfSigningError, match=message) as raised:
        sign_pdf(pdf or rendered.pdf, ministry, signer_name=SIGNER, organisation=MINISTRY, **options)
    assert raised.value.code == "PdfSigningError"


def test_a_field_name_already_used_is_refused(signed: bytes, ministry: SigningKey, trust: TrustStore) -> None:
    [existing] = verify_pdf(signed, trust).signatures

    with pytest.raises(PdfSigningError, match="already has a signature field"):
        sign_pdf(signed, ministry, signer_name=SIGNER, organisation=MINISTRY, field_name=existing.field_name)


def test_a_field_name_with_a_dot_is_refused(rendered: RenderedLetter, ministry: SigningKey) -> None:
    with pytest.raises(PdfSigningError, match="without dots"):
        sign_pdf(rendered.pdf, ministry, signer_name=SIGNER, organisation=MINISTRY, field_name="a.b")


async def test_inside_an_event_loop_the_async_variant_signs(
    rendered: RenderedLetter, ministry: SigningKey, trust: TrustStore
) -> None:
    with pytest.raises(RuntimeError, match="async_sign_pdf"):
        sign_pdf(rendered.pdf, ministry, signer_name=SIGNER, organisation=MINISTRY)

    with pytest.raises(RuntimeError, match="async_verify_pdf"):
        verify_pdf(rendered.pdf, trust)

    signed_async = await async_sign_pdf(rendered.pdf, ministry, signer_name=SIGNER, organisation=MINISTRY)
    signed_in_thread = await asyncio.to_thread(
        sign_pdf, rendered.pdf, ministry, signer_name=SIGNER, organisation=MINISTRY
    )

    assert (await async_verify_pdf(signed_async, trust)).all_valid
    assert (await asyncio.to_thread(verify_pdf, signed_in_thread, trust)).all_valid
