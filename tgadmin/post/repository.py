"""All SQL of the post domain (PostHistory)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import PostHistory
from tgadmin.models.enums import PostStatus


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
    ix_post_history_group_status / ix_post_history_group_sent."""
    query = select(PostHistory.message_id).where(
        PostHistory.group_id == group_id, PostHistory.status == PostStatus.SENT
    )
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
    return [int(m) for m in (await session.execute(query.order_by(PostHistory.message_id))).scalars()]
