"""The `subscription-sweep` job (repeatable, every minute on the `subscriptions` queue) and the sweep
that `tgadmin subscriptions sweep` runs once.

A sweep sends the 7-day warnings, then the 1-day ones (`warning`), ends the access of refunded
purchases, then expires what has run out (`ending`; see `service` for the rules), reading due
purchases in pages of `SUBSCRIPTION_BATCH_SIZE`. Each purchase is its own unit of work,
committed on its own; the transactions never span a Telegram call with a read before it, so
SQLite's single writer is never held waiting on Telegram by a transaction that may not upgrade.
Every Bot API call goes through the gateway (limits, 429 pauses, deactivation of buyers who
blocked the bot). A purchase whose expiry fails on a
recoverable error (5xx, network, revoked token) is rolled back and counted as a failure: the next
sweep tries it again. When Telegram asks us to wait (429 / limiter), the sweep stops early with what
it has done; the next one, a minute later, goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pydantic import Field, StrictInt
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import metrics
from tgadmin.clock import utcnow
from tgadmin.queue.context import JobRun
from tgadmin.queue.jobs import Handler, JobData
from tgadmin.queue.names import JobName
from tgadmin.subscription import ending, repository, service, warning
from tgadmin.subscription.context import Commit, SweepContext
from tgadmin.subscription.repository import Due
from tgadmin.subscription.service import SweepSummary, WarningKind
from tgadmin.telegram.errors import Reschedule
from tgadmin.telegram.gateway import Gateway

log = logging.getLogger(__name__)


class SweepData(JobData):
    batchSize: StrictInt | None = Field(None, gt=0, le=1000)  # noqa: N815 - job fields are camelCase


async def _each(
    ctx: SweepContext,
    fetch: Callable[[Due | None], Awaitable[list[Due]]],
    unit: Callable[[Due], Awaitable[None]],
) -> None:
    """Every due row, page by page, each its own unit of work."""
    after: Due | None = None
    while True:
        page = await fetch(after)
        await ctx.commit()  # end the read before any write or Telegram call
        for due in page:
            await unit(due)
        if len(page) < ctx.batch_size:
            return
        after = page[-1]


async def _warnings(ctx: SweepContext, kind: WarningKind) -> None:
    after_, until = kind.window(ctx.now)

    async def fetch(after: Due | None) -> list[Due]:
        return await repository.due(
            ctx.session,
            expires_after=after_,
            expires_until=until,
            unflagged=service.flag_of(kind),
            after=after,
            limit=ctx.batch_size,
        )

    await _each(ctx, fetch, lambda due: warning.warn(ctx, due, kind))


async def _refunds(ctx: SweepContext) -> None:
    after = 0
    while True:
        page = await repository.revocations_due(ctx.session, after=after, limit=ctx.batch_size)
        await ctx.commit()
        for purchase_id in page:
            await ending.revoke(ctx, purchase_id)
        if len(page) < ctx.batch_size:
            return
        after = page[-1]


async def _expiries(ctx: SweepContext) -> None:
    async def fetch(after: Due | None) -> list[Due]:
        return await repository.due(
            ctx.session,
            expires_after=None,
            expires_until=ctx.now,
            unflagged=None,
            after=after,
            limit=ctx.batch_size,
        )

    await _each(ctx, fetch, lambda due: ending.expire(ctx, due))


async def sweep(
    session: AsyncSession,
    gateway: Gateway,
    commit: Commit,
    *,
    now: datetime | None = None,
    batch_size: int = 50,
) -> SweepSummary:
    """One sweep: 7-day warnings, 1-day warnings, refunded purchases still giving access, expiries.
    `commit` ends each unit of work."""
    now = now or utcnow()
    summary = SweepSummary(now)
    ctx = SweepContext(session, gateway, commit, now, batch_size, summary)
    with metrics.timed(metrics.SWEEP_SECONDS):
        try:
            await _warnings(ctx, WarningKind.SEVEN_DAYS)
            await _warnings(ctx, WarningKind.ONE_DAY)
            await _refunds(ctx)
            await _expiries(ctx)
        except Reschedule as later:
            summary.stopped = later.why
            log.info("subscription sweep stopped early: %s", later)
    return summary


async def subscription_sweep(run: JobRun, data: SweepData) -> dict[str, Any]:
    batch = data.batchSize or run.ctx.settings.subscription_batch_size
    summary = await sweep(run.session, run.gateway, run.checkpoint, batch_size=batch)
    return summary.as_dict()


class RevokeData(JobData):
    purchaseId: StrictInt = Field(gt=0)  # noqa: N815 - job fields are camelCase


async def revoke_access(run: JobRun, data: RevokeData) -> dict[str, Any]:
    """`revoke-access` {purchaseId}: a refund's end of access, enqueued after the refund's commit (the
    sweep does the same for any refunded purchase this job missed)."""
    summary = SweepSummary(utcnow())
    ctx = SweepContext(run.session, run.gateway, run.checkpoint, summary.now, 1, summary)
    await ending.revoke(ctx, data.purchaseId)
    return {
        "purchaseId": data.purchaseId,
        "revoked": summary.revoked == 1,
        "failures": summary.failures,
        "messagesDeleted": summary.messages_deleted,
        "messagesUndeletable": summary.messages_undeletable,
        "removedFromChat": summary.removed_from_chat,
    }


HANDLERS: dict[JobName, Handler[Any]] = {
    JobName.SUBSCRIPTION_SWEEP: Handler(SweepData, subscription_sweep),
    JobName.REVOKE_ACCESS: Handler(RevokeData, revoke_access),
}
