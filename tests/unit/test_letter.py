"""The answer letter renderer: an A4 PDF after Decree 30/2020 with embedded fonts, read back in memory."""

from __future__ import annotations

import datetime
import unicodedata
from io import BytesIO
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from gateway.outbound.letter import MARGINS_MM, SIGNATURE_SIZE, Letter, date_line, render_letter

pytestmark = pytest.mark.unit

MM = 72 / 25.4
A4 = (595.28, 841.89)
SENTENCE = (
    "Bộ Lao động - Thương binh và Xã hội nhận được phản ánh, kiến nghị của ông Nguyễn Văn Ánh về việc "
    "giải quyết chế độ trợ cấp ưu đãi đối với người có công với cách mạng."
)


def letter(body: str = SENTENCE, **changes: Any) -> Letter:
    fields: dict[str, Any] = {
        "agency": "Bộ Lao động - Thương binh và Xã hội",
        "number": "123/LĐTBXH-PAKN",
        "place": "Hà Nội",
        "date": datetime.date(2026, 11, 28),
        "subject": "trả lời phản ánh, kiến nghị của ông Nguyễn Văn Ánh",
        "recipient": "Ông Nguyễn Văn Ánh",
        "body": body,
        "recipients": ["Như trên;", "Bộ trưởng (để báo cáo);", "Lưu: VT, PAKN."],
        "signer_name": "Trần Thị Hương",
        "signer_position": "KT. BỘ TRƯỞNG\nTHỨ TRƯỞNG",
    }
    fields.update(changes)
    return Letter(**fields)


def long_body(paragraphs: int) -> str:
    return "\n\n".join(f"Đoạn {i}. {SENTENCE} {SENTENCE} {SENTENCE}" for i in range(1, paragraphs + 1))


def pages(pdf: bytes) -> list[Any]:
    reader = PdfFileReader(BytesIO(pdf))
    return [reader.find_page_for_modification(i)[0].get_object() for i in range(_page_count(reader))]


def _page_count(reader: PdfFileReader) -> int:
    return int(reader.root["/Pages"]["/Count"])


def fonts_of(page: Any) -> list[Any]:
    resources = page["/Resources"]
    return [resources["/Font"][name] for name in resources["/Font"]] if "/Font" in resources else []


def test_renders_an_a4_pdf() -> None:
    rendered = render_letter(letter())

    assert rendered.pdf.startswith(b"%PDF-")
    [page] = pages(rendered.pdf)
    x1, y1, x2, y2 = (float(v) for v in page["/MediaBox"])
    assert (x1, y1) == (0, 0)
    assert (x2, y2) == pytest.approx(A4, abs=0.01)


def test_every_font_is_an_embedded_dejavu() -> None:
    [page] = pages(render_letter(letter()).pdf)

    fonts = fonts_of(page)
    assert len(fonts) >= 3  # regular, bold, italic at least (the header uses all three)
    for font in fonts:
        assert "DejaVuSerif" in str(font["/BaseFont"])
        descriptor = font["/FontDescriptor"]
        assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"


def test_a_long_body_flows_over_three_pages_and_the_signer_block_is_on_the_last() -> None:
    rendered = render_letter(letter(long_body(14)))

    all_pages = pages(rendered.pdf)
    assert len(all_pages) >= 3
    assert rendered.signature_page == len(all_pages) - 1
    for page in all_pages:
        for font in fonts_of(page):
            assert "/FontFile2" in font["/FontDescriptor"]


def test_a_short_letter_is_one_page_with_the_signature_box_in_the_signer_column() -> None:
    rendered = render_letter(letter())

    assert rendered.signature_page == 0
    x1, y1, x2, y2 = rendered.signature_box
    assert (x2 - x1, y2 - y1) == pytest.approx(SIGNATURE_SIZE, abs=0.01)
    assert x1 > A4[0] / 2 - 30, "the signer block is the right-hand column"
    assert x2 <= A4[0] - MARGINS_MM["right"] * MM + 0.01
    assert y1 >= MARGINS_MM["bottom"] * MM - 0.01


def test_markup_in_the_text_is_printed_not_interpreted() -> None:
    rendered = render_letter(letter("Số liệu: a < b & c > d, <b>không đậm</b> <font size=40>x</font>"))

    assert rendered.pdf.startswith(b"%PDF-")


def test_text_is_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn Ánh")

    made = letter(signer_name=decomposed, recipients=[decomposed])

    assert made.signer_name == "Nguyễn Văn Ánh"
    assert made.recipients == ("Nguyễn Văn Ánh",)
    assert unicodedata.is_normalized("NFC", made.signer_name)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (datetime.date(2026, 11, 28), "Hà Nội, ngày 28 tháng 11 năm 2026"),
        (datetime.date(2026, 2, 5), "Hà Nội, ngày 05 tháng 02 năm 2026"),
        (datetime.date(2026, 3, 9), "Hà Nội, ngày 09 tháng 3 năm 2026"),
    ],
)
def test_date_line_pads_days_below_ten_and_months_one_and_two(date: datetime.date, expected: str) -> None:
    assert date_line("Hà Nội", date) == expected


@pytest.mark.parametrize("field", ["agency", "number", "body", "signer_name"])
def test_a_letter_without_a_required_text_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        letter(**{field: "  "})


def test_a_parent_agency_and_a_unit_render() -> None:
    rendered = render_letter(
        letter(agency_parent="Chính phủ", unit="Cục Bảo trợ xã hội", number="45/BTXH-PAKN")
    )

    assert len(pages(rendered.pdf)) == 1
