"""Group discovery (thin): bots cannot list their chats, so the groups we know come from the bot's own
membership updates and from supergroup migrations. The group service decides; this only translates."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.types import Chat, ChatMemberUpdated, Message
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.group import service
from tgadmin.models.enums import BotMemberStatus, ChatType
from tgadmin.telegram.filters import inline

router = Router(name="group")

GROUP_CHATS = {ChatType.GROUP, ChatType.SUPERGROUP, ChatType.CHANNEL}
GONE = {BotMemberStatus.LEFT, BotMemberStatus.KICKED}


def rights_of(member: Any) -> dict[str, bool]:
    """The bot's `can_*` flags as Telegram reports them for its status (empty for a plain member)."""
    return {
        name: bool(value)
        for name, value in member.model_dump(exclude_none=True).items()
        if name.startswith("can_")
    }


def chat_facts(chat: Chat) -> service.ChatFacts:
    return service.ChatFacts(
        telegram_id=chat.id, type=ChatType(chat.type), title=chat.title or "", username=chat.username
    )


@router.my_chat_member(inline(F.chat.type.in_(GROUP_CHATS)))
async def bot_membership_changed(event: ChatMemberUpdated, session: AsyncSession, bot_db_id: int) -> None:
    """Added, promoted, demoted, restricted: record it; left or kicked: the group goes inactive."""
    status = BotMemberStatus(event.new_chat_member.status)
    if status in GONE:
        await service.deactivate(session, bot_db_id, event.chat.id, status=status)
        return
    await service.upsert_membership(
        session, bot_db_id, chat_facts(event.chat), status, rights_of(event.new_chat_member)
    )


@router.message(inline(F.migrate_to_chat_id))
async def group_upgraded(message: Message, session: AsyncSession, bot_db_id: int) -> None:
    """The old basic group's last word: it lives on as a supergroup with a new id."""
    assert message.migrate_to_chat_id is not None
    await service.mark_migrated(session, bot_db_id, message.chat.id, message.migrate_to_chat_id)


@router.message(inline(F.migrate_from_chat_id))
async def supergroup_from_group(message: Message, session: AsyncSession, bot_db_id: int) -> None:
    """The new supergroup's first word; either message alone is enough to follow the group."""
    assert message.migrate_from_chat_id is not None
    await service.mark_migrated(session, bot_db_id, message.migrate_from_chat_id, message.chat.id)
