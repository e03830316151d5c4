"""The webhook endpoint: the sandbox delivers to it with the secret our start-up registered; anyone
else is refused before anything is recorded."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from aiogram import Router
from aiogram.types import Message

from tests.bot.conftest import BotWorld, Running, eventually, start_service
from tgadmin.bot.routers import domain_routers
from tgadmin.models import TelegramUser


def private_update(update_id: int, user_id: int, text: str = "oi") -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Intruder", "language_code": "pt-br"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_760_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Intruder"},
            "from": user,
            "text": text,
        },
    }


async def user_count(world: BotWorld) -> int:
    return await world.count(TelegramUser)


async def test_start_up_registers_the_webhook_with_secret_and_update_types(
    world: BotWorld, service: Running
) -> None:
    info = await world.tg.bot.get_webhook_info()
    assert info.url == f"{world.base_url}/telegram/webhook/{world.record_id}"
    assert set(info.allowed_updates or []) >= {
        "my_chat_member",
        "message",
        "callback_query",
        "pre_checkout_query",
        "chat_member",
    }


async def test_private_message_upserts_the_buyer_with_names_and_language(
    world: BotWorld, service: Running
) -> None:
    sandbox = world.sandbox
    ana = await sandbox.create_user("Ana", username="ana_s", language_code="pt-br")
    await sandbox.user_says(ana, "/start")

    async def stored() -> TelegramUser | None:
        return await world.row(TelegramUser, TelegramUser.telegram_id == ana)

    user = await eventually(stored)
    assert (user.first_name, user.username, user.language_code) == ("Ana", "ana_s", "pt-br")
    assert user.blocked_bot is False
    first_seen = user.first_seen_at

    await sandbox.block(ana, world.tg.id)

    async def blocked() -> TelegramUser | None:
        row = await stored()
        return row if row is not None and row.blocked_bot else None

    user = await eventually(blocked)
    assert user.first_seen_at == first_seen
    assert await user_count(world) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {b"X-Telegram-Bot-Api-Secret-Token": b"not-the-secret"},
        {b"X-Telegram-Bot-Api-Secret-Token": "sécret-ñão-ascii €".encode()},
    ],
    ids=["missing", "wrong", "non-ascii"],
)
async def test_update_without_the_right_secret_is_refused_and_nothing_recorded(
    world: BotWorld, service: Running, headers: dict[bytes, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tgadmin.bot.server")
    async with httpx.AsyncClient(base_url=world.base_url, trust_env=False) as client:
        response = await client.post(
            f"/telegram/webhook/{world.record_id}", json=private_update(1, 4242), headers=headers
        )
    assert response.status_code == 401
    assert "refused" in caplog.text
    assert world.webhook_secret not in caplog.text
    # A real update afterwards is handled, so the refused one would have been by now.
    ana = await world.sandbox.create_user("Ana")
    await world.sandbox.user_says(ana, "oi")
    await eventually(lambda: user_count(world))
    assert await world.row(TelegramUser, TelegramUser.telegram_id == 4242) is None


async def test_unknown_bot_is_404_and_a_body_that_is_no_update_is_400(
    world: BotWorld, service: Running
) -> None:
    secret = {"X-Telegram-Bot-Api-Secret-Token": world.webhook_secret}
    async with httpx.AsyncClient(base_url=world.base_url, trust_env=False) as client:
        unknown = await client.post("/telegram/webhook/999999", json=private_update(1, 1), headers=secret)
        # Past a signed 64-bit integer, and zero: no bot can have these ids (no overflow in the driver).
        huge = await client.post(f"/telegram/webhook/{2**64}", json=private_update(1, 1), headers=secret)
        zero = await client.post("/telegram/webhook/0", json=private_update(1, 1), headers=secret)
        not_json = await client.post(
            f"/telegram/webhook/{world.record_id}", content=b"{not json", headers=secret
        )
        not_update = await client.post(
            f"/telegram/webhook/{world.record_id}", json={"message": "hello"}, headers=secret
        )
        good = await client.post(
            f"/telegram/webhook/{world.record_id}", json=private_update(7, 5151), headers=secret
        )
    assert (unknown.status_code, not_json.status_code, not_update.status_code) == (404, 400, 400)
    assert (huge.status_code, zero.status_code) == (404, 404)
    assert good.status_code == 200

    async def stored() -> TelegramUser | None:
        return await world.row(TelegramUser, TelegramUser.telegram_id == 5151)

    assert (await eventually(stored)).first_name == "Intruder"


async def test_a_failing_handler_gets_the_buyer_a_short_portuguese_apology_and_logs_no_secret(
    world: BotWorld, caplog: pytest.LogCaptureFixture
) -> None:
    broken = Router()

    @broken.message()
    async def explode(message: Message) -> None:
        raise RuntimeError(f"database password=hunter2 and token {world.tg.token}")

    # First: the buyer domain's fallback, registered last, answers any private message.
    running = await start_service(world, routers=[broken, *domain_routers()])
    try:
        ana = await world.sandbox.create_user("Ana", language_code="pt-br")
        await world.sandbox.user_says(ana, "quero comprar")

        async def bot_replies() -> list[str]:
            shown = await world.sandbox.messages(ana, bot_id=world.tg.id)
            return [m.get("text", "") for m in shown if (m.get("sender") or {}).get("id") == world.tg.id]

        replies = await eventually(bot_replies)
    finally:
        await running.stop()
    assert replies == ["Desculpe, algo deu errado do nosso lado. Tente novamente em alguns instantes."]
    assert "RuntimeError" in caplog.text
    assert "hunter2" not in caplog.text
    assert world.tg.token not in caplog.text
    # The failed update's unit of work was rolled back: the buyer upsert went with it.
    assert await user_count(world) == 0
