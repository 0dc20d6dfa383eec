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
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().replace("đ", "d")
    spaced = "".join(c if c.isalnum() else " " for c in bare)
    return " ".join(spaced.split())
