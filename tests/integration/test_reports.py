"""Reports on a seeded data set (SQLite and PostgreSQL), checked against figures computed here in
plain Python over the seed's own records — not through the report code — and exported as XLSX
(opened back with openpyxl) and CSV, and by `pakn-gateway report`."""

from __future__ import annotations

import asyncio
import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from connectors.db.report_queries import SqlReportQueries
from gateway.cli.main import app as cli_app
from gateway.deadlines.config import load_policy
from gateway.domain.report_data import Dimension
from gateway.domain.working_days import WorkingCalendar
from gateway.reports.export import to_csv, to_xlsx
from gateway.reports.model import Report
from gateway.reports.period import Period, parse_period
from gateway.reports.provinces import load_provinces
from gateway.reports.service import Reports
from gateway.routing_config import load_config
from tests.support.report_seed import VN, SeedCase, history, make_seed, write_seed

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=VN)
# the seed's province codes as this test reads them, by hand: current codes, merged ones, unknown
PROVINCE_OF = {"01": "01", "1": "01", "79": "79", "74": "79", "26": "25", "35": "37", "48": "48"}
CLOSING = {"02", "06", "07", "08"}


@pytest.fixture
async def seeded(db_migrated: AsyncEngine) -> tuple[AsyncEngine, list[SeedCase]]:
    cases = make_seed()
    await write_seed(db_migrated, cases)
    return db_migrated, cases


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return load_policy(None).calendar


def reports(engine: AsyncEngine, calendar: WorkingCalendar) -> Reports:
    return Reports(SqlReportQueries(engine), calendar, load_config().routing, load_provinces(), lambda: NOW)


def within(moment: datetime | None, period: Period) -> bool:
    start = datetime.combine(period.first, time(0), tzinfo=VN)
    end = datetime.combine(period.last + timedelta(days=1), time(0), tzinfo=VN)
    return moment is not None and start <= moment < end


def working_days(calendar: WorkingCalendar, start: datetime, end: datetime) -> int:
    """The rule written out: receipt day = the acceptance's day if a working day before 17:00,
    else the next working day; count the working days after it up to the end's day, at least 0."""
    day = start.astimezone(VN).date()
    if not (calendar.is_working_day(day) and start.astimezone(VN).time() < time(17)):
        day += timedelta(days=1)
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
    last: date = end.astimezone(VN).date()
    count, cursor = 0, day
    while cursor < last:
        cursor += timedelta(days=1)
        count += calendar.is_working_day(cursor)
    return count


def p90(values: list[int]) -> float:
    return float(sorted(values)[math.ceil(0.9 * len(values)) - 1])


def median(values: list[int]) -> float:
    s, n = sorted(values), len(values)
    return float(s[n // 2]) if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def counts(report: Report, dimension: Dimension) -> dict[str | None, int]:
    return {row.code: row.count for row in report.received[dimension] if row.count}


def expected_received(cases: list[SeedCase], period: Period, key: Callable[[SeedCase], str | None]) -> dict:
    return dict(Counter(key(c) for c in cases if within(c.received_at, period)))


@pytest.mark.parametrize("text", ["2026-10", "2026-Q4", "2026-08-25..2026-10-31"])
async def test_the_report_agrees_with_the_seed(
    seeded: tuple[AsyncEngine, list[SeedCase]], calendar: WorkingCalendar, text: str
) -> None:
    engine, cases = seeded
    period = parse_period(text)
    report = await reports(engine, calendar).build(period)
    received = [c for c in cases if within(c.received_at, period)]
    assert received and report.received_total == len(received)

    # received, by every dimension (zeros are rows too, but compared without them)
    assert counts(report, Dimension.KIND) == expected_received(cases, period, lambda c: c.kind)
    assert counts(report, Dimension.SENDER_TYPE) == expected_received(cases, period, lambda c: c.sender_type)
    assert counts(report, Dimension.CHANNEL) == expected_received(cases, period, lambda c: c.channel)
    assert counts(report, Dimension.FIELD) == expected_received(cases, period, lambda c: c.field_code)
    assert counts(report, Dimension.UNIT) == expected_received(cases, period, lambda c: c.unit)
    by_province = expected_received(cases, period, lambda c: PROVINCE_OF.get(c.province_code or ""))
    assert counts(report, Dimension.PROVINCE) == by_province
    provinces = report.received[Dimension.PROVINCE]
    assert len([r for r in provinces if r.code]) == 34  # every 2025 province has its row
    assert {r.code: r.name for r in provinces}["25"] == "Phú Thọ"  # Vĩnh Phúc's petitions counted here
    assert provinces[-1].name == "Không xác định"

    # answered in the period: by the first answer; on time, late, no deadline; handling time
    answered = [c for c in cases if c.answers and within(c.answers[0], period)]
    assert answered
    total = report.answered_total
    on_time = [c for c in answered if c.due_at is not None and c.answers[0] <= c.due_at]
    late = [c for c in answered if c.due_at is not None and c.answers[0] > c.due_at]
    assert (total.answered, total.on_time, total.late) == (len(answered), len(on_time), len(late))
    assert total.no_deadline == sum(c.due_at is None for c in answered)
    days = [working_days(calendar, c.accepted_at, c.answers[0]) for c in answered]
    assert total.mean_days == pytest.approx(sum(days) / len(days))
    assert total.median_days == median(days)
    assert total.p90_days == p90(days)
    for row in report.answered:
        mine = [c for c in answered if c.unit == row.code]
        assert row.answered == len(mine), row.code
        if mine:
            assert row.p90_days == p90([working_days(calendar, c.accepted_at, c.answers[0]) for c in mine])
            assert row.on_time == sum(c.due_at is not None and c.answers[0] <= c.due_at for c in mine)

    # the backlog at the period's end (before NOW): received before, not closed before
    as_of = min(datetime.combine(period.last + timedelta(days=1), time(0), tzinfo=VN), NOW)
    assert report.as_of == as_of
    open_cases = [
        c
        for c in cases
        if c.received_at < as_of and not any(s in CLOSING and at < as_of for s, _, at in history(c))
    ]
    assert report.backlog_total == len(open_cases)
    ages = Counter()
    for c in open_cases:
        accepted = c.outcome != "rejected" and c.accepted_at < as_of  # a rejected case was never accepted
        age = working_days(calendar, c.accepted_at if accepted else c.received_at, as_of)
        ages[next(i for i, top in enumerate((5, 10, 15, 30, None)) if top is None or age <= top)] += 1
    assert [row.count for row in report.backlog] == [ages[i] for i in range(5)]
    assert report.backlog_overdue == sum(c.due_at is not None and c.due_at < as_of for c in open_cases)

    # transfers and withdrawals: status changes in the period
    moves = report.movements
    assert moves.transfers_between_units == sum(within(c.moved_at, period) for c in cases)
    assert moves.transfers_out == sum(c.outcome == "out" and within(c.closed_at, period) for c in cases)
    assert moves.withdrawals == sum(c.outcome == "withdrawn" and within(c.closed_at, period) for c in cases)

    # satisfaction: feedback given in the period, by unit and by field
    given = [(c, rating) for c in cases for at, rating in c.ratings if within(at, period)]
    assert given
    for rows, key in ((report.satisfaction_by_unit, "unit"), (report.satisfaction_by_field, "field_code")):
        groups: dict[str | None, list[int]] = defaultdict(list)
        for c, rating in given:
            groups[getattr(c, key)].append(rating)
        got = {r.code: r for r in rows if r.feedback}
        assert set(got) == set(groups)
        for code, ratings in groups.items():
            assert got[code].feedback == len(ratings)
            assert got[code].mean_rating == pytest.approx(sum(ratings) / len(ratings))
            assert got[code].satisfied_share == pytest.approx(sum(r >= 4 for r in ratings) / len(ratings))


async def test_xlsx_and_csv_carry_the_same_figures_under_vietnamese_headers(
    seeded: tuple[AsyncEngine, list[SeedCase]], calendar: WorkingCalendar, tmp_path: Path
) -> None:
    engine, _ = seeded
    report = await reports(engine, calendar).build(parse_period("2026-10"))
    path = tmp_path / "bao-cao.xlsx"
    path.write_bytes(to_xlsx(report))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:3] == ["Tổng quan", "Theo loại", "Theo lĩnh vực"]
    assert "Theo tỉnh, thành phố" in book.sheetnames and "Hài lòng theo đơn vị" in book.sheetnames
    summary = {row[0]: row[1] for row in book["Tổng quan"].iter_rows(min_row=2, values_only=True)}
    assert summary["Kỳ báo cáo"] == "Tháng 10/2026"
    assert summary["Tổng số tiếp nhận"] == report.received_total
    assert summary["Trả lời đúng hạn"] == report.answered_total.on_time
    assert summary["Hồ sơ tồn đọng"] == report.backlog_total
    units = book["Đúng hạn, trễ hạn"]
    headers = [c.value for c in units[1]]
    assert headers[:7] == [
        "Mã đơn vị",
        "Đơn vị",
        "Đã trả lời",
        "Đúng hạn",
        "Trễ hạn",
        "Không có hạn",
        "Tỷ lệ đúng hạn",
    ]
    rows = {r[0]: r for r in units.iter_rows(min_row=2, values_only=True)}
    assert rows["VBHXH"][1] == "Vụ Bảo hiểm xã hội"
    assert rows[None][1] == "Toàn Bộ" and rows[None][2] == report.answered_total.answered
    provinces = {r[1]: r[2] for r in book["Theo tỉnh, thành phố"].iter_rows(min_row=2, values_only=True)}
    assert provinces["Thành phố Hồ Chí Minh"] == counts(report, Dimension.PROVINCE).get("79", 0)

    text = to_csv(report).decode("utf-8")
    assert text.startswith("\ufeffTổng quan\r\n")
    lines = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert ["Mã", "Tỉnh, thành phố (từ 01/7/2025)", "Số tiếp nhận"] in lines
    assert ["Tổng số tiếp nhận", str(report.received_total)] in lines


async def test_the_command_writes_the_report_the_service_gives(
    seeded: tuple[AsyncEngine, list[SeedCase]], db_url: str, tmp_path: Path
) -> None:
    _, cases = seeded
    out = tmp_path / "q4.xlsx"
    env = {"PAKN_DATABASE_URL": db_url, "PAKN_PKI_DIR": str(tmp_path / "pki")}
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke,
        cli_app,
        ["report", "--period", "2026-Q4", "--format", "xlsx", "--out", str(out)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    summary = {
        r[0]: r[1] for r in openpyxl.load_workbook(out)["Tổng quan"].iter_rows(min_row=2, values_only=True)
    }
    q4 = parse_period("2026-Q4")
    assert summary["Kỳ báo cáo"] == "Quý IV/2026"
    assert summary["Tổng số tiếp nhận"] == sum(within(c.received_at, q4) for c in cases)
    csv_out = tmp_path / "q4.csv"
    result = await asyncio.to_thread(
        runner.invoke,
        cli_app,
        ["report", "--period", "2026-Q4", "--format", "csv", "--out", str(csv_out)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "Số tiếp nhận" in csv_out.read_text(encoding="utf-8-sig")
    bad = await asyncio.to_thread(runner.invoke, cli_app, ["report", "--period", "2026-13"], env=env)
    assert bad.exit_code == 2 and "Kỳ báo cáo" in bad.output
