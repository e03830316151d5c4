"""Post history rules: what the platform sent to each group, and what became of it.

A message is `deleted` only when Telegram deleted it (or reports it already gone), `undeletable`
when Telegram refuses (48 hours passed, or no right to); nothing else changes a row's status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.clock import utcnow
from tgadmin.group import service as group_service
from tgadmin.models import Group, PostHistory
from tgadmin.models.enums import PostKind, PostStatus
from tgadmin.post import repository
from tgadmin.post.repository import ClearFilter

EXCERPT_LENGTH = 200
# Telegram's rule: a bot cannot delete a message older than 48 hours, in any chat type.
DELETE_WINDOW = timedelta(hours=48)


async def record_sent(
    session: AsyncSession,
    group: Group,
    *,
    chat_id: int,
    message_id: int,
    kind: PostKind,
    text: str | None,
    job_id: str | None,
    campaign_id: int | None = None,
) -> PostHistory:
    """One PostHistory row per message sent to a group (idempotent on the message), and the
    group's `last_message_id` moved forward."""
    existing = await repository.by_message(session, group.id, message_id)
    if existing is not None:
        return existing
    row = PostHistory(
        group_id=group.id,
        chat_id=chat_id,
        message_id=message_id,
        kind=kind,
        excerpt=(text or "")[:EXCERPT_LENGTH] or None,
        status=PostStatus.SENT,
        sent_at=utcnow(),
        job_id=job_id,
        campaign_id=campaign_id,
    )
    session.add(row)
    await session.flush()
    await group_service.note_message_sent(session, group.id, message_id)
    return row


@dataclass
class DeleteOutcome:
    deleted: list[int] = field(default_factory=list)
    undeletable: list[int] = field(default_factory=list)
    api_calls: int = 0
    errors: dict[int, str] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        return {
            "deleted": len(self.deleted),
            "undeletable": len(self.undeletable),
            "failed": len(self.errors),
            "apiCalls": self.api_calls,
        }


async def apply_outcome(session: AsyncSession, group: Group | None, outcome: DeleteOutcome) -> None:
    """Write what Telegram did into PostHistory (rows of other chats are not touched)."""
    if group is None:
        return
    now = utcnow()
    if outcome.deleted:
        await repository.set_status(session, group.id, outcome.deleted, PostStatus.DELETED, deleted_at=now)
    if outcome.undeletable:
        await repository.set_status(
            session,
            group.id,
            outcome.undeletable,
            PostStatus.UNDELETABLE,
            error="Telegram: message can't be deleted",
        )


async def split_by_age(
    session: AsyncSession, group: Group | None, message_ids: Sequence[int]
) -> tuple[list[int], list[int]]:
    """(probably deletable, known to be older than 48 h). Telegram still decides for both; keeping
    the old ones apart stops one stale id from failing a whole batch of fresh ones."""
    if group is None:
        return list(message_ids), []
    sent = await repository.sent_at_of(session, group.id, message_ids)
    limit = utcnow() - DELETE_WINDOW
    old = [m for m in message_ids if m in sent and sent[m] < limit]
    old_set = set(old)
    return [m for m in message_ids if m not in old_set], old


async def clear_candidates(session: AsyncSession, group: Group, where: ClearFilter) -> list[int]:
    return await repository.deletable_ids(session, group.id, where)
