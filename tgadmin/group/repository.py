"""All SQL of the group domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import Group


async def get(session: AsyncSession, group_id: int) -> Group | None:
    return await session.get(Group, group_id)


async def by_telegram_id(session: AsyncSession, bot_id: int, telegram_id: int) -> Group | None:
    return (
        await session.execute(select(Group).where(Group.bot_id == bot_id, Group.telegram_id == telegram_id))
    ).scalar_one_or_none()


async def for_bot(session: AsyncSession, bot_id: int, *, active_only: bool = False) -> Sequence[Group]:
    query = select(Group).where(Group.bot_id == bot_id).order_by(Group.id)
    if active_only:
        query = query.where(Group.is_active.is_(True))
    return (await session.execute(query)).scalars().all()


async def all_groups(session: AsyncSession, *, active_only: bool = False) -> Sequence[Group]:
    query = select(Group).order_by(Group.id)
    if active_only:
        query = query.where(Group.is_active.is_(True))
    return (await session.execute(query)).scalars().all()


async def set_last_message_id(session: AsyncSession, group_id: int, message_id: int) -> None:
    """Only ever moves forward: concurrent sends may finish out of order."""
    await session.execute(
        update(Group)
        .where(Group.id == group_id)
        .where((Group.last_message_id.is_(None)) | (Group.last_message_id < message_id))
        .values(last_message_id=message_id)
    )


async def add_rights_error(session: AsyncSession, group_id: int) -> int:
    """Atomic increment (several workers may hit the same group); returns the new count."""
    await session.execute(
        update(Group).where(Group.id == group_id).values(rights_errors=Group.rights_errors + 1)
    )
    count = (await session.execute(select(Group.rights_errors).where(Group.id == group_id))).scalar_one()
    return int(count)


async def clear_rights_errors(session: AsyncSession, group_id: int) -> None:
    await session.execute(
        update(Group).where(Group.id == group_id, Group.rights_errors != 0).values(rights_errors=0)
    )


async def by_chat(session: AsyncSession, telegram_id: int) -> Sequence[Group]:
    """Every bot's row for this chat, active ones first."""
    query = select(Group).where(Group.telegram_id == telegram_id).order_by(Group.is_active.desc(), Group.id)
    return (await session.execute(query)).scalars().all()
