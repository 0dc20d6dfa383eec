"""Reports in the console: a viewer picks a period, reads the figures (checked against the seed,
computed here without the report code) in tables and charts, downloads the XLSX the page links to
(opened back with openpyxl) and the CSV; a bad period is said in both languages."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Shooter, log_in
from tests.support.gateway import LiveGateway
from tests.support.report_seed import VN, SeedCase, make_seed, write_seed

pytestmark = pytest.mark.browser

OCTOBER = (datetime(2026, 10, 1, tzinfo=VN), datetime(2026, 11, 1, tzinfo=VN))


def in_october(moment: datetime | None) -> bool:
    return moment is not None and OCTOBER[0] <= moment < OCTOBER[1]


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


async def seeded(gw: LiveGateway) -> list[SeedCase]:
    units = tuple(gw.units[code] for code in ("VBHXH", "CVL", "CNCC", "VPB"))
    cases = make_seed(units=units)
    await write_seed(gw.engine, cases)
    return cases


async def test_a_viewer_reads_a_months_report_and_downloads_it(
    console_gw: LiveGateway, page: Page, shoot: Shooter
) -> None:
    cases = await seeded(console_gw)
    received = [c for c in cases if in_october(c.received_at)]
    answered = [c for c in cases if c.answers and in_october(c.answers[0])]
    late = [c for c in answered if c.due_at is not None and c.answers[0] > c.due_at]
    vbhxh = console_gw.units["VBHXH"]
    assert received and answered and late

    await log_in(page, console_gw.base_url, "viewer")
    await page.click("nav >> text=Báo cáo")
    await expect(page.locator("h1")).to_have_text("Báo cáo thống kê")
    await page.fill("[data-testid=period-input]", "2026-10")
    await page.click("button:has-text('Xem báo cáo')")
    await expect(page.locator("[data-testid=report-label]")).to_have_text("Tháng 10/2026")
    await expect(page.locator("[data-testid=kpi-received]")).to_have_text(number(len(received)))
    await expect(page.locator("[data-testid=kpi-answered]")).to_contain_text(number(len(answered)))

    table = page.locator("[data-testid=timeliness]")
    unit_row = table.locator("tbody tr", has_text="Vụ Bảo hiểm xã hội")
    mine = [c for c in answered if c.unit == vbhxh]
    await expect(unit_row.locator("td").nth(2)).to_have_text(number(len(mine)))
    await expect(table.locator("tfoot td").nth(4)).to_have_text(number(len(late)))
    kinds = page.locator("[data-testid=received-kind]")
    await expect(kinds).to_contain_text("Hỏi đáp chính sách")
    province = page.locator("[data-testid=received-province] li", has_text="Thành phố Hồ Chí Minh")
    to_hcm = sum(c.province_code in ("79", "74") for c in received)  # 74 Bình Dương merged into 79
    await expect(province.locator(".bar-value")).to_have_text(number(to_hcm))
    # both charts drawn: the timeliness bars and the backlog columns
    await expect(page.locator("svg.report-chart rect.seg-ok").first).to_be_visible()
    await expect(page.locator("svg.report-chart rect.seg-open").first).to_be_visible()
    await expect(page.locator("[data-testid=movements]")).to_contain_text("Người gửi rút đơn")
    await shoot(page, "report-october")

    async with page.expect_download() as raw:
        await page.click("[data-testid=download-xlsx]")
    download = await raw.value
    assert download.suggested_filename == "bao-cao-pakn-2026-10.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(await asyncio.to_thread(Path(await download.path()).read_bytes)))
    summary = {r[0]: r[1] for r in book["Tổng quan"].iter_rows(min_row=2, values_only=True)}
    assert summary["Kỳ báo cáo"] == "Tháng 10/2026"
    assert summary["Tổng số tiếp nhận"] == len(received)
    assert summary["Trả lời trễ hạn"] == len(late)
    async with page.expect_download() as raw:
        await page.click("[data-testid=download-csv]")
    text = (await asyncio.to_thread(Path(await (await raw.value).path()).read_bytes)).decode("utf-8-sig")
    assert f"Tổng số tiếp nhận,{len(received)}" in text

    # a quick pick: the quarter before this one (the gateway's clock: today)
    last_quarter = page.locator("[data-testid=quick-periods] a", has_text="Quý trước")
    await last_quarter.click()
    await expect(page.locator("[data-testid=report-label]")).to_contain_text("Quý ")
    await expect(last_quarter).to_have_class("on")


async def test_a_bad_period_is_refused_and_the_page_speaks_english(
    console_gw: LiveGateway, page: Page, shoot: Shooter
) -> None:
    await seeded(console_gw)
    await log_in(page, console_gw.base_url, "viewer")
    answer = await page.goto(f"{console_gw.base_url}/console/reports?period=th%C3%A1ng%2010")
    assert answer is not None and answer.status == 400
    error = page.locator("[data-testid=period-error]")
    await expect(error).to_contain_text("Kỳ báo cáo «tháng 10» không hợp lệ")
    await expect(page.locator("[data-testid=period-input]")).to_have_value("tháng 10")

    await page.goto(f"{console_gw.base_url}/console/reports?period=2026-Q4&lang=en")
    await expect(page.locator("h1")).to_have_text("Statistical reports")
    label = page.locator("[data-testid=report-label]")
    await expect(label).to_have_text("Quý IV/2026")  # the report's own label, Vietnamese as exported
    await expect(page.locator("[data-testid=received-kind] h2")).to_have_text("Received · by kind")
    await expect(page.locator("[data-testid=received-kind]")).to_contain_text("Policy question")
    await expect(page.locator("[data-testid=timeliness] tfoot")).to_contain_text("Whole ministry")
    await shoot(page, "report-q4-en")
    answer = await page.goto(f"{console_gw.base_url}/console/reports?period=2026-99&lang=en")
    assert answer is not None and answer.status == 400
    await expect(page.locator("[data-testid=period-error]")).to_contain_text("Invalid report period")
