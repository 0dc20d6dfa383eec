"""Personal data out of log text (DESIGN §5): e-mail addresses, Vietnamese phone numbers, citizen id
numbers (CCCD, 12 digits; the older CMND, 9 digits).

Masking errs on the side of the citizen: any free-standing run of 9 or 12 digits is masked, whether
it is an id number or not. What stays readable is what an operator needs to tell two values apart
in a log: the last three digits, the first letter of an address and its domain. Digits glued to
letters, dashes or slashes are parts of identifiers (PetitionIds such as ``PAKN-2026-123456789``,
UUIDs, paths) and are left alone.

Not recognised: id numbers written with spaces inside (``001 203 004 567``), phone numbers of other
countries, personal names and addresses (free text cannot be told from a name by a pattern).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

KEEP_DIGITS = 3
# before a value: not part of a word, an identifier (-, /), a decimal (.) or a "+84" already taken
_START = r"(?<![\w.\-/+])"
# after it: not part of a word or identifier, not a decimal point followed by more digits
_END = r"(?![\w\-/]|[.,]\d)"

EMAIL = re.compile(r"(?<![\w.+\-])([\w.+\-]+)@([\w\-]+(?:\.[\w\-]+)+)")
PHONE = re.compile(_START + r"(?:(?:\+84|0084)[ .\-]?|0)\d(?:[ .\-]?\d){8,9}" + _END)
"""0 or +84, then 9 digits (mobile: 0912 345 678) or 10 (landline: 024 3825 1234), with optional
single spaces, dots or dashes between digits (not right after the 0: "0.123456789" is a number)."""
CITIZEN_ID = re.compile(_START + r"(?:\d{12}|\d{9})" + _END)
"""CCCD (12 digits) or CMND (9 digits), free-standing."""


def mask_text(text: str) -> str:
    """``text`` with every e-mail, phone number and citizen id number masked."""
    if not text:
        return text
    text = EMAIL.sub(_mask_email, text)
    text = PHONE.sub(_mask_digits, text)
    return CITIZEN_ID.sub(_mask_digits, text)


def mask_value(value: Any) -> Any:
    """``mask_text`` applied to every string inside lists, tuples and mappings (keys are kept)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(item) for item in value]
    return value


def _mask_email(match: re.Match[str]) -> str:
    local, domain = match.group(1), match.group(2)
    return f"{local[0]}***@{domain}"


def _mask_digits(match: re.Match[str]) -> str:
    """Every digit but the last three becomes ``*``; separators and a leading ``+`` stay."""
    value = match.group(0)
    digits = sum(ch.isdigit() for ch in value)
    hide = digits - KEEP_DIGITS
    out: list[str] = []
    for ch in value:
        if ch.isdigit() and hide > 0:
            out.append("*")
            hide -= 1
        else:
            out.append(ch)
    return "".join(out)
