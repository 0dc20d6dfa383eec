"""The ministry's answer to a petition, as the national portal receives it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Answer:
    answer_id: str
    petition_id: str
    unit_code: str
    content: str
    answered_at: datetime
    signer_name: str
    signer_position: str
    publish: bool
    document_name: str
    document: bytes = field(repr=False)  # the PAdES-signed PDF letter
    document_sha256: str = ""
