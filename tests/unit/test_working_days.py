"""Working-day arithmetic on the packaged Vietnamese calendar (the `holidays` package + config/calendar.yaml).

Every expected value below was worked out by hand from the official calendar, as the comments show:
a period starts on the receipt day (the acceptance date if a working day before 17:00, else the
next working day), day 1 is the first working day after it, and the period ends at 23:59:59
Vietnam time of its last day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from gateway.deadlines.config import load_calendar
from gateway.domain.errors import CalendarError
from gateway.domain.working_days import VIETNAM, WorkingCalendar, end_of_day
from gateway.routing_config import default_config_dir

pytestmark = pytest.mark.unit

CAL = load_calendar(default_config_dir() / "calendar.yaml")


def vn(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM)


def due(year: int, month: int, day: int) -> datetime:
    return datetime.combine(date(year, month, day), time(23, 59, 59), tzinfo=VIETNAM)


# Tết Nguyên Đán Bính Ngọ 2026: the lunar new year is Tuesday 17/2/2026; officials are off from
# Saturday 14/2 to Sunday 22/2 (giao thừa Mon 16/2, mùng 1-4 Tue 17 - Fri 20, and two weekends).
# Friday 13/2 and Monday 23/2 are worked.
def test_tet_2026_days_off() -> None:
    assert CAL.is_working_day(date(2026, 2, 13))
    for day in range(14, 23):
        assert not CAL.is_working_day(date(2026, 2, day)), f"{day}/2/2026 is a day of Tết"
    assert CAL.is_working_day(date(2026, 2, 23))
    assert CAL.day_off_name(date(2026, 2, 17)) == "Tết Nguyên Đán"


def test_five_working_days_across_tet_2026() -> None:
    # accepted Thu 12/2 at 10:00: day 1 Fri 13/2, then Tết, day 2 Mon 23, 3 Tue 24, 4 Wed 25, 5 Thu 26/2
    assert CAL.add_working_days(vn(2026, 2, 12), 5) == due(2026, 2, 26)


def test_after_hours_before_tet_2026_counts_from_after_tet() -> None:
    # accepted Fri 13/2 at 18:00, after office hours: received Mon 23/2, so day 1 is Tue 24/2
    assert CAL.add_working_days(vn(2026, 2, 13, 18), 1) == due(2026, 2, 24)
    # the same Friday at 16:59 is still that day: day 1 is Mon 23/2
    assert CAL.add_working_days(vn(2026, 2, 13, 16, 59), 1) == due(2026, 2, 23)


def test_ten_working_days_from_the_first_day_of_tet_2026() -> None:
    # accepted Tue 17/2 (mùng 1 Tết): received Mon 23/2; days 1-4 Tue 24 - Fri 27/2,
    # 5-9 Mon 2 - Fri 6/3, day 10 Mon 9/3/2026
    assert CAL.add_working_days(vn(2026, 2, 17, 9), 10) == due(2026, 3, 9)


def test_working_days_between_across_tet_2026() -> None:
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert CAL.working_days_between(date(2026, 2, 23), date(2026, 2, 13)) == -1
    # Thu 12/2 → Thu 26/2: Fri 13, Mon 23, Tue 24, Wed 25, Thu 26
    assert CAL.working_days_between(vn(2026, 2, 12), vn(2026, 2, 26, 15)) == 5


# Tết Đinh Mùi 2027: the lunar new year falls on Saturday 6/2/2027. Nothing is announced yet; the
# Labour Code's rule as `holidays` applies it gives 29 Tết Thu 4/2, 30 Tết (giao thừa) Fri 5/2,
# mùng 1-3 Sat 6 - Mon 8/2, and the two weekend days compensated Tue 9 and Wed 10/2. Back Thu 11/2.
def test_tet_2027_days_off() -> None:
    assert CAL.is_working_day(date(2027, 2, 3))
    for day in range(4, 11):
        assert not CAL.is_working_day(date(2027, 2, day)), f"{day}/2/2027 is a day of Tết"
    assert CAL.is_working_day(date(2027, 2, 11))


def test_three_working_days_across_tet_2027() -> None:
    # accepted Wed 3/2/2027 at 09:00: day 1 Thu 11/2, 2 Fri 12/2, 3 Mon 15/2
    assert CAL.add_working_days(vn(2027, 2, 3, 9), 3) == due(2027, 2, 15)
    assert CAL.working_days_between(date(2027, 2, 3), date(2027, 2, 11)) == 1


# 30/4 - 1/5/2025 swap: Friday 2/5 was given off and Saturday 26/4 worked instead (off Wed 30/4 to
# Sun 4/5/2025).
def test_swapped_weekend_2025() -> None:
    assert CAL.is_working_day(date(2025, 4, 26))  # a Saturday, worked
    assert not CAL.is_working_day(date(2025, 5, 2))  # a Friday, off
    assert date(2025, 4, 26).weekday() == 5 and date(2025, 5, 2).weekday() == 4
    # accepted Fri 25/4: day 1 is Saturday 26/4, day 2 Mon 28, 3 Tue 29, then 30/4 - 4/5 off, day 4 Mon 5/5
    assert CAL.add_working_days(vn(2025, 4, 25), 1) == due(2025, 4, 26)
    assert CAL.add_working_days(vn(2025, 4, 25), 3) == due(2025, 4, 29)
    assert CAL.add_working_days(vn(2025, 4, 25), 4) == due(2025, 5, 5)
    # accepted on the worked Saturday itself, in hours: received that day, day 1 Mon 28/4
    assert CAL.add_working_days(vn(2025, 4, 26), 1) == due(2025, 4, 28)
    # ... after hours: received Mon 28/4, day 1 Tue 29/4
    assert CAL.add_working_days(vn(2025, 4, 26, 18), 1) == due(2025, 4, 29)
    # a normal Saturday is not worked: accepted Sat 19/4/2025, received Mon 21/4, day 1 Tue 22/4
    assert CAL.add_working_days(vn(2025, 4, 19), 1) == due(2025, 4, 22)
    # Fri 25/4 → Mon 5/5: Sat 26, Mon 28, Tue 29, Mon 5/5
    assert CAL.working_days_between(date(2025, 4, 25), date(2025, 5, 5)) == 4


# Quốc khánh 2026: Monday 31/8 off, Saturday 22/8 worked instead (off Sat 29/8 to Wed 2/9/2026).
def test_swapped_weekend_2026() -> None:
    assert CAL.is_working_day(date(2026, 8, 22))
    assert not CAL.is_working_day(date(2026, 8, 31))
    assert CAL.add_working_days(vn(2026, 8, 21), 1) == due(2026, 8, 22)
    # accepted Fri 28/8: Mon 31/8 (swap), Tue 1/9 and Wed 2/9 (Quốc khánh) off: day 1 Thu 3/9
    assert CAL.add_working_days(vn(2026, 8, 28), 1) == due(2026, 9, 3)


def test_gio_to_hung_vuong_on_a_sunday_is_compensated() -> None:
    # 10/3 âm lịch Bính Ngọ = Sunday 26/4/2026, compensated Monday 27/4; 30/4 Thu and 1/5 Fri off
    assert not CAL.is_working_day(date(2026, 4, 27))
    assert CAL.is_working_day(date(2026, 4, 28)) and CAL.is_working_day(date(2026, 4, 29))
    # accepted Fri 24/4/2026: day 1 Tue 28/4, 2 Wed 29/4, 3 Mon 4/5
    assert CAL.add_working_days(vn(2026, 4, 24), 3) == due(2026, 5, 4)


def test_utc_instants_count_on_their_vietnam_date() -> None:
    # 2026-02-12 18:30 UTC is Fri 13/2 01:30 in Vietnam: received Fri 13/2, day 1 Mon 23/2
    from datetime import UTC

    assert CAL.add_working_days(datetime(2026, 2, 12, 18, 30, tzinfo=UTC), 1) == due(2026, 2, 23)


def test_refusals() -> None:
    with pytest.raises(CalendarError):
        CAL.add_working_days(datetime(2026, 2, 12, 10), 1)  # naive: which zone?
    with pytest.raises(CalendarError):
        CAL.is_working_day(date(2099, 1, 1))  # beyond the configured years
    with pytest.raises(CalendarError):
        CAL.working_day_after(date(2026, 1, 5), 0)
    with pytest.raises(CalendarError):
        WorkingCalendar(
            {date(2026, 1, 3): "x"}, frozenset({date(2026, 1, 3)}), date(2026, 1, 1), date(2026, 12, 31)
        )


def test_counting_agrees_with_a_day_by_day_walk() -> None:
    # the calendar counts with a running total; a naive walk over 2025-2027 must agree everywhere
    start = date(2025, 1, 2)
    for offset in range(0, 900, 7):
        day = start + timedelta(days=offset)
        for n in (1, 5, 10, 30):
            walked, left = day, n
            while left:
                walked += timedelta(days=1)
                left -= CAL.is_working_day(walked)
            assert CAL.working_day_after(day, n) == walked
            assert CAL.working_days_between(day, walked) == n
    assert end_of_day(date(2026, 1, 1)).isoformat() == "2026-01-01T23:59:59+07:00"
