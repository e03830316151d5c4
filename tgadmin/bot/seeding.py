"""TELEGRAM_BOT_TOKEN only seeds the first Bot row; afterwards the token lives in the database."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tgadmin.config import Settings
from tgadmin.db import session_scope
from tgadmin.models import Bot as BotRecord
from tgadmin.telegram.bots import register_from_token

log = logging.getLogger(__name__)


async def seed_first_bot(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
    """With no Bot row yet and TELEGRAM_BOT_TOKEN set, register that bot (getMe checks the token)."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        return
    async with session_scope(sessions) as session:
        if await session.scalar(select(func.count()).select_from(BotRecord)):
            return
        record = await register_from_token(session, settings.telegram_bot_token.get_secret_value(), settings)
        log.info("first bot @%s registered from TELEGRAM_BOT_TOKEN", record.username)
