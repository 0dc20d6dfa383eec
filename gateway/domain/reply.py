"""What a ministry unit says back about a case it holds (over AMQP or REST)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gateway.domain.text import nfc, nfc_opt


class ReplyKind(StrEnum):
    CLAIM = "claim"  # → 05 processing
    NOTE = "note"  # progress note, status unchanged
    ANSWER = "answer"  # → 06 completed, with the signed answer letter
    TRANSFER = "transfer"  # to another unit of the ministry (→ 04 at the new unit)
    TRANSFER_OUT = "transfer_out"  # outside the ministry's competence (→ 07, RequestTransfer)


@dataclass(frozen=True)
class AnswerDraft:
    content: str
    signer_name: str
    signer_position: str
    publish: bool
    pdf: bytes | None = None  # a letter the unit made itself; rendered by the gateway if absent

    def __post_init__(self) -> None:
        object.__setattr__(self, "content", nfc(self.content))
        object.__setattr__(self, "signer_name", nfc(self.signer_name))
        object.__setattr__(self, "signer_position", nfc(self.signer_position))


@dataclass(frozen=True)
class UnitReply:
    message_id: str
    kind: ReplyKind
    petition_id: str
    unit_code: str
    at: datetime
    note: str | None = None  # NOTE text, TRANSFER / TRANSFER_OUT reason
    to_unit: str | None = None  # TRANSFER
    suggested_organ_id: str | None = None  # TRANSFER_OUT
    answer: AnswerDraft | None = None  # ANSWER

    def __post_init__(self) -> None:
        object.__setattr__(self, "note", nfc_opt(self.note))
