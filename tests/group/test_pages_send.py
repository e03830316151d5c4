"""Sending from a group's page with a real worker: the message lands in the sandbox group as the
operator wrote it (formatting, URL button, photo with caption), once, recorded in the post history;
and the same in headless Chromium, logged in through the mailed link, preview first."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.fixtures.dashboard import Desk, browser_log_in, dashboard_server, log_in
from tests.fixtures.servers import SmtpInbox
from tests.group.photo import png_bytes
from tests.worker.harness import World
from tgadmin.models import PostHistory
from tgadmin.models.enums import OperatorRole, PostKind
from tgadmin.queue.names import JobName
from tgadmin.redis import free_port


@pytest.fixture
def dashboard_port() -> int:
    return free_port()


@pytest.fixture
def world_overrides(tmp_path: Path, smtp_server: SmtpInbox, dashboard_port: int) -> dict[str, Any]:
    """The worker and the dashboard share the media folder (the photo is uploaded by one, sent by
    the other) and the dashboard mails login links to the loopback SMTP server."""
    return {
        "media_dir": tmp_path / "media",
        "public_url": f"http://127.0.0.1:{dashboard_port}",
        "smtp_host": smtp_server.host,
        "smtp_port": smtp_server.port,
        "smtp_starttls": False,
    }


async def _finished(world: World, location: str) -> tuple[str, Any]:
    job_id = location.split("%3A", 1)[1]
    outcome = await world.wait(JobName.SEND_MESSAGE, job_id)
    return outcome.state, outcome.value


async def test_a_message_sent_from_the_page_lands_in_the_sandbox_group_with_its_photo_and_button(
    world: World,
) -> None:
    group = await world.add_group("Vitrine")
    async with dashboard_server(world.settings, free_port()) as url:
        operator = await log_in(world.sessions, world.settings, url, OperatorRole.OPERATOR)
        try:
            sent = await operator.submit(
                f"/groups/{group.id}/send",
                text="<b>Pack novo</b> hoje",
                button_text=["Quero ver", ""],
                button_url=["https://t.me/shop_bot?start=model_1", ""],
                files={"photo": ("capa.png", png_bytes(), "image/png")},
            )
            assert sent.status_code == 303, sent.text
            state, value = await _finished(world, sent.headers["location"])
            assert state == "completed", value
            page = await operator.http.get(sent.headers["location"])
            assert "sending the message to &#39;Vitrine&#39;" in page.text
            fragment = await operator.http.get(
                f"/jobs/bot-tasks/{sent.headers['location'].split('%3A', 1)[1]}"
            )
            assert 'data-state="completed"' in fragment.text
        finally:
            await operator.http.aclose()
    shown = await world.sandbox.messages(group.telegram_id)
    (message,) = [m for m in shown if m["message_id"] == value["messageId"]]
    assert message["message_id"] == value["messageId"]
    # The tags were read as Telegram's HTML (the chat shows the text without them).
    assert message["caption"] == "Pack novo hoje" and message["media"]["kind"] == "photo"
    assert message["media"]["width"] == 64 and message["media"]["has_bytes"]
    assert message["buttons"] == [[{"text": "Quero ver", "url": "https://t.me/shop_bot?start=model_1"}]]
    async with world.sessions() as session:
        (post,) = (await session.execute(PostHistory.__table__.select())).all()
    assert post.message_id == message["message_id"] and post.kind == PostKind.PHOTO


# PostgreSQL only: on SQLite a page loaded while the worker's job writes fails now and then with
# "database is locked" (every request writes the operator session's last_seen_at after reading, and
# the worker is another writer: a deferred transaction cannot upgrade after a concurrent commit).
# The httpx test above covers SQLite, reading the page once the job has finished.
@pytest.mark.parametrize("db_backend", ["postgresql"])
async def test_in_chromium_an_operator_previews_a_formatted_message_with_a_button_sends_it_and_sees_it_done(
    world: World, chromium: Browser, smtp_server: SmtpInbox, dashboard_port: int
) -> None:
    group = await world.add_group("Navegador")
    async with dashboard_server(world.settings, dashboard_port) as url:
        desk = Desk(world.settings, world.sessions, url, world.queues, world.sandbox, smtp_server)
        operator = await desk.operator(OperatorRole.OPERATOR)
        page = await browser_log_in(chromium, desk, operator.email)
        await page.goto(f"/groups/{group.id}")
        await page.locator("#text").fill("<b>Oferta</b> <i>relâmpago</i>")
        await page.get_by_label("Button 1 text").fill("Comprar")
        await page.get_by_label("Button 1 address").fill("https://example.com/loja")
        await page.get_by_role("button", name="Preview").click()
        preview = page.locator("#preview .preview-text")
        await expect(preview.locator("b")).to_have_text("Oferta")
        await expect(preview.locator("i")).to_have_text("relâmpago")
        await expect(page.locator("#preview .preview-button")).to_have_text("Comprar")
        await page.get_by_role("button", name="Send", exact=True).click()
        await expect(page.locator(".job[data-state='completed']")).to_be_visible(timeout=20_000)
        await expect(page.locator(".notice")).to_contain_text("sending the message to 'Navegador'")
        await page.context.close()
    for _ in range(50):
        messages = [m for m in await world.sandbox.messages(group.telegram_id) if m["text"]]
        if messages:
            break
        await asyncio.sleep(0.1)
    (message,) = messages
    assert message["text"] == "Oferta relâmpago"
    assert message["buttons"] == [[{"text": "Comprar", "url": "https://example.com/loja"}]]
