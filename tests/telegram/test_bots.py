"""Bot accounts are registered from a token that Telegram (the sandbox) accepts, stored encrypted."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.sandbox import Sandbox
from tgadmin.config import load_settings
from tgadmin.errors import BadRequest, ServiceUnavailable
from tgadmin.models import AuditLog
from tgadmin.redis import free_port
from tgadmin.telegram.bots import active_bots, register_from_token


async def test_token_registers_the_bot_once_and_says_what_changed(
    session: AsyncSession, sandbox: Sandbox
) -> None:
    created = await sandbox.create_bot(username="shop_bot")
    settings = load_settings(telegram_api_base_url=sandbox.url)
    first = await register_from_token(session, created.token, settings)
    bot = first.bot
    assert (bot.telegram_id, bot.username, first.created) == (created.id, "shop_bot", True)
    raw = (await session.execute(text("select token from bots"))).scalar_one()
    assert created.token not in raw
    again = await register_from_token(session, created.token, settings)
    assert (again.bot.id, again.created, again.changed) == (bot.id, False, False)
    assert await active_bots(session) == [bot]
    bot.username = "renamed_meanwhile"
    assert (await register_from_token(session, created.token, settings)).changed
    assert bot.username == "shop_bot"
    # Auditing is the caller's: the toolkit records nothing.
    assert (await session.execute(select(AuditLog.action))).scalars().all() == []


async def test_refused_or_malformed_token_is_a_clear_error(session: AsyncSession, sandbox: Sandbox) -> None:
    settings = load_settings(telegram_api_base_url=sandbox.url)
    with pytest.raises(BadRequest, match="refused"):
        await register_from_token(session, "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", settings)
    with pytest.raises(BadRequest, match="not a bot token"):
        await register_from_token(session, "hello", settings)
    assert await active_bots(session) == []


async def test_unreachable_telegram_is_reported_not_hung(session: AsyncSession) -> None:
    settings = load_settings(telegram_api_base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ServiceUnavailable, match="getMe failed"):
        await register_from_token(session, "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", settings)
