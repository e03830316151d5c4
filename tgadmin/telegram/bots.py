"""Bot accounts: register a bot from its token (getMe proves it), load it by id.

The token is stored encrypted (models.Bot.token is an EncryptedString); it never reaches a log.
"""

from __future__ import annotations

import logging

from aiogram import Bot as AiogramBot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.utils.token import TokenValidationError
from aiohttp import ClientError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.config import Settings
from tgadmin.crypto import random_token
from tgadmin.errors import BadRequest, NotFound, ServiceUnavailable
from tgadmin.models import Bot

log = logging.getLogger(__name__)


def api_server(settings: Settings) -> TelegramAPIServer:
    return TelegramAPIServer.from_base(settings.telegram_api_base_url)


async def _get_me(token: str, settings: Settings) -> tuple[int, str]:
    try:
        client = AiogramBot(token, session=AiohttpSession(api=api_server(settings), timeout=10))
    except TokenValidationError:
        raise BadRequest("this is not a bot token (expected digits:letters, as BotFather gives it)") from None
    try:
        me = await client.get_me()
    except TelegramUnauthorizedError:
        raise BadRequest("Telegram refused this bot token (Unauthorized)") from None
    except (TelegramAPIError, ClientError, TimeoutError) as error:
        raise ServiceUnavailable(f"telegram: getMe failed: {type(error).__name__}") from None
    finally:
        await client.session.close()
    return me.id, str(me.username)


async def register_from_token(
    session: AsyncSession, token: str, settings: Settings, actor: Actor | None = None
) -> Bot:
    """Create the bot record, or update the token of the same bot (same Telegram id); audited."""
    telegram_id, username = await _get_me(token.strip(), settings)
    existing = (await session.execute(select(Bot).where(Bot.telegram_id == telegram_id))).scalar_one_or_none()
    who = actor or Actor.system("bot registration")
    if existing is None:
        bot = Bot(
            telegram_id=telegram_id, username=username, token=token.strip(), webhook_secret=random_token(24)
        )
        session.add(bot)
        await session.flush()
        await record(session, who, "bot.register", "bot", bot.id, after={"username": username})
        log.info("bot @%s registered", username)
        return bot
    changed = existing.token != token.strip() or existing.username != username
    existing.token, existing.username, existing.is_active = token.strip(), username, True
    await session.flush()
    if changed:
        await record(session, who, "bot.token_changed", "bot", existing.id, after={"username": username})
    return existing


async def get_bot(session: AsyncSession, bot_id: int) -> Bot:
    bot = await session.get(Bot, bot_id)
    if bot is None:
        raise NotFound(f"no bot with id {bot_id}")
    return bot


async def active_bots(session: AsyncSession) -> list[Bot]:
    return list(
        (await session.execute(select(Bot).where(Bot.is_active.is_(True)).order_by(Bot.id))).scalars()
    )
