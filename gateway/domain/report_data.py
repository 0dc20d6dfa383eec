"""What the store hands the reports (connectors.db.report_queries → gateway.reports): counts it
aggregated in SQL. Working days are counted there too, on the calendar table the gateway fills
from its WorkingCalendar, so even handling times come back as counts per number of days."""

from __future__ import annotations

from dataclasses import dataclass
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


class Timeliness(StrEnum):
    """An answer against its case's due date."""

    ON_TIME = "on_time"  # at or before due_at
    LATE = "late"  # after due_at
    NO_DEADLINE = "no_deadline"  # the case has no due date


@dataclass(frozen=True)
class HandlingGroup:
    """Cases first answered within the period with the same unit, timeliness and handling time:
    a histogram, so mean, median and p90 are exact without reading one row per case."""

    unit_code: str
    timeliness: Timeliness
    days: int | None  # working days from the receipt day to the answer; None: outside the calendar
    count: int


@dataclass(frozen=True)
class BacklogGroup:
    """Cases open at the report's instant with the same age, overdue or not."""

    age_days: int | None  # working days since the receipt day; None: outside the calendar
    overdue: bool  # past its due date at that instant
    count: int


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


@dataclass(frozen=True)
class RatingCell:
    """Feedback given within the period on answers of one unit to cases of one field: both
    satisfaction tables come from one read (by unit: summed over fields, and the other way)."""

    unit_code: str | None  # the answering unit; None: the answer was not found
    field_code: str | None
    feedback: int
    rating_sum: int
    satisfied: int

    def by(self, unit: bool) -> RatingGroup:
        key = self.unit_code if unit else self.field_code
        return RatingGroup(key, self.feedback, self.rating_sum, self.satisfied)
