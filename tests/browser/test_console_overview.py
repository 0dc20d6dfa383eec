"""Logging in, the Overview in Vietnamese and in English, and a pushed petition appearing on it."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Shooter, log_in
from tests.e2e.unit_side import petition_at_its_unit
from tests.support.gateway import LiveGateway

pytestmark = pytest.mark.browser


async def test_log_in_and_read_the_overview_in_both_languages(
    console_gw: LiveGateway, page: Page, shoot: Shooter
) -> None:
    await page.goto(f"{console_gw.base_url}/console/login")
    await page.fill("input[name=username]", "operator")
    await page.fill("input[name=password]", "sai mật khẩu")
    await page.click("button[type=submit]")
    await expect(page.locator(".flash-bad")).to_have_text("Sai tên đăng nhập hoặc mật khẩu.")
    await shoot(page, "login-refused")

    await log_in(page, console_gw.base_url, "operator")
    await expect(page.locator("h1")).to_have_text("Tổng quan")
    await expect(page.locator(".role")).to_have_text("Vận hành")
    await expect(page.get_by_text("Hàng đợi của các đơn vị")).to_be_visible()
    rows = page.locator("[data-testid=queues] tbody tr")
    await expect(rows).to_have_count(len(console_gw.units))
    await shoot(page, "overview-vi")

    await page.click("a[hreflang=en]")
    await expect(page.locator("h1")).to_have_text("Overview")
    await expect(page.get_by_text("Unit queues")).to_be_visible()
    await page.goto(f"{console_gw.base_url}/console/dead-letters")  # the choice is kept (cookie)
    await expect(page.locator("h1")).to_have_text("Dead letters")
    await shoot(page, "dead-letters-en")


async def test_a_pushed_petition_appears_on_the_overview_by_itself(
    console_gw: LiveGateway, page: Page, shoot: Shooter
) -> None:
    await log_in(page, console_gw.base_url, "viewer")
    await page.goto(f"{console_gw.base_url}/console?window=15")
    live = page.locator("#overview-live")
    petition_id, unit = await petition_at_its_unit(console_gw, seed=501)
    # no reload: the page refreshes itself; nobody consumes the unit's queue, so the case waits there
    row = page.locator("[data-testid=queues] tbody tr", has_text=unit)
    await expect(row.locator("td").nth(2)).to_have_text("1", timeout=30_000)
    await expect(row).to_have_class(re.compile(r"level-bad"))  # waiting, and no consumer
    await expect(live.locator("[data-testid=overdue]")).to_be_visible()
    await shoot(page, "overview-after-push")
    await page.goto(f"{console_gw.base_url}/console/cases")
    await expect(page.locator("[data-testid=cases]")).to_contain_text(petition_id)
    await shoot(page, "cases-after-push")
