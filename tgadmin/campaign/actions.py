"""What the campaign page and the JSON API both do (thin callers of the service): each function
takes the request's unit of work and leaves the enqueueing to after its commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor
from tgadmin.campaign import jobs, repository, service, signal
from tgadmin.campaign.schemas import CampaignContent, CampaignCreate
from tgadmin.clock import utcnow
from tgadmin.db import AfterCommit
from tgadmin.models import Campaign, CampaignTarget, Group, Operator
from tgadmin.models.enums import CampaignStatus, CampaignTargetStatus
from tgadmin.queue.client import Queues
from tgadmin.queue.names import JobName
from tgadmin.webkit.deps import AppState

PER_PAGE = 50


def actor_of(operator: Operator, ip: str | None = None) -> Actor:
    return Actor.operator(operator.id, operator.email, ip)


def in_zone_of(data: CampaignCreate, operator: Operator) -> CampaignCreate:
    """Times of day are the operator's own unless the caller named a zone."""
    if data.repeat_timezone is not None:
        return data
    return data.model_copy(update={"repeat_timezone": operator.time_zone})


def _check_soon(after_commit: AfterCommit, queues: Queues, campaign: Campaign) -> None:
    """A campaign due now starts at once rather than at the next minute's check."""
    if campaign.scheduled_at is None or campaign.scheduled_at > utcnow():
        return

    async def enqueue() -> None:
        await queues.enqueue(JobName.CAMPAIGN_CHECK, {}, job_id=f"campaign-start-{campaign.id}")

    after_commit.add(enqueue)


async def create(
    session: AsyncSession, after_commit: AfterCommit, queues: Queues, actor: Actor, data: CampaignCreate
) -> Campaign:
    """A campaign from the page or the API: checked, created and scheduled (now when no time)."""
    service.check_schedule(data)
    if data.scheduled_at is None:
        data = data.model_copy(update={"scheduled_at": utcnow()})
    campaign = await service.create_campaign(session, actor, data)
    _check_soon(after_commit, queues, campaign)
    return campaign


async def send_test(
    session: AsyncSession, after_commit: AfterCommit, queues: Queues, content: CampaignContent, group_id: int
) -> str:
    """Send the composed post to one (test) group now; returns the job's id to follow."""
    order = await service.send_test(session, content, group_id)
    job_id = f"campaign-test-{uuid.uuid4().hex[:12]}"

    async def enqueue() -> None:
        await queues.enqueue(JobName.SEND_MESSAGE, order.job_data(), job_id=job_id)

    after_commit.add(enqueue)
    return job_id


def _announce(after_commit: AfterCommit, redis: Redis | None, prefix: str, campaign: Campaign) -> None:
    """Once committed, the send jobs already waiting for the limiter learn the new state."""
    if redis is None:
        return
    state = (campaign.id, campaign.status, campaign.round)

    async def publish() -> None:
        await signal.publish(redis, prefix, *state)

    after_commit.add(publish)


async def pause(
    session: AsyncSession, after_commit: AfterCommit, state: AppState, actor: Actor, campaign_id: int
) -> Campaign:
    campaign = await service.pause_campaign(session, actor, campaign_id)
    _announce(after_commit, state.redis, state.settings.redis_prefix, campaign)
    return campaign


async def resume(
    session: AsyncSession, after_commit: AfterCommit, state: AppState, actor: Actor, campaign_id: int
) -> Campaign:
    campaign, orders = await service.resume_campaign(session, actor, campaign_id)
    _announce(after_commit, state.redis, state.settings.redis_prefix, campaign)
    queues = state.queues

    async def enqueue() -> None:
        await jobs.enqueue_sends(queues, orders)

    after_commit.add(enqueue)
    return campaign


async def cancel(
    session: AsyncSession, after_commit: AfterCommit, state: AppState, actor: Actor, campaign_id: int
) -> Campaign:
    campaign = await service.cancel_campaign(session, actor, campaign_id)
    _announce(after_commit, state.redis, state.settings.redis_prefix, campaign)
    return campaign


@dataclass(frozen=True)
class TargetRow:
    group_id: int
    title: str | None
    status: CampaignTargetStatus
    message_id: int | None
    reason: str | None


@dataclass(frozen=True)
class Progress:
    campaign: Campaign
    targets: list[TargetRow]

    def count(self, status: CampaignTargetStatus) -> int:
        return sum(1 for t in self.targets if t.status is status)


def _row(target: CampaignTarget, title: str | None) -> TargetRow:
    return TargetRow(target.group_id, title, target.status, target.message_id, target.reason)


async def progress(session: AsyncSession, campaign_id: int) -> Progress:
    """The campaign and each group's outcome so far."""
    campaign = await service.get_campaign(session, campaign_id)
    rows = await repository.targets_with_titles(session, campaign_id)
    return Progress(campaign, [_row(target, title) for target, title in rows])


async def listing(session: AsyncSession, page: int) -> tuple[list[Campaign], int, dict[int, dict[str, int]]]:
    """A page of campaigns, and for those still running or paused their targets per status now
    (their stored counters are refreshed only at each check)."""
    items, total = await repository.page(session, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    live = [c.id for c in items if c.status in (CampaignStatus.RUNNING, CampaignStatus.PAUSED)]
    return items, total, await repository.live_counts(session, live)


async def choices(session: AsyncSession) -> tuple[list[Group], list[str]]:
    """What the compose form offers: the groups and the tags in use."""
    return await repository.group_choices(session), await repository.all_tags(session)
