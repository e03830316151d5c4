"""The gateway's reports (telegram/events.py) wired to the domains that own the rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.buyer import service as buyer_service
from tgadmin.group.events import GroupEvents
from tgadmin.models import Group


@dataclass(frozen=True)
class DomainEvents:
    """Group chats go to the group domain, private chats to the buyer domain."""

    groups: GroupEvents = field(default_factory=GroupEvents)

    async def call_succeeded(self, session: AsyncSession, group: Group) -> None:
        await self.groups.call_succeeded(session, group)

    async def chat_migrated(
        self, session: AsyncSession, bot_id: int, old_chat_id: int, new_chat_id: int
    ) -> Group | None:
        return await self.groups.chat_migrated(session, bot_id, old_chat_id, new_chat_id)

    async def chat_gone(self, session: AsyncSession, bot_id: int, chat_id: int, reason: str) -> None:
        await self.groups.chat_gone(session, bot_id, chat_id, reason)

    async def rights_missing(self, session: AsyncSession, group: Group, description: str) -> None:
        await self.groups.rights_missing(session, group, description)

    async def user_blocked(self, session: AsyncSession, telegram_id: int) -> None:
        await buyer_service.mark_blocked(session, telegram_id)
