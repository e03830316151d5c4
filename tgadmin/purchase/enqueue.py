"""The enqueue side of delivery: a paid purchase becomes a `deliver-purchase` job, a refunded one a
`revoke-access` job, a pack asked for again in /mypurchases a `resend-purchase` job.

Session owners (request dependency, job wrapper, bot middleware) call a `DeliveryHook` AFTER their
commit, never inside the unit of work, so the worker always finds the purchase paid. The job id is
derived from the purchase, so enqueueing twice yields one job; a hook that failed (Redis down) is
made up for by the poll job, which enqueues `undelivered_paid` purchases again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, runtime_checkable

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.purchase import history, repository
from tgadmin.queue.client import Queues
from tgadmin.queue.names import JobName

log = logging.getLogger(__name__)


def delivery_job_id(purchase_id: int) -> str:
    return f"deliver-purchase-{purchase_id}"


def revocation_job_id(purchase_id: int) -> str:
    return f"revoke-access-{purchase_id}"


async def revoke_access(queues: Queues, purchase_ids: Iterable[int]) -> None:
    """After a refund's commit: one `revoke-access` job per refunded purchase (same id: one job)."""
    for purchase_id in purchase_ids:
        try:
            await queues.enqueue(
                JobName.REVOKE_ACCESS, {"purchaseId": purchase_id}, job_id=revocation_job_id(purchase_id)
            )
        except (RedisError, OSError) as error:
            # The refund is committed; the subscription sweep ends the access of refunded purchases.
            log.error("could not enqueue the end of access of purchase %s: %s", purchase_id, error)


class DeliveryHook(Protocol):
    async def __call__(self, purchase_ids: Iterable[int]) -> None: ...


@runtime_checkable
class Resender(Protocol):
    async def resend(self, purchase_id: int, stamp: int) -> bool: ...


class QueueDeliveries:
    """The production hook: one `deliver-purchase` job per purchase on `bot-tasks`; and, for
    /mypurchases, one `resend-purchase` job per resend (a `Resender`)."""

    def __init__(self, queues: Queues) -> None:
        self.queues = queues

    async def __call__(self, purchase_ids: Iterable[int]) -> None:
        for purchase_id in purchase_ids:
            try:
                await self.queues.enqueue(
                    JobName.DELIVER_PURCHASE,
                    {"purchaseId": purchase_id},
                    job_id=delivery_job_id(purchase_id),
                )
            except (RedisError, OSError) as error:
                # The payment is committed; the poll job re-enqueues undelivered purchases.
                log.error("could not enqueue delivery of purchase %s: %s", purchase_id, error)

    async def resend(self, purchase_id: int, stamp: int) -> bool:
        """After the commit that claimed the resend `stamp` (history.claim_resend): False, logged,
        when Redis refused (the buyer may ask again after the hour)."""
        try:
            await self.queues.enqueue(
                JobName.RESEND_PURCHASE,
                {"purchaseId": purchase_id, "stamp": stamp},
                job_id=history.resend_job_id(purchase_id, stamp),
            )
        except (RedisError, OSError) as error:
            log.error("could not enqueue the resend of purchase %s: %s", purchase_id, error)
            return False
        return True


async def undelivered_paid(session: AsyncSession, paid_before: datetime, limit: int) -> list[int]:
    """Purchases paid before `paid_before` and still not delivered: their delivery job may have been
    lost, so they are to be enqueued again (same job id: never delivered twice)."""
    return await repository.undelivered_paid(session, paid_before, limit)
