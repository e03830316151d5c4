"""The `campaign-check` job (repeatable, every 60 s on the `system` queue):

- scheduled campaigns that are due start (`service.start_campaign`), and one `send-message` job
  per group is enqueued on `bot-tasks` after the commit, with an id derived from campaign and
  group, so enqueueing it again never makes a second job (and the send ledger never a second post);
- posts of campaigns with an auto-delete whose time came are deleted (`delete-messages-bulk`);
- running campaigns are reconciled with the queue: a pending target whose job is gone (lost
  enqueue, Redis restored) is enqueued again under the same id; one whose job finished or gave up
  without an outcome (retries exhausted) fails with the job's reason; a campaign with every target
  done is completed (or failed when nothing was sent).

Each campaign is its own unit of work (`commit` after each).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from pydantic import Field, StrictInt
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.campaign import repository, service
from tgadmin.campaign.service import DeleteOrder, SendOrder
from tgadmin.clock import utcnow
from tgadmin.queue.client import JobOptions, Queues
from tgadmin.queue.context import JobRun
from tgadmin.queue.jobs import Handler, JobData
from tgadmin.queue.names import JobName

log = logging.getLogger(__name__)

Commit = Callable[[], Awaitable[None]]
BULK = 500
# Job states in which the job will not run again by itself: its target must get an outcome now.
GAVE_UP = ("failed", "completed")


class CheckData(JobData):
    limit: StrictInt = Field(default=50, gt=0, le=1000)


async def enqueue_sends(queues: Queues, orders: Sequence[SendOrder]) -> int:
    """Add the send jobs (existing ids are left as they are); returns how many were handed over.
    A Redis failure is logged, not raised: the targets are committed, the next check retries."""
    return await _enqueue(queues, JobName.SEND_MESSAGE, orders)


async def enqueue_deletes(queues: Queues, orders: Sequence[DeleteOrder]) -> int:
    """The auto-deletes that came due (one bulk delete per group's post; the same id each check,
    so a delete still queued or done is not asked for twice)."""
    return await _enqueue(queues, JobName.DELETE_MESSAGES_BULK, orders)


async def _enqueue(queues: Queues, job: JobName, orders: Sequence[SendOrder | DeleteOrder]) -> int:
    queue = queues.queue(job.queue)
    handed = 0
    for start in range(0, len(orders), BULK):
        chunk = orders[start : start + BULK]
        bulk = [
            {
                "name": str(job),
                "data": order.job_data(),
                "opts": JobOptions(job_id=order.job_id).to_bullmq(),
            }
            for order in chunk
        ]
        try:
            await queue.addBulk(bulk)
        except (RedisError, OSError) as error:
            log.error(
                "could not enqueue %d campaign %s job(s): %s; the next check retries", len(chunk), job, error
            )
            return handed
        handed += len(chunk)
    return handed


async def _job_outcome(queues: Queues, job_id: str) -> tuple[str, str | None]:
    """The job's state and, when it failed, why."""
    queue = queues.queue(JobName.SEND_MESSAGE.queue)
    state = str(await queue.getJobState(job_id))
    if state != "failed":
        return state, None
    job = await queue.getJob(job_id)
    return state, (getattr(job, "failedReason", None) or None) if job is not None else None


async def reconcile(
    session: AsyncSession, commit: Commit, queues: Queues, campaign_id: int, now: datetime
) -> Counter[str]:
    """One running campaign against the queue; see the module docstring."""
    tally: Counter[str] = Counter()
    orders = await service.pending_sends(session, campaign_id, now=now)
    await commit()
    lost: list[SendOrder] = []
    for order in orders:
        state, reason = await _job_outcome(queues, order.job_id)
        if state == "unknown":
            lost.append(order)
        elif state in GAVE_UP:
            # Changes nothing if the job recorded its outcome after we read the target.
            why = reason or f"send job {state} without recording the post's outcome"
            if await service.record_post_failed(
                session, campaign_id, order.group_id, f"send failed: {why}", now=now
            ):
                tally["gave_up"] += 1
    finished = await service.finish_if_done(session, campaign_id, now=now)
    if finished is None:
        await service.refresh_counters(session, campaign_id)
    await commit()
    if finished is not None:
        tally[str(finished)] += 1
    if lost:
        log.warning("campaign %s: %d send job(s) lost; enqueued again", campaign_id, len(lost))
        tally["requeued"] += await enqueue_sends(queues, lost)
    return tally


async def check_campaigns(
    session: AsyncSession, commit: Commit, queues: Queues, *, now: datetime | None = None, limit: int = 50
) -> Counter[str]:
    """Start due campaigns, then reconcile running ones; returns what happened, counted."""
    now = now or utcnow()
    tally: Counter[str] = Counter()
    due = await repository.due_ids(session, now, limit)
    await commit()
    for campaign_id in due:
        orders = await service.start_campaign(session, campaign_id, now=now)
        await commit()
        if orders is None:
            continue  # another check started it, or it was cancelled meanwhile
        tally["started"] += 1
        tally["enqueued"] += await enqueue_sends(queues, orders)
    running = await repository.running_ids(session, limit)
    await commit()
    for campaign_id in running:
        tally.update(await reconcile(session, commit, queues, campaign_id, now))
    deletions = await service.due_deletions(session, now=now)
    await commit()
    if deletions:
        tally["deleting"] += await enqueue_deletes(queues, deletions)
    return tally


async def campaign_check(run: JobRun, data: CheckData) -> dict[str, Any]:
    return dict(await check_campaigns(run.session, run.checkpoint, run.ctx.queues, limit=data.limit))


HANDLERS: dict[JobName, Handler[Any]] = {
    JobName.CAMPAIGN_CHECK: Handler(CheckData, campaign_check),
}
