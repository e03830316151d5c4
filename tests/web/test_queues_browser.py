"""An operator in Chromium (logged in by the mailed link) retries a failed job from the queue monitor
and watches it complete: the counts refresh by themselves. A real worker runs the job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.fixtures.dashboard import Desk, browser_log_in, dashboard_server
from tests.fixtures.servers import SmtpInbox
from tests.worker.harness import World
from tgadmin.models.enums import OperatorRole
from tgadmin.queue.names import JobName
from tgadmin.redis import free_port

PORT = free_port()


@pytest.fixture
def world_overrides(smtp_server: SmtpInbox, tmp_path: Path) -> dict[str, Any]:
    return {
        "smtp_host": smtp_server.host,
        "smtp_port": smtp_server.port,
        "smtp_starttls": False,
        "public_url": f"http://127.0.0.1:{PORT}",
        "media_dir": tmp_path / "media",
    }


async def test_an_operator_retries_a_failed_job_in_the_browser_and_sees_it_complete(
    world: World, chromium: Browser, smtp_server: SmtpInbox
) -> None:
    chat = await world.sandbox.create_chat("supergroup", "Saiu")
    job_id = await world.enqueue(JobName.SEND_MESSAGE, {"chatId": chat, "text": "de volta"})
    assert (await world.wait(JobName.SEND_MESSAGE, job_id)).state == "failed"
    async with dashboard_server(world.settings, PORT) as url:
        desk = Desk(world.settings, world.sessions, url, world.queues, world.sandbox, smtp_server)
        operator = await desk.operator(OperatorRole.OPERATOR)
        page = await browser_log_in(chromium, desk, operator.email)
        await page.goto("/queues")
        failed_count = page.locator('#queue-counts tr[data-queue="bot-tasks"] td[data-state="failed"]')
        completed_count = page.locator('#queue-counts tr[data-queue="bot-tasks"] td[data-state="completed"]')
        await expect(failed_count).to_have_text("1")
        row = page.locator(f"#job-bot-tasks-{job_id}")
        await expect(row).to_contain_text("send-message")

        await world.sandbox.add_member(chat, bot_id=world.tg.id, status="administrator")
        # Telegram asks the retried send to wait a few seconds: it completes after the page loaded.
        await world.sandbox.flood("sendMessage", retry_after=4, chat_id=chat)
        await row.get_by_role("button", name="Retry").click()
        await expect(page.get_by_role("status")).to_contain_text("queued again")
        await expect(completed_count).to_have_text("0")
        # No reload from here on: the counts fragment refreshes itself every 3 seconds.
        await expect(completed_count).to_have_text("1", timeout=15_000)
        await expect(failed_count).to_have_text("0")
        assert "de volta" in [m["text"] for m in await world.sandbox.messages(chat)]
        await page.context.close()
