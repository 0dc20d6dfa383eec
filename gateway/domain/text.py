"""Vietnamese text is data: every string entering the domain is stored in Unicode NFC.

`fold` is the one exception, and it never replaces the data: it makes the search key that lets
"nguoi co cong" find "người có công" (diacritics and case dropped, đ/Đ read as d, punctuation as a
space), kept beside the text it was made from.
"""

import unicodedata


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def nfc_opt(value: str | None) -> str | None:
    return None if value is None else nfc(value)


def fold(value: str) -> str:
    """Search key: NFKD, combining marks removed, casefolded, đ → d, runs of anything that is not a
    letter or digit collapsed to one space. The same function folds stored text and queries."""
    return " ".join(value.translate(_FOLDED).split())


def _fold_char(char: str) -> str:
    # Per character is the same as per string here: decomposition and casefolding are per
    # character, and the combining marks that canonical reordering would move are all dropped.
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else " " for c in bare.casefold().replace("đ", "d"))


class _FoldTable(dict[int, str]):
    """str.translate table filled on first sight of each character: one entry per code point ever
    seen (a Vietnamese text uses a few hundred; all of Unicode would be a few MB)."""

    def __missing__(self, codepoint: int) -> str:
        folded = self[codepoint] = _fold_char(chr(codepoint))
        return folded


_FOLDED = _FoldTable()
