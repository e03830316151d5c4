"""End to end in headless Chromium: an operator composes a campaign to a sandbox group, sees the
preview and the group count update as they type, schedules it now, and watches the campaign's page
follow the worker until the group's post is sent; the sandbox chat shows it."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.factories import make_operator
from tests.fixtures.dashboard import Desk, browser_log_in, dashboard_server, desk_settings
from tests.fixtures.servers import SmtpInbox
from tests.worker.harness import World
from tgadmin.db import session_scope
from tgadmin.models.enums import OperatorRole
from tgadmin.redis import free_port


async def test_an_operator_schedules_a_campaign_now_and_watches_it_complete_in_chromium(
    world: World, smtp_server: SmtpInbox, chromium: Browser, tmp_path: Path
) -> None:
    group = await world.add_group("Vitrine")
    await world.add_group("Outro")
    async with session_scope(world.sessions) as session:
        await make_operator(session, OperatorRole.OPERATOR, email="bia@example.com")
    port = free_port()
    settings = desk_settings(
        world.settings.database_url,
        world.settings.redis_prefix,
        world.sandbox.url,
        port,
        tmp_path,
        smtp_server,
    )
    async with dashboard_server(settings, port) as url:
        desk = Desk(settings, world.sessions, url, world.queues, world.sandbox, smtp_server)
        page = await browser_log_in(chromium, desk, "bia@example.com")
        await page.goto("/campaigns/new")
        await page.get_by_label("Name").fill("Vitrine de verão")
        await page.get_by_label("Vitrine").check()
        await page.get_by_label("Text (Telegram formatting in HTML: bold, italic, links)").fill(
            "Chegou o <b>verão</b>"
        )
        preview = page.locator("#preview")
        await expect(preview.locator(".preview-text b")).to_have_text("verão")
        await expect(preview.locator(".target-count")).to_contain_text("1 group")
        await page.get_by_role("button", name="Schedule campaign").click()
        await expect(page.get_by_role("status").first).to_contain_text("Campaign Vitrine de verão scheduled.")
        progress = page.locator("#progress")
        await expect(progress).to_have_attribute("data-status", "completed", timeout=60_000)
        await expect(page.locator(f"#target-{group.id}")).to_have_attribute("data-status", "sent")
    shown = [m for m in await world.sandbox.messages(group.telegram_id) if m.get("text") and not m["deleted"]]
    assert [m["text"] for m in shown] == ["Chegou o verão"]
