"""What the store hands the reports (connectors.db.report_queries → gateway.reports): counts it
aggregated in SQL, and the few per-case rows whose arithmetic needs the working-day calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

SATISFIED_FROM = 4
"""A rating of 4 or 5 (of 5) counts as satisfied ("hài lòng", "rất hài lòng")."""


class Dimension(StrEnum):
    """What received cases are counted by."""

    KIND = "kind"
    FIELD = "field"
    UNIT = "unit"
    CHANNEL = "channel"
    SENDER_TYPE = "sender_type"
    PROVINCE = "province"  # the sender's address ProvinceCode, as sent (mapped to 2025 units later)


@dataclass(frozen=True)
class GroupCount:
    key: str | None  # None: the petition did not say (no field, no address)
    count: int


@dataclass(frozen=True)
class AnsweredCase:
    """A case first answered within the period."""

    petition_id: str
    unit_code: str
    field_code: str | None
    started_at: datetime  # accepted (03), or received when no acceptance is recorded
    answered_at: datetime
    due_at: datetime | None


@dataclass(frozen=True)
class OpenCase:
    """A case still open at the report's instant (received before it, not closed before it)."""

    petition_id: str
    unit_code: str
    started_at: datetime
    due_at: datetime | None


@dataclass(frozen=True)
class Movements:
    """Status changes within the period."""

    transfers_between_units: int  # a 04 at another unit after the first assignment
    transfers_out: int  # 07: outside the ministry's competence (RequestTransfer)
    withdrawals: int  # 08: the citizen withdrew


@dataclass(frozen=True)
class RatingGroup:
    key: str | None
    feedback: int
    rating_sum: int
    satisfied: int  # ratings ≥ SATISFIED_FROM
