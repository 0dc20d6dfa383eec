"""Personal data out of log text: the masking of `gateway.domain.personal_data` (emails, phone
numbers, citizen id numbers; the last three digits and an address's first letter and domain kept,
so two values can still be told apart in a log), applied to text and to structured log fields.

Not recognised: phone numbers of other countries, personal names and addresses (free text cannot be
told from a name by a pattern).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.domain.personal_data import mask_text as _mask_text


def mask_text(text: str) -> str:
    """``text`` with every e-mail, phone number and citizen id number masked."""
    return _mask_text(text) or text


def mask_value(value: Any) -> Any:
    """``mask_text`` applied to every string inside lists, tuples and mappings (keys are kept)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(item) for item in value]
    return value
