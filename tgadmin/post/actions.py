"""The operator's actions on post history, shared by the pages and the JSON API: bulk delete and
clear with filters. Each is audited in the request's unit of work and runs as a job, enqueued once
that unit of work committed; the job ids are chosen here so the answer can name them at once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.db import AfterCommit
from tgadmin.errors import Conflict
from tgadmin.models import Operator
from tgadmin.post import service
from tgadmin.post.jobs import ClearAllMessagesData, DeleteMessagesBulkData
from tgadmin.post.service import ClearAsk, ClearCount
from tgadmin.queue.client import Queues
from tgadmin.queue.names import JobName, QueueName

QUEUE = QueueName.BOT_TASKS


@dataclass(frozen=True)
class Queued:
    """One job started for one group."""

    group_id: int
    job_id: str
    messages: int


def actor_of(operator: Operator, ip: str | None = None) -> Actor:
    return Actor.operator(operator.id, operator.email, ip)


def _job_id(kind: str) -> str:
    # Not a bare number: BullMQ takes numeric ids for its own counter.
    return f"{kind}-{uuid.uuid4().hex}"


def _enqueue_later(
    after_commit: AfterCommit, queues: Queues, job: JobName, data: dict[str, object], job_id: str
) -> None:
    async def enqueue() -> None:
        await queues.enqueue(job, data, job_id=job_id)

    after_commit.add(enqueue)


async def delete_posts(
    session: AsyncSession, after_commit: AfterCommit, queues: Queues, actor: Actor, post_ids: Sequence[int]
) -> list[Queued]:
    """One `delete-messages-bulk` job per group of the selected posts (a delete is per chat)."""
    queued = []
    for chosen in await service.select_for_delete(session, post_ids):
        group = chosen.group
        job_id = _job_id("delete")
        data = DeleteMessagesBulkData(
            chatId=group.telegram_id, messageIds=chosen.message_ids, groupDbId=group.id
        )
        await record(
            session,
            actor,
            "post.bulk_delete_requested",
            "group",
            group.id,
            after={"message_ids": chosen.message_ids, "job_id": job_id},
        )
        _enqueue_later(
            after_commit, queues, JobName.DELETE_MESSAGES_BULK, data.model_dump(mode="json"), job_id
        )
        queued.append(Queued(group.id, job_id, len(chosen.message_ids)))
    return queued


async def count_clear(session: AsyncSession, group_id: int, ask: ClearAsk) -> ClearCount:
    """What clearing would delete now (refused like the clear itself when it could not run)."""
    where = service.clear_filter(ask)
    group = await service.clearable_group(session, group_id)
    service.check_reachable(group)
    return await service.count_clear(session, group, where)


async def clear_group(
    session: AsyncSession,
    after_commit: AfterCommit,
    queues: Queues,
    actor: Actor,
    group_id: int,
    ask: ClearAsk,
) -> tuple[Queued, ClearCount]:
    """One `clear-all-messages` job; refused when nothing matches (nothing is enqueued)."""
    where = service.clear_filter(ask)
    group = await service.clearable_group(session, group_id)
    service.check_reachable(group)
    counted = await service.count_clear(session, group, where)
    if counted.matched == 0:
        raise Conflict(f"no message of {group.title!r} still shown matches these filters: nothing to delete")
    job_id = _job_id("clear")
    data = ClearAllMessagesData(
        chatId=group.telegram_id,
        groupDbId=group.id,
        fromMessageId=ask.from_message_id,
        toMessageId=ask.to_message_id,
        olderThanDays=ask.older_than_days,
        fromDate=None if where.sent_from is None else where.sent_from,
        toDate=None if where.sent_to is None else where.sent_to,
    )
    await record(
        session,
        actor,
        "post.clear_requested",
        "group",
        group.id,
        after={
            **ask.described(),
            "matched": counted.matched,
            "past_48_hours": counted.past_window,
            "job_id": job_id,
        },
    )
    _enqueue_later(
        after_commit,
        queues,
        JobName.CLEAR_ALL_MESSAGES,
        data.model_dump(mode="json", exclude_none=True),
        job_id,
    )
    return Queued(group.id, job_id, counted.matched), counted
