"""All SQL of the post domain (PostHistory)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import Group, PostHistory
from tgadmin.models.enums import PostKind, PostStatus

_Row = TypeVarTuple("_Row")


async def by_message(session: AsyncSession, group_id: int, message_id: int) -> PostHistory | None:
    return (
        await session.execute(
            select(PostHistory).where(PostHistory.group_id == group_id, PostHistory.message_id == message_id)
        )
    ).scalar_one_or_none()


async def sent_at_of(session: AsyncSession, group_id: int, message_ids: Sequence[int]) -> dict[int, datetime]:
    """When we sent each of these messages (those we know about)."""
    found: dict[int, datetime] = {}
    for start in range(0, len(message_ids), 500):
        chunk = list(message_ids[start : start + 500])
        rows = await session.execute(
            select(PostHistory.message_id, PostHistory.sent_at).where(
                PostHistory.group_id == group_id, PostHistory.message_id.in_(chunk)
            )
        )
        found.update({int(m): s for m, s in rows.all()})
    return found


async def set_status(
    session: AsyncSession,
    group_id: int,
    message_ids: Sequence[int],
    status: PostStatus,
    *,
    deleted_at: datetime | None = None,
    error: str | None = None,
) -> int:
    """Only rows still `sent` (or `failed`) change: a deleted message never becomes anything else."""
    changed = 0
    values: dict[str, object] = {"status": status, "error": error}
    if deleted_at is not None:
        values["deleted_at"] = deleted_at
    for start in range(0, len(message_ids), 500):
        chunk = list(message_ids[start : start + 500])
        result = await session.execute(
            update(PostHistory)
            .where(
                PostHistory.group_id == group_id,
                PostHistory.message_id.in_(chunk),
                PostHistory.status.in_([PostStatus.SENT, PostStatus.FAILED, PostStatus.UNDELETABLE]),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        changed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return changed


@dataclass(frozen=True)
class ClearFilter:
    from_message_id: int | None = None
    to_message_id: int | None = None
    sent_before: datetime | None = None
    sent_from: datetime | None = None
    sent_to: datetime | None = None


async def deletable_ids(session: AsyncSession, group_id: int, where: ClearFilter) -> list[int]:
    """Message ids still shown (status `sent`) matching the filter, oldest first; uses
    ix_post_history_group_status_sent."""
    query = _clear_query(select(PostHistory.message_id), group_id, where)
    return [int(m) for m in (await session.execute(query.order_by(PostHistory.message_id))).scalars()]


async def count_deletable(
    session: AsyncSession, group_id: int, where: ClearFilter, old_before: datetime
) -> tuple[int, int]:
    """(how many `deletable_ids` would return, how many of them were sent before `old_before`)."""
    counts = select(func.count(), func.count().filter(PostHistory.sent_at < old_before))
    matched, old = (await session.execute(_clear_query(counts, group_id, where))).one()
    return int(matched), int(old)


def _clear_query(query: Select[*_Row], group_id: int, where: ClearFilter) -> Select[*_Row]:
    query = query.where(PostHistory.group_id == group_id, PostHistory.status == PostStatus.SENT)
    if where.from_message_id is not None:
        query = query.where(PostHistory.message_id >= where.from_message_id)
    if where.to_message_id is not None:
        query = query.where(PostHistory.message_id <= where.to_message_id)
    if where.sent_before is not None:
        query = query.where(PostHistory.sent_at < where.sent_before)
    if where.sent_from is not None:
        query = query.where(PostHistory.sent_at >= where.sent_from)
    if where.sent_to is not None:
        query = query.where(PostHistory.sent_at <= where.sent_to)
    return query


@dataclass(frozen=True)
class HistoryFilter:
    group_id: int | None = None
    status: PostStatus | None = None
    kind: PostKind | None = None
    sent_from: datetime | None = None
    sent_to: datetime | None = None


HistoryRow = tuple[PostHistory, str]


async def history(
    session: AsyncSession, where: HistoryFilter, *, limit: int, offset: int
) -> tuple[list[HistoryRow], int]:
    """One page of post history (newest first) with each post's group title, and how many match.

    Each filter has its index (ix_post_history_group_status_sent, _group_sent, _status_sent,
    _kind_sent, _sent), so a page costs the same at 100,000 rows as at 100."""
    conditions = []
    if where.group_id is not None:
        conditions.append(PostHistory.group_id == where.group_id)
    if where.status is not None:
        conditions.append(PostHistory.status == where.status)
    if where.kind is not None:
        conditions.append(PostHistory.kind == where.kind)
    if where.sent_from is not None:
        conditions.append(PostHistory.sent_at >= where.sent_from)
    if where.sent_to is not None:
        conditions.append(PostHistory.sent_at <= where.sent_to)
    total = await session.scalar(select(func.count()).select_from(PostHistory).where(*conditions))
    page = await session.execute(
        select(PostHistory, Group.title)
        .join(Group, Group.id == PostHistory.group_id)
        .where(*conditions)
        .order_by(PostHistory.sent_at.desc(), PostHistory.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [(post, str(title)) for post, title in page.all()], int(total or 0)


async def by_ids(session: AsyncSession, post_ids: Sequence[int]) -> list[PostHistory]:
    rows = await session.execute(select(PostHistory).where(PostHistory.id.in_(list(post_ids))))
    return list(rows.scalars())


async def group_choices(session: AsyncSession) -> list[tuple[int, str]]:
    """Every group (id, title) by title, for the list's group filter."""
    rows = await session.execute(select(Group.id, Group.title).order_by(Group.title, Group.id))
    return [(int(group_id), str(title)) for group_id, title in rows.all()]
