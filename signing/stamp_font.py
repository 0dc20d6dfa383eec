"""The embedded font of the visible signature stamp, fixed for pyHanko's 1000-units-per-em assumption.

pyHanko 0.38's ``GlyphAccumulator`` writes glyph widths (/W), TJ adjustments and the font descriptor
in the font's own units, while PDF reads them as thousandths of an em. Fonts drawn on a 1000-unit
em (most CFF/OpenType fonts, Noto Sans) come out right; TrueType fonts on 2048 units — DejaVu
among them — come out with every glyph advanced twice its width, the text running off the stamp.
No error, no warning: only a rendered page shows it. So the stamp font is rescaled to 1000 units
per em once per process (in memory, after cutting it down to the scripts a stamp can need: Latin
with Vietnamese, Greek, Cyrillic, punctuation) and handed to pyHanko from memory — which also avoids
``GlyphAccumulatorFactory`` leaving its font file open.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from typing import Any

from fontTools import subset  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fontTools.ttLib.scaleUpem import scale_upem  # type: ignore[import-untyped]
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.writer import BasePdfFileWriter

from signing.font_files import font_path

__all__ = ["StampFontFactory", "stamp_font_bytes", "text_width"]

PDF_UNITS_PER_EM = 1000
_UNICODE_RANGES = (
    (0x0020, 0x052F),  # Latin, Latin-1, Latin Extended-A/B, IPA, combining marks, Greek, Cyrillic
    (0x1E00, 0x1EFF),  # Latin Extended Additional: the precomposed Vietnamese letters
    (0x2000, 0x20CF),  # punctuation, super/subscripts, currency (₫)
    (0x2100, 0x214F),  # letterlike symbols (№)
)


@lru_cache(maxsize=4)
def stamp_font_bytes(name: str) -> bytes:
    """The shipped font ``name``, cut to the stamp's scripts and rescaled to 1000 units per em."""
    font = TTFont(font_path(name))
    options = subset.Options()
    # No layout tables (GSUB, GPOS, GDEF): pyHanko subsets the font again for every signature, and
    # reading them was most of a signature's cost (BENCHMARKS.md: PAdES signing 10 → 21 per second).
    # The stamp's text is NFC, so every Vietnamese letter is one precomposed glyph of the cmap and
    # needs no substitution nor mark positioning; only kerning goes, which text_width never counted.
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = True
    options.hinting = False  # hinting matters on screens at small pixel sizes, not in a PDF stamp
    options.drop_tables += ["FFTM"]  # FontForge's timestamp table: fontTools cannot subset it
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=[code for low, high in _UNICODE_RANGES for code in range(low, high + 1)])
    subsetter.subset(font)
    if font["head"].unitsPerEm != PDF_UNITS_PER_EM:
        scale_upem(font, PDF_UNITS_PER_EM)
    buffer = BytesIO()
    font.save(buffer)
    return buffer.getvalue()


@lru_cache(maxsize=4)
def _metrics(name: str) -> tuple[dict[int, str], dict[str, tuple[int, int]]]:
    font = TTFont(BytesIO(stamp_font_bytes(name)))
    return dict(font.getBestCmap()), dict(font["hmtx"].metrics)


def text_width(name: str, text: str, font_size: float) -> float:
    """Width in points of ``text`` set in :func:`stamp_font_bytes` ``name`` (no kerning: a bound)."""
    cmap, advances = _metrics(name)
    units = sum(advances.get(cmap.get(ord(char), ".notdef"), (0, 0))[0] for char in text)
    return units * font_size / PDF_UNITS_PER_EM


class StampFontFactory(FontEngineFactory):
    """Makes pyHanko glyph accumulators over :func:`stamp_font_bytes` (one per signature)."""

    def __init__(self, name: str, font_size: int) -> None:
        self.name = name
        self.font_size = font_size

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: Any = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()  # type: ignore[no-untyped-call]
        return GlyphAccumulator(
            writer=writer,
            font_handle=BytesIO(stamp_font_bytes(self.name)),
            font_size=self.font_size,
            obj_stream=obj_stream,
        )
