"""Playwright on Debian's chromium (never a downloaded browser) against the test stack.

Screenshots land in `test-artifacts/screenshots/`: each step on a laptop viewport, and
the main pages again at phone width.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.support import Stack

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

Shot = Callable[[Page, str], None]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test (`make test-unit` leaves them out)."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Browser]:
    """Module-scoped, after the stack: Playwright's sync API keeps an event loop running
    while it is open, and the other tests' `asyncio.run` must not meet it."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium ausente: apt-get install -y chromium (nunca playwright install)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def portal_url(stack: Stack) -> str:
    return stack.services.url("gateway")


# The machines are shared and noisy: a page that is right may take seconds to come when
# others load the cores. Waits are generous; what a page must show is still asserted.
expect.set_options(timeout=20_000)


def new_context(browser: Browser, base_url: str) -> BrowserContext:
    context = browser.new_context(base_url=base_url, viewport=LAPTOP, locale="pt-BR")
    context.set_default_timeout(45_000)
    return context


def login(context: BrowserContext, username: str, password: str) -> Page:
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Usuário").fill(username)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()
    expect(page).to_have_url(re.compile(r"/$"))
    return page


@pytest.fixture(scope="session")
def shot() -> Shot:
    """`shot(page, name)`: laptop screenshot of the page as it is now."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}-laptop.png"), full_page=True)

    return take


@pytest.fixture(scope="session")
def phone_shot() -> Shot:
    """`phone_shot(page, name)`: the same URL, same session, at phone width."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> None:
        phone = page.context.new_page()
        try:
            phone.set_viewport_size(PHONE)
            phone.goto(page.url)
            phone.wait_for_load_state("networkidle")
            phone.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
        finally:
            phone.close()

    return take
