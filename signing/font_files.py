"""The TrueType fonts shipped with the package (DejaVu, see ``signing/fonts/LICENSE-DejaVu.txt``).

Both the answer letter and the visible PDF signature stamp need an embedded font that has the
Vietnamese glyphs: PDF's standard fonts (and pyHanko's default Courier) turn "Hà Nội" into mojibake.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["FONT_FILES", "font_path"]

FONT_FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerif-BoldItalic.ttf",
)
"""Every font file in ``signing/fonts/``."""


def font_path(name: str = "DejaVuSerif.ttf") -> Path:
    """The file system path of a shipped font; ``ValueError`` for a name not in :data:`FONT_FILES`."""
    if name not in FONT_FILES:
        raise ValueError(f"no shipped font {name!r}; available: {', '.join(FONT_FILES)}")
    path = Path(str(files("signing").joinpath("fonts", name)))
    if not path.is_file():  # an installation that lost its package data
        raise FileNotFoundError(f"font {name} is missing from {path.parent} (package data not installed?)")
    return path
