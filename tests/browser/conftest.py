"""Browser tests: the console in real headless Chromium (Debian's ``chromium``), driven by
Playwright's Python package through ``executable_path`` (never a downloaded browser), against a
real gateway over HTTP with the national portal simulator, RabbitMQ and SQLite.

Each test saves screenshots under ``PAKN_ARTIFACTS_DIR`` (default ``tests/artifacts/``, ignored
by git): CI keeps them as artifacts, a person looks at them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.support.amqp import own_vhost
from tests.support.databases import sqlite_url
from tests.support.gateway import LiveGateway, live_gateway
from tests.support.operators import PASSWORD, add_operator

CHROMIUM = os.environ.get("PAKN_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("PAKN_ARTIFACTS_DIR", Path(__file__).resolve().parents[1] / "artifacts"))
# what a closed network needs (no background calls home), and what running as root in CI needs
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
USERS = {"admin": "admin", "operator": "operator", "viewer": "viewer"}  # username → role
FAST = {
    "console_sample_seconds": 1.0,
    "metrics_sample_seconds": 1.0,
    # a refused or failed national call settles in seconds: the dead-letter tests wait for one
    "national_retry_attempts": 1,
    "national_base_backoff_seconds": 0.2,
    "national_max_backoff_seconds": 1.0,
    "national_timeout": 5.0,
}


@pytest.fixture
async def console_gw(tmp_path: Path) -> AsyncIterator[LiveGateway]:
    """A gateway on SQLite (the subject here is the console, not the store) with one account per
    role, sampling every second so charts and queue figures move while a test watches."""
    database_url = sqlite_url(tmp_path)
    for username, role in USERS.items():
        await add_operator(database_url, username, PASSWORD, role)
    async with own_vhost() as url, live_gateway(tmp_path, database_url, amqp_url=url, **FAST) as live:
        yield live


def require_chromium() -> None:
    """A missing browser fails the test (CI installs it): a console nobody looked at is not a result."""
    if shutil.which(CHROMIUM) is None:
        raise AssertionError(f"{CHROMIUM} is missing (Debian package chromium); CI installs it")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    made = await browser.new_context(
        viewport={"width": 1440, "height": 1000}, locale="vi-VN", accept_downloads=True
    )
    made.set_default_timeout(TIMEOUT_MS)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Shooter:
    return Shooter(request.node.name)


class Shooter:
    """``await shoot(page, "overview")`` → ARTIFACTS/<test>-<n>-overview.png, the whole page."""

    def __init__(self, test_name: str) -> None:
        self._prefix = re.sub(r"[^\w.-]+", "_", test_name)
        self._count = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    async def __call__(self, page: Page, label: str) -> Path:
        self._count += 1
        path = ARTIFACTS / f"{self._prefix}-{self._count:02d}-{label}.png"
        await page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        return path


async def log_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Through the login form, as a person does: the console sends an anonymous visitor there."""
    await page.goto(f"{base_url}/console")
    await page.wait_for_url(re.compile(r"/console/login"))
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r"/console(\?.*)?$"))
