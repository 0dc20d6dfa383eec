"""Personal data masked for those who may not see it (DESIGN §5): citizen id numbers, phones and
emails — in what viewers are shown (gateway.ops, gateway.console), in log lines
(gateway.observability) and, with nothing kept, in published answers (gateway.public). One set of
patterns for all of them, so that what is hidden in one place is hidden in every place.

What is kept is enough to tell two people apart on a call, not to reach them: the last three
digits of a phone or id number, the first letter of an email's mailbox and its domain. Free text
(titles, contents, notes, comments) is masked too, since citizens write their phone number into
their petition: an email, a 9- or 12-digit id, a phone number written with spaces, dots or dashes.
"""

from __future__ import annotations

import re

MASK = "•"
KEEP_DIGITS = 3

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 9 or more digits, possibly grouped by single spaces, dots or dashes, optionally +84 or (+84):
# phones (10 digits), old (9) and new (12) citizen id numbers, social insurance codes. Not a run
# glued to a word by a dash, dot or slash ("PAKN-2026-000001", a document number "123/2025/QĐ").
# Dates and most amounts have fewer digits; an amount of 9+ digits is masked too (better so).
DIGIT_RUN = re.compile(r"(?<![\w+./-])(?:\(?\+84\)?[ .-]?)?\d(?:[ .-]?\d){8,}(?![\w/-])")


def mask_digits(value: str | None) -> str | None:
    """Every digit but the last three becomes •; separators stay, so the shape is still seen."""
    if value is None:
        return None
    total = sum(c.isdigit() for c in value)
    if total == 0:
        return MASK * 3 if value else value
    seen = 0
    out = []
    for c in value:
        if c.isdigit():
            seen += 1
            out.append(c if seen > total - KEEP_DIGITS else MASK)
        else:
            out.append(c)
    return "".join(out)


def mask_phone(value: str | None) -> str | None:
    return mask_digits(value)


def mask_id_number(value: str | None) -> str | None:
    return mask_digits(value)


def mask_email(value: str | None) -> str | None:
    """"nguyen.van.a@gmail.com" → "n•••@gmail.com"."""
    if value is None:
        return None
    mailbox, at, domain = value.partition("@")
    if not at:
        return MASK * 3
    return f"{mailbox[:1]}{MASK * 3}@{domain}"


def mask_text(value: str | None) -> str | None:
    """Emails and long digit runs inside free text, masked as above; the rest as written."""
    if value is None:
        return None
    masked = EMAIL.sub(lambda m: mask_email(m.group(0)) or "", value)
    return DIGIT_RUN.sub(lambda m: mask_digits(m.group(0)) or "", masked)
