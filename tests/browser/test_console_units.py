"""Units in the console: bindings and routing rules for everyone; tokens created (shown once) and
revoked by an admin, with a confirmation, the new token working over REST until it is revoked."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Dialog, Page, expect

from tests.browser.conftest import Shooter, log_in
from tests.support.gateway import LiveGateway

pytestmark = pytest.mark.browser


async def test_an_admin_creates_and_revokes_a_unit_token(
    console_gw: LiveGateway, page: Page, shoot: Shooter
) -> None:
    unit = console_gw.units["CNCC"]
    await log_in(page, console_gw.base_url, "admin")
    await page.click("nav >> text=Đơn vị")
    await expect(page.locator("[data-testid=units]")).to_contain_text("Cục Người có công")
    await expect(page.locator("[data-testid=routing] tbody tr").first).to_be_visible()
    await page.select_option("select[name=unit]", unit)
    await page.fill("input[name=label]", "Hệ thống một cửa của Cục")
    await page.click("text=Tạo mã mới")
    secret = (await page.locator("[data-testid=issued-token] .secret").inner_text()).strip()
    assert len(secret) >= 32
    row = page.locator("[data-testid=tokens] tbody tr", has_text="Hệ thống một cửa của Cục")
    await expect(row).to_contain_text("Đang dùng")
    await shoot(page, "token-created")

    async with httpx.AsyncClient(base_url=console_gw.base_url, timeout=30) as http:
        mine = {"Authorization": f"Bearer {secret}"}
        assert (await http.get(f"/api/units/{unit}/cases", headers=mine)).status_code == 200

        async def accept(dialog: Dialog) -> None:
            assert "Thu hồi mã này" in dialog.message
            await dialog.accept()

        page.once("dialog", accept)
        await row.get_by_role("button", name="Thu hồi").click()
        await page.wait_for_url(re.compile(r"revoked="))
        await expect(page.locator(".flash-ok")).to_have_text("Đã thu hồi mã.")
        await expect(
            page.locator("[data-testid=tokens] tbody tr", has_text="Hệ thống một cửa của Cục")
        ).not_to_contain_text("Đang dùng")
        await shoot(page, "token-revoked")
        assert (await http.get(f"/api/units/{unit}/cases", headers=mine)).status_code == 401
    # the page never shows the secret again
    assert secret not in await page.content()


async def test_an_operator_reads_units_but_manages_no_tokens(
    console_gw: LiveGateway, page: Page, shoot: Shooter
) -> None:
    await log_in(page, console_gw.base_url, "operator")
    await page.goto(f"{console_gw.base_url}/console/units?lang=en")
    await expect(page.locator("h1")).to_have_text("Units")
    await expect(page.get_by_text("Only admins manage tokens.")).to_be_visible()
    await expect(page.locator("form[action='/console/units/tokens']")).to_have_count(0)
    await shoot(page, "operator-units-en")
