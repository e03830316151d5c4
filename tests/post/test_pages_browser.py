"""End to end in headless Chromium: an operator logged in through the mailed link selects two of
three messages sent to a sandbox group on /posts, deletes them and watches the job finish and their
status become deleted; then clears the group by date range, seeing the count before confirming."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.async_api import Browser, expect

from tests.factories import make_operator
from tests.fixtures.dashboard import Desk, browser_log_in, dashboard_server, desk_settings
from tests.fixtures.servers import SmtpInbox
from tests.post.test_jobs import shown
from tests.post.test_pages_world import send
from tests.worker.harness import World
from tgadmin.clock import utcnow
from tgadmin.db import session_scope
from tgadmin.i18n import BRASILIA
from tgadmin.models.enums import OperatorRole
from tgadmin.redis import free_port


def local(hours: float) -> str:
    """Now plus `hours`, as a datetime-local field takes it (Brasília time)."""
    return (utcnow() + timedelta(hours=hours)).astimezone(BRASILIA).strftime("%Y-%m-%dT%H:%M")


async def test_an_operator_deletes_two_posts_and_clears_the_group_in_chromium(
    world: World, smtp_server: SmtpInbox, chromium: Browser, tmp_path: Path
) -> None:
    group = await world.add_group("Vitrine")
    ids = await send(world, group, "primeira", "segunda", "terceira")
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
        page.on("dialog", lambda dialog: dialog.accept())
        await page.goto(f"/posts?group_id={group.id}")
        for message_id in ids[:2]:
            await page.get_by_label(f"select message {message_id} of Vitrine").check()
        await page.get_by_role("button", name="Delete selected").click()
        await expect(
            page.get_by_role("status").filter(has_text="Deleting 2 messages in 1 groups")
        ).to_be_visible()
        job = page.locator(".job")
        await expect(job).to_have_attribute("data-state", "completed", timeout=30_000)
        await expect(job.locator(".job-result")).to_contain_text("deleted: 2")
        await page.reload()
        rows = page.locator("table.posts tbody tr")
        await expect(rows).to_have_count(3)
        states = [await row.get_attribute("data-status") for row in await rows.all()]
        assert states == ["sent", "deleted", "deleted"]  # newest first: the third was kept

        await page.goto(f"/groups/{group.id}/clear")
        await page.get_by_label("Sent from").fill(local(-1))
        await page.get_by_label("Sent to").fill(local(1))
        await expect(page.locator(".clear-count")).to_have_attribute("data-matched", "1")
        await expect(page.get_by_text("1 messages will be deleted.")).to_be_visible()
        await expect(page.get_by_text("Telegram's 48-hour rule:")).to_be_visible()
        await page.get_by_role("button", name="Confirm: clear").click()
        job = page.locator(".job")
        await expect(job).to_have_attribute("data-state", "completed", timeout=30_000)
        await expect(job.locator(".job-result")).to_contain_text("matched: 1")
        await page.context.close()
    assert shown(await world.sandbox.messages(group.telegram_id)) == []
