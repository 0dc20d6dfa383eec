"""A case's due date, and what it says today: on track, due soon, overdue; which reminders are due.

The due date is fixed once, at acceptance: the portal's `DueAt` when the petition carries one (the
national system set the deadline, the ministry keeps it), else the kind's time limit in working
days (config/deadlines.yaml) counted on the working-day calendar from the acceptance instant.
A kind whose limit is not configured gives no due date: such a case is never due soon nor overdue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from gateway.domain.case import TERMINAL, Status
from gateway.domain.errors import CalendarError
from gateway.domain.petition import Kind, Petition
from gateway.domain.working_days import VIETNAM, WorkingCalendar, local_day

OVERDUE = "overdue"
BEFORE_PREFIX = "before:"


class DueSource(StrEnum):
    PORTAL = "portal"  # the portal's DueAt
    CALENDAR = "calendar"  # the kind's limit on the working-day calendar
    NONE = "none"  # no DueAt and no limit configured for the kind


class DueFlag(StrEnum):
    NONE = "none"  # no due date, or the case is closed
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class TimeLimit:
    """The time limit of one kind of petition and where it comes from (legal basis or "configure")."""

    kind: Kind
    working_days: int | None
    source: str
    verified: bool


@dataclass(frozen=True)
class Deadline:
    due_at: datetime | None
    source: DueSource
    working_days: int | None = None  # the limit applied, when counted on the calendar


@dataclass(frozen=True)
class Threshold:
    """A reminder to the unit holding a case: `days_before` working days before its due day
    (`before:N`, sent once the case has N or fewer left), or once it is overdue (`overdue`)."""

    code: str
    days_before: int | None

    @classmethod
    def before(cls, days: int) -> Threshold:
        if days < 0:
            raise ValueError(f"a reminder comes 0 or more working days before, not {days}")
        return cls(f"{BEFORE_PREFIX}{days}", days)

    @classmethod
    def overdue(cls) -> Threshold:
        return cls(OVERDUE, None)


@dataclass(frozen=True)
class DeadlinePolicy:
    calendar: WorkingCalendar
    limits: Mapping[Kind, TimeLimit]
    due_soon_days: int = 2

    def limit_for(self, kind: Kind) -> int | None:
        limit = self.limits.get(kind)
        return limit.working_days if limit else None

    def due_for(self, petition: Petition, accepted_at: datetime) -> Deadline:
        """The due date a case gets at acceptance; the portal's DueAt wins when present."""
        if petition.due_at is not None:
            return Deadline(petition.due_at, DueSource.PORTAL)
        return self.computed(petition.kind, accepted_at)

    def computed(self, kind: Kind, accepted_at: datetime) -> Deadline:
        """The kind's limit counted from `accepted_at`; no due date when the kind has no limit, or
        when the period runs past the calendar's years (config/calendar.yaml `years`): a petition is
        never refused for its deadline, it is only left undated."""
        days = self.limit_for(kind)
        if days is None:
            return Deadline(None, DueSource.NONE)
        try:
            due_at = self.calendar.add_working_days(accepted_at, days)
        except CalendarError:
            return Deadline(None, DueSource.NONE)
        return Deadline(due_at, DueSource.CALENDAR, days)

    def horizon(self, now: datetime, days: int) -> datetime:
        """A due date before this instant has `days` or fewer working days left (today not counted):
        the start (00:00, Vietnam time) of the (days + 1)-th working day after today."""
        following = self.calendar.working_day_after(local_day(now), days + 1)
        return datetime.combine(following, time.min, tzinfo=VIETNAM)

    def window(self, threshold: Threshold, now: datetime) -> tuple[datetime | None, datetime]:
        """Due dates in [from, until) have reached `threshold` now (`from` None: no lower bound).
        A `before:N` reminder is for cases not overdue yet: one that went overdue unseen (the
        gateway was down) gets the overdue reminder only, not a stale "N days left"."""
        if threshold.days_before is None:
            return None, now
        return now, self.horizon(now, threshold.days_before)

    def flag(self, due_at: datetime | None, status: str, now: datetime) -> DueFlag:
        if due_at is None or Status(status) in TERMINAL:
            return DueFlag.NONE
        if due_at < now:
            return DueFlag.OVERDUE
        if due_at < self.horizon(now, self.due_soon_days):
            return DueFlag.DUE_SOON
        return DueFlag.ON_TRACK


@dataclass(frozen=True)
class UndatedCase:
    """A case stored before due dates were computed (`due_source` NULL): the backfill dates it."""

    petition_id: str
    kind: Kind
    accepted_at: datetime
    portal_due_at: datetime | None


@dataclass(frozen=True)
class DueCase:
    """An open case whose due date reached a reminder threshold, as the store finds it."""

    petition_id: str
    unit_code: str
    title: str
    due_at: datetime
    due_source: str


@dataclass(frozen=True)
class SentReminder:
    petition_id: str
    threshold: str
    unit_code: str
    due_at: datetime
    message_id: str
    at: datetime
