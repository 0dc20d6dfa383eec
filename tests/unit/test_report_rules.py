"""The reports' pure parts: periods, statistics, provinces, table rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from gateway.domain.report_data import GroupCount, RatingGroup
from gateway.domain.working_days import WorkingCalendar
from gateway.reports.errors import InvalidPeriod, ReportUnavailable
from gateway.reports.model import UNKNOWN, BacklogRow, count_rows, handling_days, satisfaction
from gateway.reports.period import parse_period
from gateway.reports.provinces import load_provinces
from gateway.reports.stats import mean, median, nearest_rank

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
    values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]  # sorted: 1 1 2 3 3 4 5 5 6 9
    assert mean(values) == 3.9
    assert median(values) == 3.5 and median([7, 1, 3]) == 3.0
    assert nearest_rank(values, 90) == 6.0  # the 9th of 10
    assert nearest_rank(values, 100) == 9.0 and nearest_rank([4], 90) == 4.0
    assert mean([]) is None and median([]) is None and nearest_rank([], 90) is None


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


def test_a_date_outside_the_calendar_makes_the_report_unavailable_not_wrong() -> None:
    calendar = WorkingCalendar(
        days_off={}, worked=frozenset(), first=date(2026, 1, 1), last=date(2026, 12, 31)
    )
    assert (
        handling_days(calendar, datetime(2026, 10, 5, 9, tzinfo=VN), datetime(2026, 10, 9, 9, tzinfo=VN)) == 4
    )
    with pytest.raises(ReportUnavailable) as caught:
        handling_days(calendar, datetime(2026, 12, 30, 9, tzinfo=VN), datetime(2027, 1, 4, 9, tzinfo=VN))
    assert "config/calendar.yaml" in caught.value.message_vi
