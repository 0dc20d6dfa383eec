"""What the public may read of a petition and its answer: the sender's personal data removed.

Two passes, both needed. First the sender's own values, known from the petition, wherever they
were typed (a citizen writes "Tôi là Nguyễn Văn A, cư trú tại …, SĐT 0912 345 678"; a unit's
answer may address them by name): full name, id number, tax code, phone in any grouping, email,
address line. Then the patterns the console masks for viewers (gateway.domain.personal_data: emails and
runs of 9+ digits), for a relative's phone or an id number the petition does not declare.

Unlike the console's masking, nothing is kept (no last digits, no first letter): the reader is
anyone. Pure functions; NFC in, NFC out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.domain.personal_data import DIGIT_RUN, EMAIL
from gateway.domain.petition import Sender
from gateway.domain.search import normalise_phone

WITHHELD = "[đã ẩn]"
"""What stands where personal data was ("hidden"); short, so a sentence still reads."""

_MIN_VALUE = 3  # a shorter "name" (a typo, an initial) would blank out ordinary words


@dataclass(frozen=True)
class Redactor:
    """Removes one sender's personal data from any text about their petition."""

    patterns: tuple[re.Pattern[str], ...]

    def __call__(self, text: str) -> str:
        out = unicodedata.normalize("NFC", text)
        for pattern in self.patterns:
            out = pattern.sub(WITHHELD, out)
        out = EMAIL.sub(WITHHELD, out)
        return DIGIT_RUN.sub(WITHHELD, out)


def redactor_for(sender: Sender) -> Redactor:
    address = sender.address.line if sender.address else None
    words = [sender.full_name, address, sender.email]
    digits = [sender.id_number, sender.tax_code, normalise_phone(sender.phone)]  # +84… read as 0…
    patterns = [_words(v) for v in _longest_first(words)]
    patterns += [_digits(v) for v in _longest_first(digits, digits_only=True)]
    return Redactor(tuple(patterns))


def _longest_first(values: Iterable[str | None], *, digits_only: bool = False) -> list[str]:
    kept = set()
    for value in values:
        if not value:
            continue
        value = "".join(c for c in value if c.isdigit()) if digits_only else " ".join(value.split())
        if len(value) >= _MIN_VALUE:
            kept.add(unicodedata.normalize("NFC", value))
    return sorted(kept, key=len, reverse=True)


def _words(value: str) -> re.Pattern[str]:
    """The value as typed, any case, any run of whitespace between its words."""
    parts = [re.escape(part) for part in value.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", re.IGNORECASE)


def _digits(value: str) -> re.Pattern[str]:
    """The digits in any grouping (spaces, dots, dashes); a phone also as +84 / 0084 / (+84)."""
    body = value[1:] if value.startswith("0") else value
    grouped = r"[ .-]?".join(re.escape(d) for d in body)
    prefix = r"(?:0|\(?\+84\)?[ .-]?|0084[ .-]?|84[ .-]?)" if value.startswith("0") else ""
    return re.compile(r"(?<!\d)" + prefix + grouped + r"(?!\d)")
