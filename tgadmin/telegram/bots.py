"""Bot accounts: the one owner of `Bot` rows, and the one place an aiogram client is built.

A bot is registered from its token (getMe proves it); its row also keeps the Stars reconciliation
cursor. The token is stored encrypted (models.Bot.token is an EncryptedString); it never reaches a
log. Auditing a registration is the caller's (this toolkit knows no domain).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from aiogram import Bot as AiogramBot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.utils.token import TokenValidationError
from aiohttp import ClientError
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.config import Settings
from tgadmin.crypto import random_token
from tgadmin.errors import BadRequest, NotFound, ServiceUnavailable
from tgadmin.models import Bot

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 30
GET_ME_TIMEOUT = 10


def client(token: str, settings: Settings, *, timeout: float = REQUEST_TIMEOUT) -> AiogramBot:
    """An aiogram client for one bot account at TELEGRAM_API_BASE_URL; the caller closes its session.

    Raises aiogram's TokenValidationError for a malformed token.
    """
    server = TelegramAPIServer.from_base(settings.telegram_api_base_url)
    return AiogramBot(token, session=AiohttpSession(api=server, timeout=timeout))


async def _get_me(token: str, settings: Settings) -> tuple[int, str]:
    try:
        bot = client(token, settings, timeout=GET_ME_TIMEOUT)
    except TokenValidationError:
        raise BadRequest("this is not a bot token (expected digits:letters, as BotFather gives it)") from None
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        raise BadRequest("Telegram refused this bot token (Unauthorized)") from None
    except (TelegramAPIError, ClientError, TimeoutError) as error:
        raise ServiceUnavailable(f"telegram: getMe failed: {type(error).__name__}") from None
    finally:
        await bot.session.close()
    return me.id, str(me.username)


@dataclass(frozen=True)
class Registration:
    """The registered row, and what changed: the caller audits it."""

    bot: Bot
    created: bool
    changed: bool  # an existing bot's token or username differs from what was stored


async def register_from_token(session: AsyncSession, token: str, settings: Settings) -> Registration:
    """Create the bot record, or update the token of the same bot (same Telegram id)."""
    token = token.strip()
    telegram_id, username = await _get_me(token, settings)
    existing = await by_telegram_id(session, telegram_id)
    if existing is None:
        bot = Bot(telegram_id=telegram_id, username=username, token=token, webhook_secret=random_token(24))
        session.add(bot)
        await session.flush()
        log.info("bot @%s registered", username)
        return Registration(bot, created=True, changed=True)
    changed = existing.token != token or existing.username != username
    existing.token, existing.username, existing.is_active = token, username, True
    await session.flush()
    return Registration(existing, created=False, changed=changed)


async def find(session: AsyncSession, bot_id: int) -> Bot | None:
    return await session.get(Bot, bot_id)


async def get_bot(session: AsyncSession, bot_id: int) -> Bot:
    bot = await find(session, bot_id)
    if bot is None:
        raise NotFound(f"no bot with id {bot_id}")
    return bot


async def by_telegram_id(session: AsyncSession, telegram_id: int) -> Bot | None:
    return (await session.execute(select(Bot).where(Bot.telegram_id == telegram_id))).scalar_one_or_none()


async def id_by_telegram_id(session: AsyncSession, telegram_id: int) -> int | None:
    """The row id alone (the token is not loaded, so not decrypted)."""
    found = await session.scalar(select(Bot.id).where(Bot.telegram_id == telegram_id))
    return None if found is None else int(found)


async def first(session: AsyncSession) -> Bot | None:
    """The first bot ever registered, active or not."""
    return (await session.execute(select(Bot).order_by(Bot.id).limit(1))).scalar_one_or_none()


async def first_active_id(session: AsyncSession) -> int | None:
    found = await session.execute(select(Bot.id).where(Bot.is_active.is_(True)).order_by(Bot.id).limit(1))
    return found.scalar_one_or_none()


async def active_bots(session: AsyncSession) -> list[Bot]:
    return list(
        (await session.execute(select(Bot).where(Bot.is_active.is_(True)).order_by(Bot.id))).scalars()
    )


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Bot)) or 0)


async def stars_reconciled(session: AsyncSession, bot_id: int) -> int | None:
    """How many of the bot's Star transactions are reconciled; None when the bot is gone."""
    found = await session.scalar(select(Bot.stars_reconciled).where(Bot.id == bot_id))
    return None if found is None else int(found)


async def advance_stars_reconciled(session: AsyncSession, bot_id: int, seen: int, reached: int) -> bool:
    """Move the bot's reconciled count from `seen` to `reached`; False when another run moved it."""
    result = await session.execute(
        update(Bot)
        .where(Bot.id == bot_id, Bot.stars_reconciled == seen)
        .values(stars_reconciled=reached)
        .execution_options(synchronize_session=False)
    )
    return bool(cast(CursorResult[Any], result).rowcount == 1)
