"""`GatewayEvents` that only remember what the gateway reported: the seam between the gateway and
the domains, so the gateway's tests need no group or buyer rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import Group
from tgadmin.models.enums import BotMemberStatus, ChatType


def known_group(bot_id: int, telegram_id: int) -> Group:
    """A Group row as the gateway sees one (never added to a session)."""
    return Group(
        bot_id=bot_id,
        telegram_id=telegram_id,
        type=ChatType.SUPERGROUP,
        title="Grupo",
        bot_status=BotMemberStatus.ADMINISTRATOR,
        cooldown_seconds=0,
        rights_errors=0,
    )


class RecordedEvents:
    def __init__(self) -> None:
        self.reported: list[tuple[Any, ...]] = []
        # What `chat_migrated` answers: the group now holding the new chat id, by that id.
        self.moved_to: dict[int, Group] = {}

    async def call_succeeded(self, session: AsyncSession, group: Group) -> None:
        self.reported.append(("call_succeeded", group.telegram_id))

    async def chat_migrated(
        self, session: AsyncSession, bot_id: int, old_chat_id: int, new_chat_id: int
    ) -> Group | None:
        self.reported.append(("chat_migrated", bot_id, old_chat_id, new_chat_id))
        return self.moved_to.get(new_chat_id)

    async def chat_gone(self, session: AsyncSession, bot_id: int, chat_id: int, reason: str) -> None:
        self.reported.append(("chat_gone", bot_id, chat_id, reason))

    async def rights_missing(self, session: AsyncSession, group: Group, description: str) -> None:
        self.reported.append(("rights_missing", group.telegram_id, description))

    async def user_blocked(self, session: AsyncSession, telegram_id: int) -> None:
        self.reported.append(("user_blocked", telegram_id))
