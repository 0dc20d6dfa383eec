"""Report periods as written by people, read as Vietnam-time days and half-open instants.

    2026-10                   October 2026                    Tháng 10/2026
    2026-Q4 (or 2026-q4)      October to December 2026        Quý IV/2026
    2026                      the year                        Năm 2026
    2026-10-01..2026-11-15    those days, both included       Từ 01/10/2026 đến 15/11/2026

A period runs from 00:00 of its first day to 00:00 of the day after its last (Vietnam time, UTC+7):
what happened at 23:59 on 31 October belongs to October whatever the server's clock zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from gateway.domain.working_days import VIETNAM
from gateway.reports.errors import InvalidPeriod

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
MAX_DAYS = 366 * 5  # a longer "custom" range is a typo (and a very long report)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Period:
    text: str  # as given, normalised ("2026-Q4")
    first: date
    last: date  # included
    label: str  # Vietnamese, for headings and file names

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=VIETNAM)

    @property
    def end(self) -> datetime:
        """Exclusive: 00:00 of the day after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=VIETNAM)


def parse_period(text: str) -> Period:
    given = text.strip()
    try:
        if m := _MONTH.match(given):
            year, month = int(m[1]), int(m[2])
            first = date(year, month, 1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            return _checked(given, first, last, f"Tháng {month:02d}/{year}")
        if m := _QUARTER.match(given):
            year, quarter = int(m[1]), int(m[2])
            first = date(year, 3 * quarter - 2, 1)
            last = (date(year, 3 * quarter, 1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            return _checked(f"{year}-Q{quarter}", first, last, f"Quý {ROMAN[quarter]}/{year}")
        if m := _YEAR.match(given):
            year = int(m[1])
            return _checked(given, date(year, 1, 1), date(year, 12, 31), f"Năm {year}")
        if m := _RANGE.match(given):
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            label = f"Từ {first:%d/%m/%Y} đến {last:%d/%m/%Y}"
            return _checked(given, first, last, label)
    except ValueError as exc:  # 2026-13, 2026-02-30
        raise _invalid(given, str(exc)) from exc
    raise _invalid(given, "expected YYYY-MM, YYYY-Qn, YYYY or YYYY-MM-DD..YYYY-MM-DD")


def _checked(text: str, first: date, last: date, label: str) -> Period:
    if last < first:
        raise _invalid(text, "the last day comes before the first")
    if (last - first).days >= MAX_DAYS:
        raise _invalid(text, f"longer than {MAX_DAYS} days")
    if first.year < 2000:
        raise _invalid(text, "before 2000")
    return Period(text, first, last, label)


def _invalid(text: str, why: str) -> InvalidPeriod:
    return InvalidPeriod(
        f"Kỳ báo cáo «{text[:40]}» không hợp lệ: cần dạng 2026-10 (tháng), 2026-Q4 (quý), 2026 (năm) "
        "hoặc 2026-10-01..2026-12-31 (khoảng ngày).",
        f"Invalid report period {text[:40]!r}: {why}.",
    )
