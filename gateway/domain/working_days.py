"""Working days on the Vietnamese calendar: what a deadline "in working days" counts.

A working day is a Monday–Friday that is not a day off (public holidays, Tết, Giỗ Tổ Hùng Vương,
their compensating days, the government's announced swaps), or a Saturday/Sunday the government
announced as worked to make up for a swap. The calendar is data handed in by its loader
(gateway.deadlines.config): the domain knows no holiday library and no file.

The counting rule (decided here, documented in README "Deadlines"):

- An instant belongs to its date in Vietnam time (UTC+7, Asia/Ho_Chi_Minh; no daylight saving
  since 1975, so a fixed offset is exact and needs no tz database).
- The *receipt day* of a case is the date it was accepted if that is a working day and the time
  is before the office closes (`office_close`); otherwise the next working day: a case accepted
  after hours, on a weekend or a holiday is taken as received on the next working day.
- Day 1 of a period is the first working day after the receipt day: the day of the event is not
  counted (Bộ luật Dân sự 2015, Điều 147 khoản 1).
- A period of N working days ends at the end of its N-th working day, 24:00 Vietnam time
  (Điều 148 khoản 3-4); the gateway stores that as 23:59:59 of that day, so "overdue" is simply
  `now > due_at`.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from gateway.domain.errors import CalendarError

VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
WEEKEND = frozenset({5, 6})  # Saturday, Sunday (date.weekday())
DEFAULT_OFFICE_CLOSE = time(17, 0)
END_OF_DAY = time(23, 59, 59)


def local_day(instant: datetime) -> date:
    """The Vietnam date of an instant; a naive datetime is refused (its zone would be a guess)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise CalendarError(f"instant {instant.isoformat()} has no time zone")
    return instant.astimezone(VIETNAM).date()


def end_of_day(day: date) -> datetime:
    """The last second of `day` in Vietnam time: when a period ending that day runs out."""
    return datetime.combine(day, END_OF_DAY, tzinfo=VIETNAM)


@dataclass(frozen=True)
class WorkingCalendar:
    """Days off and worked weekend days over [first, last]; any date outside raises CalendarError.

    `days_off` maps each day off that falls Monday–Friday (or any day, harmlessly) to its name;
    `worked` lists the weekend days worked instead (make-up days). A date in both is refused.
    """

    days_off: Mapping[date, str]
    worked: frozenset[date]
    first: date
    last: date
    office_close: time = DEFAULT_OFFICE_CLOSE
    # working days from `first` up to and including each day: counting becomes two look-ups
    _count: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise CalendarError(f"calendar range {self.first}..{self.last} is empty")
        both = sorted(set(self.days_off) & self.worked)
        if both:
            raise CalendarError(f"days both off and worked: {', '.join(map(str, both))}")
        counts, total = [], 0
        day = self.first
        while day <= self.last:
            total += self._works(day)
            counts.append(total)
            day += timedelta(days=1)
        object.__setattr__(self, "_count", tuple(counts))

    def _works(self, day: date) -> bool:
        if day in self.worked:
            return True
        return day.weekday() not in WEEKEND and day not in self.days_off

    def _index(self, day: date) -> int:
        if not self.first <= day <= self.last:
            raise CalendarError(f"{day} is outside the working-day calendar ({self.first}..{self.last})")
        return (day - self.first).days

    def is_working_day(self, day: date) -> bool:
        self._index(day)
        return self._works(day)

    def day_off_name(self, day: date) -> str | None:
        """Why a weekday is off (the holiday's name), or None."""
        return None if day in self.worked else self.days_off.get(day)

    def working_day_after(self, day: date, n: int) -> date:
        """The n-th working day strictly after `day` (n ≥ 1)."""
        if n < 1:
            raise CalendarError(f"a count of working days must be at least 1, not {n}")
        target = self._count[self._index(day)] + n
        if target > self._count[-1]:
            raise CalendarError(f"{n} working days after {day} is beyond {self.last}")
        # the first day whose running count reaches `target` is that working day
        return self.first + timedelta(days=bisect.bisect_left(self._count, target))

    def receipt_day(self, instant: datetime) -> date:
        """The day a case accepted at `instant` counts as received (see the module's rule)."""
        day = local_day(instant)
        in_hours = instant.astimezone(VIETNAM).time() < self.office_close
        if self.is_working_day(day) and in_hours:
            return day
        return self.working_day_after(day, 1)

    def add_working_days(self, instant: datetime, n: int) -> datetime:
        """When a period of `n` working days starting at `instant` runs out (end of its last day)."""
        return end_of_day(self.working_day_after(self.receipt_day(instant), n))

    def working_days_between(self, start: date | datetime, end: date | datetime) -> int:
        """Working days after `start`'s date up to and including `end`'s date (Vietnam dates);
        negative when `end` comes first. No office-hours rule: a plain count of days, e.g. from a
        case's `receipt_day` to its answer for "handling time in working days"."""
        first = local_day(start) if isinstance(start, datetime) else start
        second = local_day(end) if isinstance(end, datetime) else end
        return self._count[self._index(second)] - self._count[self._index(first)]

    def working_days_left(self, now: datetime, due_at: datetime) -> int:
        """Working days from today (not counted) to the due date's day (counted): 0 = due today
        or the due day is not a working day before the next one, negative = past its day."""
        return self.working_days_between(now, due_at)
