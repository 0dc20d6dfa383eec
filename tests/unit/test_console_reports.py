"""The console's Reports page, its pure parts: quick periods, rows named in the page's language, the
two SVG charts (bars proportional, text escaped, an empty chart that says so)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from gateway.console.i18n import Translator
from gateway.console.report_charts import backlog_chart, timeliness_chart
from gateway.console.reports_page import dimension_views, download_url, quick_periods
from gateway.domain.report_data import Dimension, Movements
from gateway.reports.model import BacklogRow, CountRow, Report, SatisfactionRow, TimelinessRow
from gateway.reports.period import parse_period

VI, EN = Translator("vi"), Translator("en")


def row(code: str | None, answered: int, on_time: int, late: int, name: str = "Đơn vị") -> TimelinessRow:
    return TimelinessRow(code, name, answered, on_time, late, answered - on_time - late, None, None, None)


def widths(svg: str, css: str) -> list[float]:
    return [float(w) for w in re.findall(rf'<rect class="{css}" x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg)]


def test_quick_periods_cross_the_year_in_vietnam_time() -> None:
    # 31/12/2026 18:00 UTC is already 1/1/2027 in Vietnam
    picks = dict(quick_periods(datetime(2026, 12, 31, 18, 0, tzinfo=UTC)))
    assert picks == {
        "reports.this_month": "2027-01",
        "reports.last_month": "2026-12",
        "reports.this_quarter": "2027-Q1",
        "reports.last_quarter": "2026-Q4",
        "reports.this_year": "2027",
        "reports.last_year": "2026",
    }
    assert dict(quick_periods(datetime(2026, 8, 15, tzinfo=UTC)))["reports.last_quarter"] == "2026-Q2"
    for text in picks.values():
        parse_period(text)  # every pick is a period the service reads
    assert download_url("2026-Q4", "xlsx") == "/api/ops/reports?period=2026-Q4&format=xlsx"


def test_timeliness_bars_are_proportional_and_names_escaped() -> None:
    rows = [
        row("CVL", 10, 6, 3),
        row("VBHXH", 5, 5, 0),
        row("IDLE", 0, 0, 0),
        row("A&B", 1, 1, 0, name="<b>Đơn vị</b>"),
    ]
    svg = timeliness_chart(rows, VI, width=640)
    ok, late, none = widths(svg, "seg-ok"), widths(svg, "seg-late"), widths(svg, "seg-none")
    plot = 640 - (int(5 * 8.5) + 12) - 56  # the longest code (VBHXH) sizes the label column
    assert ok == pytest.approx([6 / 10 * plot, 5 / 10 * plot, 1 / 10 * plot], abs=0.05)
    assert late == pytest.approx([3 / 10 * plot], abs=0.05) and none == pytest.approx([plot / 10], abs=0.05)
    assert "IDLE" not in svg and "VBHXH" in svg  # a unit that answered nothing has no bar
    assert "A&amp;B" in svg and "&lt;b&gt;Đơn vị&lt;/b&gt;" in svg and "<b>" not in svg
    assert "Đúng hạn: 6" in svg  # the hover text of a segment
    empty = timeliness_chart([row("CVL", 0, 0, 0)], EN)
    assert "No case was answered in this period." in empty and "<rect" not in empty


def test_backlog_columns_show_the_overdue_part() -> None:
    rows = [BacklogRow(0, 5, 40, 0), BacklogRow(6, 10, 20, 5), BacklogRow(31, None, 10, 10)]
    svg = backlog_chart(rows, EN)
    assert len(widths(svg, "seg-open")) == 2 and len(widths(svg, "seg-late")) == 2
    assert ">0–5 days<" in svg and ">over 30 days<" in svg and ">40<" in svg
    heights = [float(h) for h in re.findall(r'class="seg-(?:open|late)"[^>]* height="([\d.]+)"', svg)]
    assert heights[0] == max(heights)  # the 40 cases' column is the tallest
    assert "No open case." in backlog_chart([BacklogRow(0, 5, 0, 0)], EN)


def test_rows_are_named_in_the_pages_language() -> None:
    received = {
        Dimension.KIND: (CountRow("HOI_DAP", "Hỏi đáp chính sách", 4), CountRow(None, "Không xác định", 1)),
        Dimension.UNIT: (CountRow("CVL", "Cục Việc làm", 2), CountRow("VPB", "Văn phòng Bộ", 0)),
    }
    total = row(None, 0, 0, 0)
    nobody = SatisfactionRow(None, "Toàn Bộ", 0, None, None)
    report = Report(
        parse_period("2026-10"), datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC), 5,
        received, (), total, (), Movements(0, 0, 0), (), (), nobody,
    )
    kind, unit = dimension_views(report, EN)
    assert kind.title == "By kind" and [(r.name, r.width) for r in kind.rows] == [
        ("Policy question", 100.0),
        ("Unknown", 25.0),
    ]
    assert [r.name for r in unit.rows] == ["Cục Việc làm", "Văn phòng Bộ"]  # data keeps its Vietnamese
    assert [r.name for r in dimension_views(report, VI)[0].rows] == ["Hỏi đáp chính sách", "Không xác định"]
    assert report.period.first == date(2026, 10, 1)
