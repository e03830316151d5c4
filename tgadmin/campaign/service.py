"""Campaigns: one post (text, buttons) to a set of groups at a scheduled time.

Lifecycle, decided only by `TRANSITIONS` below:

    draft -> scheduled -> running -> completed   (at least one group got the post)
                                  -> failed      (no group did)
    draft | scheduled | running -> cancelled

Operators create, schedule and cancel (the dashboard calls these). The `campaign-check` job starts
due campaigns (`start_campaign`: one conditional UPDATE, so two checks start a campaign once) and
creates one `CampaignTarget` per group; the `send-message` job reports each post's outcome
(`record_post_sent` / `record_post_failed`). A target leaves `pending` once, by a conditional
UPDATE, and only that moves the counters, so a retried or redelivered job never counts twice.

Functions flush, never commit. What must be enqueued is returned (`SendOrder`); the session owner
enqueues it after its commit. Every status change writes an AuditLog row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.campaign import repository
from tgadmin.campaign.schemas import CampaignContent, CampaignCreate
from tgadmin.clock import ensure_utc, utcnow
from tgadmin.errors import BadRequest, Conflict, InvalidTransition, NotFound
from tgadmin.models import Campaign, CampaignTarget, Group
from tgadmin.models.enums import ActorType, CampaignStatus, CampaignTargetStatus

C = CampaignStatus

TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    C.DRAFT: frozenset({C.SCHEDULED, C.CANCELLED}),
    C.SCHEDULED: frozenset({C.RUNNING, C.CANCELLED}),
    C.RUNNING: frozenset({C.COMPLETED, C.FAILED, C.CANCELLED}),
    C.COMPLETED: frozenset(),
    C.FAILED: frozenset(),
    C.CANCELLED: frozenset(),
}

SYSTEM = Actor.system("campaign check")
REASON_LENGTH = 255
MEDIA_NOT_SUPPORTED = (
    "media campaigns cannot be posted yet (the post jobs send text only): remove the media and schedule again"
)
CANCELLED_REASON = "campaign cancelled before this group's post was sent"


def can_transition(current: CampaignStatus, new: CampaignStatus) -> bool:
    return new in TRANSITIONS[current]


def ensure_transition(
    current: CampaignStatus, new: CampaignStatus, *, campaign_id: int | None = None
) -> None:
    if not can_transition(current, new):
        name = "campaign" if campaign_id is None else f"campaign {campaign_id}"
        raise InvalidTransition(
            f"{name} cannot go from {current.value} to {new.value}",
            details={"from": current.value, "to": new.value},
        )


def allowed_sources(new: CampaignStatus) -> frozenset[CampaignStatus]:
    """Statuses from which `new` may be reached: the WHERE clause of a conditional update."""
    return frozenset(src for src, targets in TRANSITIONS.items() if new in targets)


def send_job_id(campaign_id: int, group_id: int) -> str:
    """The send job's id: enqueueing a campaign's post to a group twice yields one job."""
    return f"campaign-{campaign_id}-group-{group_id}"


@dataclass(frozen=True)
class SendOrder:
    """One `send-message` job to enqueue after the commit that created its target."""

    campaign_id: int
    group_id: int
    chat_id: int
    content: CampaignContent

    @property
    def job_id(self) -> str:
        return send_job_id(self.campaign_id, self.group_id)

    def job_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "chatId": self.chat_id,
            "groupDbId": self.group_id,
            "campaignId": self.campaign_id,
            "text": self.content.text,
        }
        if self.content.parse_mode:
            data["parseMode"] = self.content.parse_mode
        if self.content.buttons:
            rows = [[{"text": b.text, "url": b.url}] for b in self.content.buttons]
            data["replyMarkup"] = {"inline_keyboard": rows}
        return data


def _snapshot(campaign: Campaign) -> dict[str, Any]:
    return {
        "status": campaign.status.value,
        "scheduled_at": None if campaign.scheduled_at is None else campaign.scheduled_at.isoformat(),
        "total": campaign.total,
        "sent": campaign.sent,
        "failed": campaign.failed,
    }


# --- operators ----------------------------------------------------------------------------------


async def get_campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await repository.get(session, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign with id {campaign_id}")
    return campaign


async def campaign_targets(session: AsyncSession, campaign_id: int) -> list[CampaignTarget]:
    """Each group's outcome (empty until the campaign starts)."""
    return list(await repository.targets(session, campaign_id))


async def create_campaign(session: AsyncSession, actor: Actor, data: CampaignCreate) -> Campaign:
    """A draft; scheduled at once when `data.scheduled_at` is given."""
    campaign = Campaign(
        name=data.name,
        content=data.content.stored(),
        group_ids=list(data.group_ids),
        scheduled_at=None,
        status=CampaignStatus.DRAFT,
        total=0,
        sent=0,
        failed=0,
        created_by=int(actor.id) if actor.type is ActorType.OPERATOR and actor.id else None,
    )
    session.add(campaign)
    await session.flush()
    await record(session, actor, "campaign.created", "campaign", campaign.id, after=_snapshot(campaign))
    if data.scheduled_at is not None:
        return await schedule_campaign(session, actor, campaign.id, data.scheduled_at)
    return campaign


async def schedule_campaign(
    session: AsyncSession, actor: Actor, campaign_id: int, at: datetime | None = None
) -> Campaign:
    """Post at `at` (now when omitted; a past time means at the next check)."""
    campaign = await get_campaign(session, campaign_id)
    ensure_transition(campaign.status, CampaignStatus.SCHEDULED, campaign_id=campaign.id)
    _, refusal = _postable(campaign.content)
    if refusal is not None:
        raise BadRequest(f"campaign {campaign.id} cannot be scheduled: {refusal}")
    when = utcnow() if at is None else ensure_utc(at)
    return await _move(
        session, actor, campaign, CampaignStatus.SCHEDULED, "campaign.scheduled", scheduled_at=when
    )


async def cancel_campaign(session: AsyncSession, actor: Actor, campaign_id: int) -> Campaign:
    """Stop a campaign: never started if it was not yet; if running, groups not yet posted to are
    failed with the reason (a post already on its way to Telegram may still land)."""
    campaign = await get_campaign(session, campaign_id)
    ensure_transition(campaign.status, CampaignStatus.CANCELLED, campaign_id=campaign.id)
    now = utcnow()
    # Targets before the campaign row: the lock order of the send jobs (no deadlock on PostgreSQL).
    failed = await repository.fail_all_pending(session, campaign.id, CANCELLED_REASON, now)
    campaign = await _move(
        session, actor, campaign, CampaignStatus.CANCELLED, "campaign.cancelled", finished_at=now
    )
    # A check that started the campaign while we cancelled it created targets after our first pass.
    failed += await repository.fail_all_pending(session, campaign.id, CANCELLED_REASON, now)
    if failed:
        await repository.add_to_counters(session, campaign.id, failed=failed)
        await session.refresh(campaign)
    return campaign


async def _move(
    session: AsyncSession, actor: Actor, campaign: Campaign, new: CampaignStatus, action: str, **values: Any
) -> Campaign:
    before = _snapshot(campaign)
    if not await repository.change_status(session, campaign.id, new, allowed_sources(new), **values):
        # Someone else moved it meanwhile (the check started it, another operator cancelled it).
        current = await get_campaign(session, campaign.id)
        ensure_transition(current.status, new, campaign_id=campaign.id)
        raise Conflict(f"campaign {campaign.id} changed meanwhile: try again")
    await session.refresh(campaign)
    await record(session, actor, action, "campaign", campaign.id, before=before, after=_snapshot(campaign))
    return campaign


# --- the campaign check ---------------------------------------------------------------------------


def _content(raw: dict[str, Any]) -> CampaignContent | str:
    try:
        return CampaignContent.model_validate(raw)
    except ValidationError as error:
        return f"campaign content is not valid: {error.errors()[0]['msg']}"


def _postable(raw: dict[str, Any]) -> tuple[CampaignContent | None, str | None]:
    """The content if this version can post it, else why not."""
    content = _content(raw)
    if isinstance(content, str):
        return None, content
    if content.media_asset_id is not None:
        return None, MEDIA_NOT_SUPPORTED
    return content, None


def _unreachable(group_id: int, group: Group | None) -> str | None:
    if group is None:
        return f"group {group_id} no longer exists"
    if not group.is_active:
        return f"group {group_id} ({group.title}) is inactive: {group.deactivated_reason or 'deactivated'}"
    return None


async def start_campaign(
    session: AsyncSession, campaign_id: int, *, now: datetime | None = None
) -> list[SendOrder] | None:
    """Start a due scheduled campaign: running, one target per group, totals set.

    Returns the sends to enqueue after the commit, or None when the campaign was not started here
    (not due, cancelled, or another check started it first). Groups that are gone or inactive, and
    content this version cannot post, make failed targets with the reason."""
    now = now or utcnow()
    started = await repository.change_status(
        session,
        campaign_id,
        CampaignStatus.RUNNING,
        allowed_sources(CampaignStatus.RUNNING),
        due_by=now,
        started_at=now,
    )
    if not started:
        return None
    campaign = await get_campaign(session, campaign_id)
    content, refusal = _postable(campaign.content)
    groups = await repository.groups_by_id(session, campaign.group_ids)
    orders: list[SendOrder] = []
    group_ids = list(dict.fromkeys(campaign.group_ids))
    for group_id in group_ids:
        group = groups.get(group_id)
        reason = refusal or _unreachable(group_id, group)
        session.add(
            CampaignTarget(
                campaign_id=campaign.id,
                group_id=group_id,
                status=CampaignTargetStatus.FAILED if reason else CampaignTargetStatus.PENDING,
                reason=None if reason is None else reason[:REASON_LENGTH],
                finished_at=now if reason else None,
            )
        )
        if reason is None and group is not None and content is not None:
            orders.append(SendOrder(campaign.id, group_id, group.telegram_id, content))
    await session.flush()
    await repository.set_totals(
        session, campaign.id, total=len(group_ids), failed=len(group_ids) - len(orders)
    )
    await session.refresh(campaign)
    after = _snapshot(campaign) | ({"reason": refusal} if refusal else {})
    await record(
        session,
        SYSTEM,
        "campaign.started",
        "campaign",
        campaign.id,
        before={"status": "scheduled"},
        after=after,
    )
    await finish_if_done(session, campaign.id, now=now)
    return orders


async def pending_sends(
    session: AsyncSession, campaign_id: int, *, now: datetime | None = None
) -> list[SendOrder]:
    """The sends of a running campaign still waiting for an outcome (to re-enqueue lost jobs; the
    same job id makes that harmless when the job exists). Targets whose group row is gone fail."""
    campaign = await repository.get(session, campaign_id)
    if campaign is None or campaign.status is not CampaignStatus.RUNNING:
        return []
    content, refusal = _postable(campaign.content)
    orders: list[SendOrder] = []
    for group_id, group in await repository.pending_targets(session, campaign_id):
        if content is None or group is None:
            reason = refusal or f"group {group_id} no longer exists"
            await record_post_failed(session, campaign_id, group_id, reason, now=now)
            continue
        orders.append(SendOrder(campaign_id, group_id, group.telegram_id, content))
    return orders


async def check_post(session: AsyncSession, campaign_id: int, group_id: int) -> str | None:
    """Before a campaign's post is sent: None when it may go, else why not. A pending target of a
    campaign no longer running (cancelled as it started) fails with that reason."""
    status = await repository.status_of(session, campaign_id)
    target = await repository.target_status(session, campaign_id, group_id)
    if status is None or target is None:
        return f"group {group_id} is not a target of campaign {campaign_id}"
    if target is not CampaignTargetStatus.PENDING:
        return f"campaign {campaign_id} already recorded group {group_id} as {target.value}"
    if status is not CampaignStatus.RUNNING:
        reason = f"campaign {campaign_id} is {status.value}"
        await record_post_failed(session, campaign_id, group_id, reason)
        return reason
    return None


async def record_post_sent(
    session: AsyncSession, campaign_id: int, group_id: int, message_id: int, *, now: datetime | None = None
) -> bool:
    """The post reached the group: the target is sent and `sent` moves, once. False if the target
    already had its outcome (a retried or redelivered job)."""
    return await _outcome(
        session, campaign_id, group_id, CampaignTargetStatus.SENT, now=now, message_id=message_id
    )


async def record_post_failed(
    session: AsyncSession, campaign_id: int, group_id: int, reason: str, *, now: datetime | None = None
) -> bool:
    """The post will not reach the group: the target is failed with the reason and `failed` moves, once."""
    return await _outcome(
        session, campaign_id, group_id, CampaignTargetStatus.FAILED, now=now, reason=reason[:REASON_LENGTH]
    )


async def _outcome(
    session: AsyncSession,
    campaign_id: int,
    group_id: int,
    status: CampaignTargetStatus,
    *,
    now: datetime | None,
    message_id: int | None = None,
    reason: str | None = None,
) -> bool:
    now = now or utcnow()
    moved = await repository.leave_pending(
        session, campaign_id, group_id, status, now=now, message_id=message_id, reason=reason
    )
    if not moved:
        return False
    sent, failed = (1, 0) if status is CampaignTargetStatus.SENT else (0, 1)
    if await repository.add_to_counters(session, campaign_id, sent=sent, failed=failed) <= 0:
        await finish_if_done(session, campaign_id, now=now)
    return True


async def finish_if_done(
    session: AsyncSession, campaign_id: int, *, now: datetime | None = None
) -> CampaignStatus | None:
    """A running campaign with every target done becomes completed, or failed if none was sent."""
    sources = allowed_sources(CampaignStatus.COMPLETED) & allowed_sources(CampaignStatus.FAILED)
    new = await repository.finish_if_done(session, campaign_id, sources, now or utcnow())
    if new is not None:
        campaign = await get_campaign(session, campaign_id)
        await record(
            session,
            SYSTEM,
            f"campaign.{new.value}",
            "campaign",
            campaign_id,
            before={"status": "running"},
            after=_snapshot(campaign),
        )
    return new
