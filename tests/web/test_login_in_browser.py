"""An operator logs in the way they will every day: in Chromium, asking for a link, opening the mail
a real SMTP server on loopback received, and pressing "Log in"; the dashboard then speaks the
browser's language and switches on request."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.fixtures.dashboard import Desk, browser_log_in
from tgadmin.models.enums import OperatorRole


async def test_an_operator_logs_in_by_the_mailed_link_in_chromium_and_switches_language(
    desk: Desk, chromium: Browser
) -> None:
    await desk.operator(OperatorRole.OPERATOR, email="ana@example.com")
    page = await browser_log_in(chromium, desk, "ana@example.com")
    assert desk.smtp.messages[-1]["To"] == "ana@example.com"
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    await expect(page.get_by_text("ana@example.com · operator")).to_be_visible()
    await page.get_by_role("link", name="Português").click()
    await expect(page.get_by_role("heading", name="Visão geral")).to_be_visible()
    await expect(page.get_by_role("link", name="Criadoras")).to_be_visible()
    await page.context.close()
