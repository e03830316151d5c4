"""All SQL of the group domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, false, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import Group, MediaAsset, PostHistory
from tgadmin.models.enums import BotMemberStatus, ChatType


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


@dataclass(frozen=True)
class GroupFilter:
    """The list's filters; None means "either"."""

    active: bool | None = None
    admin: bool | None = None
    missing_rights: bool = False
    title: str | None = None


def _has(right: str) -> ColumnElement[bool]:
    return func.coalesce(Group.bot_rights[right].as_boolean(), false())


def _lacks_rights() -> ColumnElement[bool]:
    """Not an admin, or an admin without a right the platform uses (the creator has them all)."""
    admin_lacks = or_(
        not_(_has("can_delete_messages")),
        not_(_has("can_invite_users")),
        and_(Group.type == ChatType.CHANNEL, not_(_has("can_post_messages"))),
    )
    return or_(
        Group.bot_status.not_in([BotMemberStatus.ADMINISTRATOR, BotMemberStatus.CREATOR]),
        and_(Group.bot_status == BotMemberStatus.ADMINISTRATOR, admin_lacks),
    )


def _conditions(where: GroupFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.active is not None:
        found.append(Group.is_active.is_(where.active))
    admins = [BotMemberStatus.ADMINISTRATOR, BotMemberStatus.CREATOR]
    if where.admin is not None:
        found.append(Group.bot_status.in_(admins) if where.admin else Group.bot_status.not_in(admins))
    if where.missing_rights:
        found.append(_lacks_rights())
    if where.title:
        pattern = where.title.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        found.append(Group.title.ilike(f"%{pattern}%", escape="\\"))
    return found


# A title search with at most this many matches sorts them rather than walk the list in order.
FEW_TO_SORT = 10_000


async def page(
    session: AsyncSession, where: GroupFilter, *, limit: int, offset: int, count_up_to: int | None = None
) -> tuple[Sequence[Group], int]:
    """One page of groups, newest first, and how many match (ix_groups_list_* keep both cheap).

    With `count_up_to`, the count stops there (a total of `count_up_to` means "that many or more"):
    counting every row of a big list is most of the page's cost."""
    conditions = _conditions(where)
    if count_up_to is None:
        counted = select(func.count()).select_from(Group).where(*conditions)
    else:
        # The bound written into the SQL, not sent as a parameter: asyncpg prepares the statement and,
        # after five runs, PostgreSQL may keep a generic plan that assumes a LIMIT $n keeps few rows
        # and so reads the table in order for a title search (42 ms) instead of its trigram index (3 ms).
        bound: BindParameter[int] = bindparam("count_up_to", count_up_to, literal_execute=True)
        matching = select(Group.id).where(*conditions).limit(bound).subquery()
        counted = select(func.count()).select_from(matching)
    total = (await session.execute(counted)).scalar_one()
    newest_first = Group.id.desc()
    if where.title and total <= FEW_TO_SORT:
        # Found through the title's trigram index, then sorted: walking the primary key backwards
        # until enough titles match reads most of the table when the matches are old groups.
        newest_first = (Group.id + 0).desc()
    query = select(Group).where(*conditions).order_by(newest_first).limit(limit).offset(offset)
    return (await session.execute(query)).scalars().all(), int(total)


async def recent_posts(session: AsyncSession, group_id: int, limit: int) -> Sequence[PostHistory]:
    """The group's latest posts (read-only; ix_post_history_group_sent)."""
    query = (
        select(PostHistory)
        .where(PostHistory.group_id == group_id)
        .order_by(PostHistory.sent_at.desc(), PostHistory.id.desc())
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def asset(session: AsyncSession, asset_id: int) -> MediaAsset | None:
    return await session.get(MediaAsset, asset_id)


async def asset_by_key(session: AsyncSession, storage_key: str) -> MediaAsset | None:
    query = select(MediaAsset).where(MediaAsset.storage_key == storage_key)
    return (await session.execute(query)).scalar_one_or_none()
