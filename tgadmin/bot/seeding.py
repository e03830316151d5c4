"""Bot accounts enter the database here, audited. TELEGRAM_BOT_TOKEN only seeds the first Bot row;
afterwards the token lives in the database."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tgadmin.audit.service import Actor, record
from tgadmin.config import Settings
from tgadmin.db import session_scope
from tgadmin.models import Bot
from tgadmin.telegram import bots

log = logging.getLogger(__name__)

SYSTEM = Actor.system("bot registration")


async def register_bot(session: AsyncSession, token: str, settings: Settings) -> Bot:
    """Register the bot of `token` (or update the token of the same bot), audited when it changed."""
    registration = await bots.register_from_token(session, token, settings)
    bot, after = registration.bot, {"username": registration.bot.username}
    if registration.created:
        await record(session, SYSTEM, "bot.register", "bot", bot.id, after=after)
    elif registration.changed:
        await record(session, SYSTEM, "bot.token_changed", "bot", bot.id, after=after)
    return bot


async def seed_first_bot(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
    """With no Bot row yet and TELEGRAM_BOT_TOKEN set, register that bot (getMe checks the token)."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        return
    async with session_scope(sessions) as session:
        if await bots.count(session):
            return
        bot = await register_bot(session, settings.telegram_bot_token.get_secret_value(), settings)
        log.info("first bot @%s registered from TELEGRAM_BOT_TOKEN", bot.username)
