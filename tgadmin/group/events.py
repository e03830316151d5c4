"""The group side of the gateway's reports (telegram/events.py), each kept by the group rules."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.group import service
from tgadmin.models import Group


class GroupEvents:
    """What the gateway learns about group chats, applied by `group.service`."""

    async def call_succeeded(self, session: AsyncSession, group: Group) -> None:
        await service.record_success(session, group)

    async def chat_migrated(
        self, session: AsyncSession, bot_id: int, old_chat_id: int, new_chat_id: int
    ) -> Group | None:
        return await service.mark_migrated(session, bot_id, old_chat_id, new_chat_id)

    async def chat_gone(self, session: AsyncSession, bot_id: int, chat_id: int, reason: str) -> None:
        await service.deactivate(session, bot_id, chat_id, reason=reason)

    async def rights_missing(self, session: AsyncSession, group: Group, description: str) -> None:
        await service.record_rights_error(session, group, description)
