"""A dead letter in the console: seen with its reason and attempts, inspected, replayed after a
confirmation step, delivered, and the replay on record with who did it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Shooter, log_in
from tests.e2e.unit_side import national, petition_at_its_unit, seeded_petition
from tests.support.gateway import LiveGateway, eventually
from tests.support.operators import alogin

pytestmark = pytest.mark.browser


async def test_an_operator_replays_a_dead_letter_after_confirming(
    console_gw: LiveGateway, page: Page, shoot: Shooter
) -> None:
    # the portal refuses the petition's first status for good, as if it had never heard of it
    poison = seeded_petition(520)["PetitionId"]
    console_gw.portal.faults.fault_for_petition = {poison: "Client.UnknownPetition"}
    assert (await petition_at_its_unit(console_gw, seed=520))[0] == poison

    async def dead_row() -> int | None:
        found = [m.id for m in await national(console_gw, poison) if m.state == "dead"]
        return found[0] if found else None

    row_id = await eventually(dead_row, 60, "the refused status was never dead-lettered")
    letter_id = f"national:{row_id}"

    await log_in(page, console_gw.base_url, "operator")
    await expect(page.locator("[data-testid=dead-total]")).to_have_text("1")  # on the Overview
    await page.click("a.kpi-link[href='/console/dead-letters']")
    row = page.locator("[data-testid=dead-letters] tbody tr", has_text=letter_id)
    await expect(row).to_contain_text("sender")
    await expect(row).to_contain_text("Client.UnknownPetition")
    await shoot(page, "dead-letters")

    await row.get_by_role("link", name="Xem chi tiết").click()
    await expect(page.locator(".kv")).to_contain_text("ReceiveStatus")
    await expect(page.locator("pre.code")).to_contain_text(poison)
    await shoot(page, "dead-letter-inspected")

    console_gw.portal.faults.fault_for_petition = {}  # the cause is fixed: now it can be replayed
    await page.goto(f"{console_gw.base_url}/console/dead-letters")
    await page.check(f"input[name=ids][value='{letter_id}']")
    await page.click("[data-testid=replay-selected]")
    await expect(page.locator("h1")).to_have_text("Xác nhận gửi lại")
    await expect(page.locator("[data-testid=confirm-list]")).to_contain_text(letter_id)
    assert await dead_row() == row_id  # nothing is done before the confirmation
    await shoot(page, "replay-confirmation")
    await page.click("[data-testid=confirm-go]")
    await expect(page.locator(".flash-ok")).to_have_text("Đã gửi lại 1 thư.")

    async def delivered() -> bool | None:
        return True if console_gw.portal.recorder.delivered(poison) else None

    await eventually(delivered, 60, "the replayed status never reached the portal")
    await page.goto(f"{console_gw.base_url}/console/dead-letters")
    await expect(page.locator("[data-testid=dead-letters-empty]")).to_be_visible()
    await shoot(page, "dead-letters-after-replay")

    async with httpx.AsyncClient(base_url=console_gw.base_url, timeout=30) as http:
        await alogin(http, "admin")
        actions = (await http.get("/api/ops/actions", params={"username": "operator"})).json()["items"]
    replays = [a for a in actions if a["action"] == "dead_letter.replay"]
    assert [(a["username"], a["target"]) for a in replays] == [("operator", letter_id)]


async def test_a_viewer_browses_dead_letters_but_cannot_replay(
    console_gw: LiveGateway, page: Page, shoot: Shooter
) -> None:
    poison = seeded_petition(521)["PetitionId"]
    console_gw.portal.faults.fault_for_petition = {poison: "Client.UnknownPetition"}
    await petition_at_its_unit(console_gw, seed=521)

    async def dead() -> bool | None:
        return True if any(m.state == "dead" for m in await national(console_gw, poison)) else None

    await eventually(dead, 60, "the refused status was never dead-lettered")
    await log_in(page, console_gw.base_url, "viewer")
    await page.goto(f"{console_gw.base_url}/console/dead-letters")
    await expect(page.locator("[data-testid=dead-letters] tbody tr")).to_have_count(1)
    await expect(page.locator("input[name=ids]")).to_have_count(0)
    await expect(page.locator("[data-testid=replay-selected]")).to_have_count(0)
    await expect(page.get_by_text("Vai trò của bạn chỉ được xem")).to_be_visible()
    await shoot(page, "viewer-dead-letters")
    # even a crafted confirmation is refused, and nothing moves
    await page.goto(f"{console_gw.base_url}/console/dead-letters/confirm?action=replay&ids=national:1")
    await expect(page.locator(".flash-bad")).to_be_visible()
    await asyncio.sleep(0.5)
    assert any(m.state == "dead" for m in await national(console_gw, poison))
