"""The reports' pure parts: periods, statistics, provinces, table rows."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from connectors.db.calendar_table import calendar_days, fingerprint
from gateway.domain.report_data import BacklogGroup, GroupCount, HandlingGroup, RatingGroup, Timeliness
from gateway.domain.working_days import WorkingCalendar
from gateway.reports.errors import InvalidPeriod, ReportUnavailable
from gateway.reports.model import UNKNOWN, BacklogRow, backlog, count_rows, satisfaction, timeliness
from gateway.reports.period import parse_period
from gateway.reports.provinces import load_provinces
from gateway.reports.stats import histogram_mean, histogram_median, histogram_nearest_rank

VN = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("text", "first", "last", "label"),
    [
        ("2026-10", date(2026, 10, 1), date(2026, 10, 31), "Tháng 10/2026"),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29), "Tháng 02/2028"),  # a leap year
        ("2026-q4", date(2026, 10, 1), date(2026, 12, 31), "Quý IV/2026"),
        ("2027-Q1", date(2027, 1, 1), date(2027, 3, 31), "Quý I/2027"),
        ("2026", date(2026, 1, 1), date(2026, 12, 31), "Năm 2026"),
        ("2026-10-05..2026-10-05", date(2026, 10, 5), date(2026, 10, 5), "Từ 05/10/2026 đến 05/10/2026"),
    ],
)
def test_periods_read_as_vietnam_days(text: str, first: date, last: date, label: str) -> None:
    period = parse_period(text)
    assert (period.first, period.last, period.label) == (first, last, label)
    assert period.start == datetime.combine(first, datetime.min.time(), tzinfo=VN)
    assert period.end - period.start == timedelta(days=(last - first).days + 1)
    assert period.start.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-Q5", "26-10", "2026-02-30..2026-03-01", "2026-10-31..2026-10-01", ""]
)
def test_a_bad_period_is_refused_in_both_languages(text: str) -> None:
    with pytest.raises(InvalidPeriod) as caught:
        parse_period(text)
    assert "Kỳ báo cáo" in caught.value.message_vi and "Invalid report period" in caught.value.message_en


def test_statistics_by_hand() -> None:
    values = Counter([3, 1, 4, 1, 5, 9, 2, 6, 5, 3])  # sorted: 1 1 2 3 3 4 5 5 6 9
    assert histogram_mean(values) == 3.9
    assert histogram_median(values) == 3.5 and histogram_median(Counter([7, 1, 3])) == 3.0
    assert histogram_nearest_rank(values, 90) == 6.0  # the 9th of 10
    assert histogram_nearest_rank(values, 100) == 9.0 and histogram_nearest_rank({4: 1}, 90) == 4.0
    assert histogram_median({0: 0, 2: 2}) == 2.0  # an empty bucket is no value
    assert histogram_mean({}) is None and histogram_median({}) is None
    assert histogram_nearest_rank({}, 90) is None


def test_timeliness_and_backlog_from_the_stores_histograms() -> None:
    groups = [
        HandlingGroup("A", Timeliness.ON_TIME, 2, 3),
        HandlingGroup("A", Timeliness.LATE, 12, 1),
        HandlingGroup("B", Timeliness.NO_DEADLINE, 0, 2),
        HandlingGroup("GONE", Timeliness.ON_TIME, 5, 1),  # a unit since removed from config
    ]
    rows, total = timeliness(groups, {"A": "Đơn vị A", "B": "Đơn vị B", "C": "Đơn vị C"})
    by_code = {r.code: r for r in rows}
    assert [r.code for r in rows] == ["A", "B", "C", "GONE"]
    a = by_code["A"]
    assert (a.answered, a.on_time, a.late, a.no_deadline, a.on_time_share) == (4, 3, 1, 0, 0.75)
    assert (a.mean_days, a.median_days, a.p90_days) == (4.5, 2.0, 12.0)
    assert by_code["C"].answered == 0 and by_code["C"].mean_days is None
    assert by_code["B"].on_time_share is None  # no due dates: no share
    # every case: days 0 0 2 2 2 5 12
    assert (total.answered, total.median_days, total.p90_days) == (7, 2.0, 12.0)
    assert total.mean_days == pytest.approx(23 / 7)
    ages = backlog([BacklogGroup(0, False, 2), BacklogGroup(6, True, 1), BacklogGroup(40, True, 4)])
    assert [(r.count, r.overdue) for r in ages] == [(2, 0), (1, 1), (0, 0), (0, 0), (4, 4)]


def test_the_2025_provinces_and_the_codes_merged_away() -> None:
    provinces = load_provinces()
    assert len(provinces.names) == 34
    assert provinces.names["01"] == "Thành phố Hà Nội" and provinces.names["79"] == "Thành phố Hồ Chí Minh"
    assert len(provinces.merged) == 29  # 63 before the merger
    assert provinces.current("26") == "25"  # Vĩnh Phúc → Phú Thọ
    assert provinces.current("77") == "79"  # Bà Rịa - Vũng Tàu → Thành phố Hồ Chí Minh
    assert provinces.current("27") == "24"  # the old Bắc Ninh → Bắc Ninh (code 24, with Bắc Giang)
    assert provinces.current("24") == "24"  # the old Bắc Giang's code is the new Bắc Ninh's
    assert provinces.current("1") == provinces.current("001") == "01"
    assert (
        provinces.current("99") is None and provinces.current(None) is None and provinces.current("x") is None
    )


def test_count_rows_keep_zeros_in_config_order_then_the_unknown() -> None:
    names = {"A": "Đơn vị A", "B": "Đơn vị B", "C": "Đơn vị C"}
    rows = count_rows([GroupCount("B", 2), GroupCount(None, 1), GroupCount("Z", 3)], names)
    assert [(r.code, r.name, r.count) for r in rows] == [
        ("A", "Đơn vị A", 0),
        ("B", "Đơn vị B", 2),
        ("C", "Đơn vị C", 0),
        (None, UNKNOWN, 4),
    ]


def test_satisfaction_rows_and_backlog_labels() -> None:
    rows = satisfaction([RatingGroup("A", 4, 14, 3), RatingGroup(None, 1, 2, 0)], {"A": "A", "B": "B"})
    assert [(r.code, r.feedback, r.mean_rating, r.satisfied_share) for r in rows] == [
        ("A", 4, 3.5, 0.75),
        ("B", 0, None, None),
        (None, 1, 2.0, 0.0),
    ]
    assert BacklogRow(0, 5, 1, 0).label == "0–5 ngày làm việc"
    assert BacklogRow(31, None, 1, 0).label == "Trên 30 ngày làm việc"


def test_a_case_outside_the_calendar_makes_the_report_unavailable_not_wrong() -> None:
    outside = [HandlingGroup("A", Timeliness.ON_TIME, None, 1)]  # the store found no calendar day
    with pytest.raises(ReportUnavailable) as caught:
        timeliness(outside, {"A": "A"})
    assert "config/calendar.yaml" in caught.value.message_vi
    with pytest.raises(ReportUnavailable):
        backlog([BacklogGroup(None, False, 1)])


def test_the_calendar_table_rows_count_working_days_as_the_calendar_does() -> None:
    calendar = WorkingCalendar(
        days_off={date(2026, 10, 7): "Ngày nghỉ"},
        worked=frozenset({date(2026, 10, 10)}),  # a Saturday worked
        first=date(2026, 10, 1),
        last=date(2026, 10, 31),
    )
    days = {d.day: d for d in calendar_days(calendar)}
    assert len(days) == 31
    assert days[date(2026, 10, 1)].day_number == (date(2026, 10, 1) - date(1970, 1, 1)).days
    for a in days.values():
        assert a.working == calendar.is_working_day(a.day)
        for b in days.values():
            assert b.working_index - a.working_index == calendar.working_days_between(a.day, b.day)
    other = WorkingCalendar(days_off={}, worked=frozenset(), first=calendar.first, last=calendar.last)
    assert fingerprint(calendar) != fingerprint(other) and fingerprint(calendar) == fingerprint(calendar)
