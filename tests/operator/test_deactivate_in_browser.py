"""In Chromium, as operators work: an admin invites a colleague from the Operators page (the login
link goes out by real SMTP), the colleague logs in with the mailed link, the admin deactivates them,
and the colleague's open session is refused on its very next page load."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.fixtures.dashboard import Desk, browser_log_in
from tgadmin.models.enums import OperatorRole


async def test_a_deactivated_operators_open_browser_session_is_refused_on_the_next_page(
    desk: Desk, chromium: Browser
) -> None:
    await desk.operator(OperatorRole.ADMIN, email="boss@example.com")
    admin = await browser_log_in(chromium, desk, "boss@example.com")
    await admin.goto("/operators")
    invite = admin.locator("form[action='/operators/invite']")
    await invite.get_by_label("E-mail").fill("bia@example.com")
    await invite.get_by_label("Role").select_option("operator")
    await invite.get_by_role("button", name="Invite and mail a login link").click()
    await expect(
        admin.get_by_text("bia@example.com was invited as operator; a login link was mailed")
    ).to_be_visible()
    assert desk.smtp.messages[-1]["To"] == "bia@example.com"

    colleague = await browser_log_in(chromium, desk, "bia@example.com")
    await colleague.goto("/sales")
    await expect(colleague.get_by_role("heading", name="Sales")).to_be_visible()

    row = admin.locator("tr", has_text="bia@example.com")
    await row.get_by_role("button", name="Deactivate").click()
    await expect(admin.get_by_text("bia@example.com is deactivated")).to_be_visible()
    await expect(admin.locator("tr", has_text="bia@example.com").get_by_text("deactivated")).to_be_visible()

    await colleague.reload()
    await colleague.wait_for_url(f"{desk.base_url}/login")
    await expect(colleague.get_by_role("button", name="Send me a login link")).to_be_visible()
    await colleague.context.close()
    await admin.context.close()
