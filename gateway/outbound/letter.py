"""The official answer letter (công văn) the gateway renders when a unit answers without a PDF.

Layout after Decree 30/2020/NĐ-CP, Appendix I: A4 portrait, margins top 20 mm, bottom 20 mm, left
30 mm, right 15 mm; a two-column header (issuing agency and "Số:" on the left; Quốc hiệu, Tiêu ngữ
and place/date on the right), "V/v" under the number, "Kính gửi:", justified body paragraphs with a
first-line indent, "Nơi nhận:" bottom left and the signer block bottom right, page numbers from page
2 centred in the top margin. The Decree asks for Times New Roman; the shipped DejaVu Serif (from
``signing``, so the stamp and the letter share one font directory) stands in for it, and is
embedded so the Vietnamese text renders and extracts on any reader.

The signer block leaves an empty area for the visible signature stamp; :func:`render_letter`
reports where it landed (always on the last page), so the signer can put the stamp there.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from signing import font_path

__all__ = ["MARGINS_MM", "SIGNATURE_SIZE", "Letter", "RenderedLetter", "render_letter"]

QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"
MARGINS_MM = {"top": 20.0, "bottom": 20.0, "left": 30.0, "right": 15.0}
SIGNATURE_SIZE = (245.0, 85.0)
"""Width and height (points) of the empty area left in the signer block for the signature stamp."""

_FONTS = {  # reportlab name → shipped file
    "PAKN-Serif": "DejaVuSerif.ttf",
    "PAKN-Serif-Bold": "DejaVuSerif-Bold.ttf",
    "PAKN-Serif-Italic": "DejaVuSerif-Italic.ttf",
    "PAKN-Serif-BoldItalic": "DejaVuSerif-BoldItalic.ttf",
}
_REGULAR, _BOLD, _ITALIC, _BOLD_ITALIC = _FONTS
_BODY_SIZE = 13.0
_HEADER_SIZE = 12.0
_LEFT_COLUMN = 0.40  # share of the text width taken by the agency column of the header
_PAGE_WIDTH, _PAGE_HEIGHT = A4
_TEXT_FIELDS = (
    *("agency_parent", "agency", "unit", "number", "place", "subject", "recipient", "body"),
    *("signer_name", "signer_position"),
)
_REQUIRED_FIELDS = ("agency", "number", "place", "subject", "body", "signer_name", "signer_position")
_TEXT_WIDTH = _PAGE_WIDTH - (MARGINS_MM["left"] + MARGINS_MM["right"]) * mm


@dataclass(frozen=True, kw_only=True)
class Letter:
    """What the letter says; every text is normalised to Unicode NFC on creation.

    ``agency`` is the issuing body (e.g. "Bộ Lao động - Thương binh và Xã hội"); ``agency_parent`` an
    optional managing body printed above it; ``unit`` an optional issuing unit under the agency (then
    the agency becomes a managing line and the unit is the issuer, in bold). ``body`` holds paragraphs
    separated by blank lines; ``signer_position`` may span lines ("KT. BỘ TRƯỞNG\\nTHỨ TRƯỞNG").
    """

    agency_parent: str | None = None
    agency: str
    unit: str | None = None
    number: str
    place: str
    date: datetime.date
    subject: str
    recipient: str
    body: str
    recipients: Sequence[str] = field(default_factory=tuple)
    signer_name: str
    signer_position: str

    def __post_init__(self) -> None:
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, unicodedata.normalize("NFC", value))
        object.__setattr__(
            self, "recipients", tuple(unicodedata.normalize("NFC", r) for r in self.recipients)
        )
        for name in _REQUIRED_FIELDS:
            if not getattr(self, name).strip():
                raise ValueError(f"a letter needs a non-empty {name}")


@dataclass(frozen=True)
class RenderedLetter:
    """The PDF and where its signature stamp belongs: a 0-based page index and (x1, y1, x2, y2) points."""

    pdf: bytes = field(repr=False)
    signature_page: int
    signature_box: tuple[float, float, float, float]


def render_letter(letter: Letter) -> RenderedLetter:
    """Render ``letter`` as an A4 PDF with embedded fonts; long bodies flow onto further pages."""
    _register_fonts()
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        topMargin=MARGINS_MM["top"] * mm,
        bottomMargin=MARGINS_MM["bottom"] * mm,
        leftMargin=MARGINS_MM["left"] * mm,
        rightMargin=MARGINS_MM["right"] * mm,
        title=f"{letter.number} V/v {letter.subject}",
        author=letter.unit or letter.agency,
        subject=letter.subject,
        creator="PAKN Gateway",
        lang="vi",
        initialFontName=_REGULAR,  # reportlab's default is a non-embedded Helvetica
        initialFontSize=_BODY_SIZE,
    )
    signature = _SignatureSpace(*SIGNATURE_SIZE)
    story: list[Any] = [
        _header(letter),
        Spacer(1, 6 * mm),
        Paragraph(f"Kính gửi: {_markup(letter.recipient)}", _style("recipient", alignment=TA_CENTER)),
        Spacer(1, 4 * mm),
        *_body(letter.body),
        KeepTogether([Spacer(1, 4 * mm), _closing(letter, signature)]),
    ]
    document.build(story, onLaterPages=_page_number)
    if signature.placed is None:  # pragma: no cover - the story always draws its last flowable
        raise RuntimeError("the signer block was not drawn")
    page, box = signature.placed
    return RenderedLetter(pdf=buffer.getvalue(), signature_page=page, signature_box=box)


def date_line(place: str, date: datetime.date) -> str:
    """ "Hà Nội, ngày 05 tháng 02 năm 2026": days below 10 and months 1 and 2 take a leading zero."""
    month = f"{date.month:02d}" if date.month <= 2 else str(date.month)
    return f"{place}, ngày {date.day:02d} tháng {month} năm {date.year}"


class _SignatureSpace(Flowable):  # type: ignore[misc]
    """An empty, fixed-size area that records where it was drawn (page index, box in PDF points)."""

    def __init__(self, width: float, height: float) -> None:
        super().__init__()
        self.width = width
        self.height = height
        self.placed: tuple[int, tuple[float, float, float, float]] | None = None

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        x1, y1 = self.canv.absolutePosition(0, 0)
        x2, y2 = self.canv.absolutePosition(self.width, self.height)
        box = (round(x1, 2), round(y1, 2), round(x2, 2), round(y2, 2))
        self.placed = (self.canv.getPageNumber() - 1, box)


def _header(letter: Letter) -> Table:
    left_width = _TEXT_WIDTH * _LEFT_COLUMN
    right_width = _TEXT_WIDTH - left_width
    issuer_lines = [line for line in (letter.agency_parent, letter.agency, letter.unit) if line]
    managing, issuer = issuer_lines[:-1], issuer_lines[-1]
    left: list[Any] = [
        Paragraph(_markup(line.upper()), _style("managing", font=_REGULAR, size=_HEADER_SIZE))
        for line in managing
    ]
    left += [
        Paragraph(_markup(issuer.upper()), _style("issuer", font=_BOLD, size=_HEADER_SIZE)),
        HRFlowable(width="35%", thickness=0.6, color="black", spaceBefore=1, spaceAfter=0),
    ]
    quoc_hieu_size = _fit(QUOC_HIEU, _BOLD, _HEADER_SIZE, right_width - 6)
    tieu_ngu_size = _fit(TIEU_NGU, _BOLD, _BODY_SIZE, right_width - 6)
    right: list[Any] = [
        Paragraph(QUOC_HIEU, _style("quoc-hieu", font=_BOLD, size=quoc_hieu_size)),
        Paragraph(TIEU_NGU, _style("tieu-ngu", font=_BOLD, size=tieu_ngu_size)),
        HRFlowable(
            width=pdfmetrics.stringWidth(TIEU_NGU, _BOLD, tieu_ngu_size),
            thickness=0.6,
            color="black",
            spaceBefore=1,
            spaceAfter=0,
        ),
    ]
    date_text = date_line(letter.place, letter.date)
    number: list[Any] = [
        Paragraph(f"Số: {_markup(letter.number)}", _style("number")),
        Paragraph(f"V/v {_markup(letter.subject)}", _style("subject", size=_HEADER_SIZE)),
    ]
    dated = Paragraph(
        _markup(date_text),
        _style("date", font=_ITALIC, size=_fit(date_text, _ITALIC, _BODY_SIZE, right_width - 6)),
    )
    table = Table([[left, right], [number, dated]], colWidths=[left_width, right_width])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _REGULAR),  # the default, Helvetica, would not be embedded
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 1), (-1, 1), 4 * mm),
            ]
        )
    )
    return table


def _body(body: str) -> list[Any]:
    style = _style(
        "body", alignment=TA_JUSTIFY, first_line_indent=10 * mm, leading=_BODY_SIZE * 1.35, space_after=6
    )
    paragraphs = [" ".join(chunk.split()) for chunk in _paragraphs(body)]
    return [Paragraph(_markup(text), style) for text in paragraphs if text]


def _paragraphs(body: str) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    for line in body.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            chunks.append(" ".join(current))
            current = []
    if current:
        chunks.append(" ".join(current))
    return chunks


def _closing(letter: Letter, signature: _SignatureSpace) -> Table:
    left_width = _TEXT_WIDTH * 0.45
    right_width = _TEXT_WIDTH - left_width
    recipients: list[Any] = [
        Paragraph("Nơi nhận:", _style("to-title", font=_BOLD_ITALIC, size=12, alignment=TA_LEFT))
    ]
    item_style = _style("to-item", size=11, alignment=TA_LEFT, leading=13)
    for item in letter.recipients:
        text = item.strip()
        recipients.append(Paragraph(_markup(text if text.startswith("-") else f"- {text}"), item_style))
    position = "<br/>".join(
        _markup(line.strip().upper()) for line in letter.signer_position.splitlines() if line.strip()
    )
    signer: list[Any] = [
        Paragraph(position, _style("position", font=_BOLD)),
        signature,
        Paragraph(_markup(letter.signer_name), _style("signer", font=_BOLD)),
    ]
    table = Table([[recipients, signer]], colWidths=[left_width, right_width])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _REGULAR),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _page_number(canvas: Any, document: Any) -> None:
    """Decree 30: page numbers from the second page on, centred in the top margin."""
    canvas.saveState()
    canvas.setFont(_REGULAR, _BODY_SIZE)
    canvas.drawCentredString(_PAGE_WIDTH / 2, _PAGE_HEIGHT - 12 * mm, str(document.page))
    canvas.restoreState()


def _style(
    name: str,
    *,
    font: str = _REGULAR,
    size: float = _BODY_SIZE,
    alignment: int = TA_CENTER,
    leading: float | None = None,
    first_line_indent: float = 0,
    space_after: float = 0,
) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=font,
        fontSize=size,
        leading=leading if leading is not None else size * 1.25,
        alignment=alignment,
        firstLineIndent=first_line_indent,
        spaceAfter=space_after,
    )


def _fit(text: str, font: str, size: float, width: float, *, smallest: float = 9.0) -> float:
    """The largest size, ``size`` at most, at which ``text`` fits ``width`` on one line (DejaVu is wider
    than the Times New Roman the Decree's sizes assume)."""
    while size > smallest and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _markup(text: str) -> str:
    """Text as reportlab paragraph markup: &, < and > escaped, so a petition cannot inject tags."""
    return str(escape(text))


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    for name, file in _FONTS.items():
        pdfmetrics.registerFont(TTFont(name, str(font_path(file))))
    pdfmetrics.registerFontFamily(
        _REGULAR, normal=_REGULAR, bold=_BOLD, italic=_ITALIC, boldItalic=_BOLD_ITALIC
    )
