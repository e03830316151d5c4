"""Analytics tests place rows at given moments with tests/factories.py; groups come and go here,
through the group service, as the bot would record them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.clock import frozen_at
from tgadmin.group import service as group_service
from tgadmin.models import Bot, Group
from tgadmin.models.enums import BotMemberStatus, ChatType


async def bot_joins(
    session: AsyncSession,
    bot: Bot,
    telegram_id: int,
    at: datetime,
    status: BotMemberStatus = BotMemberStatus.ADMINISTRATOR,
) -> Group:
    """The bot is added to (or its status changes in) a group at `at`, through the group service."""
    with frozen_at(at):
        facts = group_service.ChatFacts(telegram_id, ChatType.SUPERGROUP, f"Grupo {telegram_id}")
        return await group_service.upsert_membership(session, bot.id, facts, status, {})


async def bot_kicked(session: AsyncSession, bot: Bot, telegram_id: int, at: datetime) -> None:
    with frozen_at(at):
        await group_service.deactivate(session, bot.id, telegram_id, status=BotMemberStatus.KICKED)
