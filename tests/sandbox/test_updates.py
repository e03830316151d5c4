"""Updates reach the bot by getUpdates long polling or by webhook with the secret-token header."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiogram import Dispatcher, Router
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.fixtures.sandbox import Sandbox, SandboxBot
from tests.narrow import present
from tgadmin.redis import free_port


async def test_long_poll_waits_for_the_next_update_and_offset_confirms(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    user = await sandbox.create_user("Ana")
    started = time.monotonic()
    poll = asyncio.create_task(shop.bot.get_updates(timeout=10))
    await asyncio.sleep(0.3)
    await sandbox.user_says(user, "oi")
    updates = await poll
    assert time.monotonic() - started < 5
    assert [present(u.message).text for u in updates] == ["oi"]
    assert [u.update_id for u in await shop.bot.get_updates()] == [updates[0].update_id]
    assert await shop.bot.get_updates(offset=updates[0].update_id + 1) == []
    empty_started = time.monotonic()
    assert await shop.bot.get_updates(timeout=1) == []
    assert time.monotonic() - empty_started >= 0.9


async def test_a_second_poller_ends_the_first_with_409(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    first = asyncio.create_task(shop.bot.get_updates(timeout=10))
    await asyncio.sleep(0.3)
    second = asyncio.create_task(shop.bot.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError) as conflict:
        await first
    assert "terminated by other getUpdates request" in conflict.value.message
    assert await second == []


async def test_allowed_updates_filters_what_is_queued(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    user = await sandbox.create_user("Ana")
    await shop.bot.get_updates(allowed_updates=["callback_query"])
    await sandbox.user_says(user, "ignored")
    assert await shop.bot.get_updates() == []


@dataclass
class WebhookBot:
    sandbox: Sandbox
    shop: SandboxBot
    seen: list[Message]
    url: str


@pytest.fixture
async def webhook_bot(sandbox: Sandbox) -> AsyncIterator[WebhookBot]:
    """The real aiogram webhook handler on loopback, checking the secret token, recording messages."""
    shop = await sandbox.create_bot()
    seen: list[Message] = []
    router = Router()

    @router.message()
    async def record(message: Message) -> None:
        seen.append(message)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dispatcher, shop.bot, secret_token="s3cret-Token_1").register(app, path="/hook")
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield WebhookBot(sandbox, shop, seen, f"http://127.0.0.1:{port}/hook")
    finally:
        await runner.cleanup()


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_webhook_delivers_with_the_secret_token_header(webhook_bot: WebhookBot) -> None:
    sandbox, shop, seen, url = webhook_bot.sandbox, webhook_bot.shop, webhook_bot.seen, webhook_bot.url
    user = await sandbox.create_user("Ana")
    await sandbox.user_says(user, "before the webhook")
    assert await shop.bot.set_webhook(url, secret_token="s3cret-Token_1") is True
    await sandbox.user_says(user, "after")
    await wait_until(lambda: len(seen) == 2)
    assert [m.text for m in seen] == ["before the webhook", "after"]
    info = await shop.bot.get_webhook_info()
    assert info.url == url and info.pending_update_count == 0 and info.last_error_date is None
    with pytest.raises(TelegramConflictError) as conflict:
        await shop.bot.get_updates()
    assert "can't use getUpdates method while webhook is active" in conflict.value.message


async def test_webhook_with_the_wrong_secret_is_retried_and_reported(webhook_bot: WebhookBot) -> None:
    sandbox, shop, seen, url = webhook_bot.sandbox, webhook_bot.shop, webhook_bot.seen, webhook_bot.url
    user = await sandbox.create_user("Ana")
    await shop.bot.set_webhook(url, secret_token="wrong")
    await sandbox.user_says(user, "lost?")

    async def reported() -> bool:
        return bool((await shop.bot.get_webhook_info()).last_error_message)

    deadline = time.monotonic() + 5
    while not await reported():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    info = await shop.bot.get_webhook_info()
    assert info.pending_update_count == 1 and "401" in (info.last_error_message or "") and not seen
    await shop.bot.set_webhook(url, secret_token="s3cret-Token_1")
    await wait_until(lambda: [m.text for m in seen] == ["lost?"])


async def test_webhook_settings_are_checked(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    with pytest.raises(TelegramBadRequest) as bad_url:
        await shop.bot.set_webhook("ftp://example")
    assert bad_url.value.message == "Bad Request: invalid webhook URL specified"
    with pytest.raises(TelegramBadRequest) as bad_secret:
        await shop.bot.set_webhook("http://127.0.0.1:9/hook", secret_token="no spaces")
    assert bad_secret.value.message == "Bad Request: secret token contains unallowed characters"
    await shop.bot.set_webhook("http://127.0.0.1:9/hook")
    assert await shop.bot.delete_webhook(drop_pending_updates=True) is True
    assert (await shop.bot.get_webhook_info()).url == ""


async def test_a_method_in_the_webhook_answer_is_executed(sandbox: Sandbox) -> None:
    await sandbox.configure(enforce_limits=False)
    shop = await sandbox.create_bot()
    user = await sandbox.create_user("Ana")

    async def answer(request: web.Request) -> web.Response:
        update = await request.json()
        chat_id = update["message"]["chat"]["id"]
        return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": "eco"})

    app = web.Application()
    app.router.add_post("/hook", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await shop.bot.set_webhook(f"http://127.0.0.1:{port}/hook")
        await sandbox.user_says(user, "oi")
        deadline = time.monotonic() + 5
        while [m["text"] for m in await sandbox.messages(user)] != ["oi", "eco"]:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()


async def test_an_update_not_confirmed_by_offset_is_given_again(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    user = await sandbox.create_user("Ana")
    await sandbox.user_says(user, "one")
    await sandbox.user_says(user, "two")
    first = await shop.bot.get_updates()
    # A poller that could not handle "one" asks again from it: both come back.
    again = await shop.bot.get_updates(offset=first[0].update_id)
    assert [u.update_id for u in again] == [u.update_id for u in first]
    # Confirming "one" (offset past it) leaves "two" only.
    rest = await shop.bot.get_updates(offset=first[0].update_id + 1)
    assert [present(u.message).text for u in rest] == ["two"]


async def serve(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/hook"


async def test_an_update_answered_with_5xx_or_not_in_time_is_delivered_again(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    user = await sandbox.create_user("Ana")
    await sandbox.configure(webhook_timeout_seconds=0.5)
    attempts: list[int] = []

    async def flaky(request: web.Request) -> web.Response:
        update = await request.json()
        attempts.append(update["update_id"])
        if len(attempts) == 1:
            return web.Response(status=500, text="database down")
        if len(attempts) == 2:
            await asyncio.sleep(2)  # longer than the webhook timeout: counts as not answered
        return web.json_response({"ok": True})

    runner, url = await serve(flaky)
    try:
        await shop.bot.set_webhook(url)
        await sandbox.user_says(user, "paid?")
        await wait_until(lambda: len(attempts) == 3, seconds=10)
        await asyncio.sleep(0.3)
        info = await shop.bot.get_webhook_info()
    finally:
        await runner.cleanup()
    assert len(set(attempts)) == 1 and len(attempts) == 3
    assert info.pending_update_count == 0
    assert info.last_error_message == "Read timeout expired"
