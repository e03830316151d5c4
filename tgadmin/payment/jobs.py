"""Queue handlers of the payment domain (repeatable, on the `system` queue):

- `pix-expiry-sweep`: charges past `pix_expires_at` are re-checked at the PSP (paid: confirmed),
  else cancelled there and expired here (an API Pix charge stays ATIVA after its expiry).
- `pix-poll`: pending charges are asked about with backoff, for notifications that never came;
  paid purchases whose delivery job may have been lost are enqueued again (same job id: no double).

Each charge is its own unit of work (`commit` after each), and its delivery is enqueued after
that commit. The worker registers them by their `HANDLERS`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field, StrictInt
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.clock import utcnow
from tgadmin.payment import expiry, refunds, repository, service
from tgadmin.pix.providers import get_provider
from tgadmin.pix.providers.base import PixProvider
from tgadmin.purchase import enqueue
from tgadmin.purchase.enqueue import DeliveryHook, QueueDeliveries
from tgadmin.queue.context import JobRun
from tgadmin.queue.jobs import Handler, JobData
from tgadmin.queue.names import JobName

log = logging.getLogger(__name__)

Commit = Callable[[], Awaitable[None]]
# A paid purchase still undelivered after this long gets its delivery job enqueued again.
REDELIVER_AFTER = timedelta(minutes=5)


class SweepData(JobData):
    limit: StrictInt = Field(default=200, gt=0, le=5000)


async def sweep_expired(
    session: AsyncSession,
    provider: PixProvider,
    commit: Commit,
    deliver: DeliveryHook,
    *,
    now: datetime | None = None,
    limit: int = 200,
) -> Counter[str]:
    """Expire every due charge of this provider; returns how many ended how."""
    now = now or utcnow()
    due = await repository.due_for_expiry(session, provider.name, now, limit)
    await commit()
    tally: Counter[str] = Counter()
    for transaction_id in due:
        outcome = await expiry.expire_charge(session, provider, transaction_id, now=now)
        await commit()
        await deliver(outcome.deliver)
        tally[outcome.result.value] += 1
    return tally


async def poll_pending(
    session: AsyncSession,
    provider: PixProvider,
    commit: Commit,
    deliver: DeliveryHook,
    *,
    now: datetime | None = None,
    limit: int = 200,
) -> Counter[str]:
    """Ask the PSP about pending charges and refunds whose poll is due; re-enqueue lost deliveries.

    One charge whose answer fails (a PSP bug, a status nobody knows) is logged and backs off; every
    other charge is still asked, and the redelivery step always runs."""
    now = now or utcnow()
    tally: Counter[str] = Counter()
    handed: set[int] = set()
    if provider.name != service.STATIC_PROVIDER:  # a static code has no PSP to ask
        due = await repository.due_for_poll(session, provider.name, now, limit)
        refund_checks = await repository.due_refund_checks(session, provider.name, now, limit)
        await commit()
        for transaction_id, seen in due:
            outcome = await _isolated(
                session, commit, transaction_id, seen, now, expiry.poll_charge, provider
            )
            await deliver(outcome.deliver)
            handed.update(outcome.deliver)
            tally[outcome.result.value] += 1
        for transaction_id, seen in refund_checks:
            outcome = await _isolated(
                session, commit, transaction_id, seen, now, refunds.poll_refund, provider
            )
            tally[f"refund_{outcome.result.value}"] += 1
    paid_before = now - REDELIVER_AFTER
    stranded = [p for p in await enqueue.undelivered_paid(session, paid_before, limit) if p not in handed]
    await commit()
    await deliver(stranded)
    tally["redelivered"] = len(stranded)
    return tally


async def _isolated(
    session: AsyncSession,
    commit: Commit,
    transaction_id: int,
    seen: int,
    now: datetime,
    step: Callable[..., Awaitable[service.Outcome]],
    provider: PixProvider,
) -> service.Outcome:
    """One poll as its own unit of work; an unexpected error is logged, rolled back, and backs off."""
    try:
        outcome = await step(session, provider, transaction_id, seen, now=now)
        await commit()
        return outcome
    except Exception:
        log.exception("polling transaction %s failed; it is asked again later", transaction_id)
        await session.rollback()
    await repository.back_off_poll(session, transaction_id, seen, now + service.poll_delay(seen + 1))
    await commit()
    return service.Outcome(service.Result.FAILED, transaction_id)


async def _with_provider(
    run: JobRun, data: SweepData, step: Callable[..., Awaitable[Counter[str]]]
) -> dict[str, Any]:
    provider = get_provider(run.ctx.settings)
    try:
        tally = await step(
            run.session, provider, run.checkpoint, QueueDeliveries(run.ctx.queues), limit=data.limit
        )
    finally:
        await provider.aclose()
    return dict(tally)


async def pix_expiry_sweep(run: JobRun, data: SweepData) -> dict[str, Any]:
    return await _with_provider(run, data, sweep_expired)


async def pix_poll(run: JobRun, data: SweepData) -> dict[str, Any]:
    return await _with_provider(run, data, poll_pending)


HANDLERS: dict[JobName, Handler[Any]] = {
    JobName.PIX_EXPIRY_SWEEP: Handler(SweepData, pix_expiry_sweep),
    JobName.PIX_POLL: Handler(SweepData, pix_poll),
}
