"""Cases in the console: found by an unaccented search, read on the case page with its Vietnamese
intact, and the signed answer letter downloaded and checked by pdfsig; a viewer sees them masked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from gateway.domain.text import fold
from tests.browser.conftest import Shooter, log_in
from tests.e2e.unit_side import SIGNER, issue_token, petition_at_its_unit, seeded_petition
from tests.support import verifiers
from tests.support.gateway import LiveGateway

pytestmark = pytest.mark.browser

ANSWER = (
    "Bộ Lao động - Thương binh và Xã hội trả lời ông/bà như sau: chế độ được tính theo quy định hiện hành."
)


def unaccented_words(text: str, count: int = 3) -> str:
    """A few words of ``text`` as someone types them on a keyboard without Vietnamese input."""
    words = fold(text).split()
    return " ".join(words[1 : 1 + count])


async def test_an_unaccented_search_finds_the_case_and_its_page_keeps_the_diacritics(
    console_gw: LiveGateway, page: Page, shoot: Shooter
) -> None:
    petition = seeded_petition(530)
    other, _ = await petition_at_its_unit(console_gw, seed=531)
    petition_id, _ = await petition_at_its_unit(console_gw, seed=530)
    typed = unaccented_words(petition["Title"])
    assert typed and typed not in petition["Title"]  # the words really lost their accents

    await log_in(page, console_gw.base_url, "operator")
    await page.click("nav >> text=Hồ sơ")
    await page.fill("[data-testid=case-search]", typed)
    await page.press("[data-testid=case-search]", "Enter")
    results = page.locator("[data-testid=cases] tbody tr")
    await expect(results.first).to_contain_text(petition_id)
    assert other not in await page.locator("[data-testid=cases]").inner_text()
    await shoot(page, "search-unaccented")

    await page.click(f"text={petition_id}")
    await expect(page.locator("h1")).to_have_text(f"Hồ sơ {petition_id}")
    await expect(page.locator(".case-title")).to_have_text(petition["Title"])  # NFC, diacritics kept
    await expect(page.locator("[data-testid=sender]")).to_contain_text(petition["Sender"]["FullName"])
    await expect(page.locator("[data-testid=history]")).to_contain_text("Đã chuyển đơn vị")
    timeline = page.locator("[data-testid=timeline]")
    await expect(timeline).to_contain_text("SubmitPetition")
    await expect(timeline).to_contain_text("Chữ ký: hợp lệ")
    await shoot(page, "case-page")
    async with page.expect_download() as raw:
        await timeline.get_by_role("link", name="XML gốc").first.click()
    xml = await asyncio.to_thread(Path(await (await raw.value).path()).read_bytes)
    assert b"PetitionMessage" in xml and petition_id.encode() in xml


async def test_the_signed_answer_letter_downloads_and_verifies(
    console_gw: LiveGateway, page: Page, shoot: Shooter, tmp_path: Path
) -> None:
    petition_id, holder = await petition_at_its_unit(console_gw, seed=532)
    token = await asyncio.to_thread(issue_token, console_gw, holder)
    async with httpx.AsyncClient(base_url=console_gw.base_url, timeout=60) as http:
        answered = await http.post(
            f"/api/units/{holder}/cases/{petition_id}/answer",
            headers={"Authorization": f"Bearer {token}"},
            json={"content": ANSWER, "publish": True, **SIGNER},
        )
        assert answered.status_code == 200, answered.text

    await log_in(page, console_gw.base_url, "operator")
    await page.goto(f"{console_gw.base_url}/console/cases/{petition_id}")
    await expect(page.locator("[data-testid=answer]")).to_contain_text(SIGNER["signer_name"])
    await expect(page.locator("[data-testid=history]")).to_contain_text("Đã trả lời")
    await shoot(page, "case-answered")
    async with page.expect_download() as download:
        await page.click("[data-testid=answer-pdf]")
    pdf = await asyncio.to_thread(Path(await (await download.value).path()).read_bytes)
    db = verifiers.nss_db(tmp_path / "nss", console_gw.pki.ca_cert)
    verifiers.assert_pdfsig_accepts(verifiers.pdfsig(pdf, db, tmp_path), count=1)
    assert SIGNER["signer_name"] in verifiers.pdftotext(pdf, tmp_path)


async def test_a_viewer_sees_personal_data_masked_and_no_documents(
    console_gw: LiveGateway, page: Page, shoot: Shooter
) -> None:
    petition = seeded_petition(533)
    petition_id, _ = await petition_at_its_unit(console_gw, seed=533)
    phone = petition["Sender"].get("Phone")
    await log_in(page, console_gw.base_url, "viewer")
    await page.goto(f"{console_gw.base_url}/console/cases/{petition_id}")
    sender = page.locator("[data-testid=sender]")
    await expect(sender).to_contain_text(petition["Sender"]["FullName"])
    if phone:
        assert phone not in await sender.inner_text()
        await expect(sender).to_contain_text(phone[-3:])
    await expect(page.get_by_role("link", name="XML gốc")).to_have_count(0)
    await expect(page.get_by_text("Vai trò Xem: số định danh")).to_be_visible()
    await shoot(page, "viewer-case")
    raw = await page.request.get(f"{console_gw.base_url}/console/cases/{petition_id}/messages/1/raw")
    assert raw.status == 403
