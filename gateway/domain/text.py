"""Vietnamese text is data: every string entering the domain is stored in Unicode NFC."""

import unicodedata


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def nfc_opt(value: str | None) -> str | None:
    return None if value is None else nfc(value)
