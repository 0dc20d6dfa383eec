"""The stamp font: cut down so that pyHanko's per-signature subsetting stays cheap, yet every
Vietnamese letter of an NFC stamp text is still a glyph of its own."""

from __future__ import annotations

import unicodedata
from io import BytesIO

import pytest
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

from signing.pdf_sign import STAMP_FONT
from signing.stamp_font import PDF_UNITS_PER_EM, stamp_font_bytes

pytestmark = pytest.mark.unit

VIETNAMESE = "ăâđêôơưĂÂĐÊÔƠƯ" + "".join(chr(c) for c in range(0x1EA0, 0x1EFA))  # ạ…ỹ, Ạ…Ỹ


@pytest.fixture(scope="module")
def font() -> TTFont:
    return TTFont(BytesIO(stamp_font_bytes(STAMP_FONT)))


def test_the_stamp_font_has_no_layout_tables(font: TTFont) -> None:
    # they were re-read at every signature (most of its cost) and an NFC text needs none of them
    assert not {"GSUB", "GPOS", "GDEF"} & set(font.keys())


def test_every_precomposed_vietnamese_letter_has_its_glyph(font: TTFont) -> None:
    cmap = font.getBestCmap()
    missing = [ch for ch in VIETNAMESE if ord(ch) not in cmap]
    assert missing == []
    sample = unicodedata.normalize("NFC", "Nguyễn Thị Minh Hằng, Phó Chánh Văn phòng Bộ")
    assert all(ord(ch) in cmap for ch in sample)


def test_the_stamp_font_is_on_a_thousand_unit_em(font: TTFont) -> None:
    assert font["head"].unitsPerEm == PDF_UNITS_PER_EM
