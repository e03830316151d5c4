"""The enqueue side of promos: a `send-promo` job {creatorId, groupId}, as `tgadmin seed demo --promo`
posts it, asked for by the dashboard once its request (and audit row) is committed."""

from __future__ import annotations

from redis.exceptions import RedisError

from tgadmin.config import Settings
from tgadmin.creator.jobs import SendPromoData
from tgadmin.errors import ConfigError, ServiceUnavailable
from tgadmin.queue.client import Queues
from tgadmin.queue.names import JobName


async def enqueue_promo(settings: Settings, creator_id: int, group_id: int, job_id: str) -> str:
    """Queue the promo under `job_id` (the same id twice is one job); returns the job's id."""
    data = SendPromoData(creatorId=creator_id, groupId=group_id)
    try:
        queues = Queues(settings)
    except ConfigError as error:
        raise ServiceUnavailable(f"the promo was not queued: {error.message}") from None
    try:
        return await queues.enqueue(JobName.SEND_PROMO, data.model_dump(), job_id=job_id)
    except (RedisError, OSError) as error:
        raise ServiceUnavailable(
            f"the promo was not queued, Redis did not answer ({error}); try again"
        ) from None
    finally:
        await queues.close()
