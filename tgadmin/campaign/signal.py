"""Each campaign's run state mirrored in Redis (`{prefix}:campaign:{id}:run` = "status:round"), read
by the send job right before its Telegram call: a Redis read is all that may stand between the
limiter's slot and the request (a database query there delays requests unevenly, and Telegram
answers the bunching with 429). The database stays the truth: each send job checks it when it
starts; this mirror stops the posts already past that check and waiting for the limiter (up to
5 s), so a pause or cancel stops further sends at once. Written after the commit that changed the
status; a missing key says nothing (the job's own check decided)."""

from __future__ import annotations

from redis.asyncio import Redis

from tgadmin.models.enums import CampaignStatus

TTL_SECONDS = 7 * 24 * 3600


def key(prefix: str, campaign_id: int) -> str:
    return f"{prefix}:campaign:{campaign_id}:run"


async def publish(redis: Redis, prefix: str, campaign_id: int, status: CampaignStatus, round: int) -> None:
    await redis.set(key(prefix, campaign_id), f"{status.value}:{round}", ex=TTL_SECONDS)


async def stopped(redis: Redis, prefix: str, campaign_id: int, round: int) -> str | None:
    """Why a post of this round must not go now, or None."""
    raw = await redis.get(key(prefix, campaign_id))
    if raw is None:
        return None
    status, _, current = (raw.decode() if isinstance(raw, bytes) else str(raw)).partition(":")
    if status != CampaignStatus.RUNNING.value:
        return f"campaign {campaign_id} is {status}"
    if current != str(round):
        return f"campaign {campaign_id} was resumed: round {current} sends this post"
    return None
